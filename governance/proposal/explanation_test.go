package proposal_test

import (
	"context"
	"testing"

	"cla/catalog"
	"cla/governance/proposal"
)

// A proposal on a register item keeps the public explanation of the new
// status (issue 20); a proposal on something else drops it.
func TestProposalKeepsItsRegisterExplanation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	rice, err := catalog.ItemBySlug(ctx, f.db, f.councilID, "riz-de-camargue")
	if err != nil {
		t.Fatal(err)
	}
	p := &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalItemStatus, Title: "Conventionner le riz",
		TargetItemID: &rice.ID, ProposedStatus: catalog.Conventionne, Outcome: "Conventionner le riz de Camargue.",
		RegisterExplanationMD: "  Le riz complète le **panier**.  "}
	if err := proposal.CreateProposal(ctx, f.db, p, f.author); err != nil {
		t.Fatal(err)
	}
	got, err := proposal.GetProposal(ctx, f.db, f.councilID, p.ID)
	if err != nil || got.RegisterExplanationMD != "Le riz complète le **panier**." {
		t.Fatalf("stored explanation %q (%v)", got.RegisterExplanationMD, err)
	}
	b := &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalBoussole, Title: "Boussole courte",
		Outcome: "# Groupe\nPrix", RegisterExplanationMD: "Hors sujet"}
	if err := proposal.CreateProposal(ctx, f.db, b, f.author); err != nil {
		t.Fatal(err)
	}
	if got, _ := proposal.GetProposal(ctx, f.db, f.councilID, b.ID); got.RegisterExplanationMD != "" {
		t.Errorf("a boussole proposal kept a register explanation: %q", got.RegisterExplanationMD)
	}
}
