package assembly_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/assembly"
	"cla/governance/model"
	"cla/governance/proposal"
	"cla/internal/audit"
	"cla/internal/testdb"
)

// A council started from the model adopts its initial register through the
// normal vote: the decision publishes register version 1 with the model's
// items, and the proposal is applied.
func TestInitialRegisterProposalIsAppliedByItsDecision(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 3)
	var pid int64
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := model.WriteBoussole(ctx, tx, f.councilID, time.Now(), "Modèle"); err != nil {
			return err
		}
		p, err := proposal.CreateInitialRegister(ctx, tx, f.councilID, "Adopter le registre initial", "Adopter la liste de mars 2025.",
			model.RegisterChange(), audit.Actor{Name: "Création du conseil"})
		if p != nil {
			pid = p.ID
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if registerVersion(t, f) != 0 {
		t.Fatal("the register exists before the vote")
	}
	item := &assembly.AgendaItem{CouncilID: f.councilID, MeetingID: f.meeting.ID, Kind: assembly.AgendaProposal, ProposalID: &pid}
	if err := assembly.AddAgendaItem(ctx, db, f.facilitator, item); err != nil {
		t.Fatal(err)
	}
	v := f.openVote(t, item, &assembly.Vote{Question: "Adopter le registre initial ?", Method: assembly.MethodMajority})
	for _, m := range f.members {
		if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, m, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
			t.Fatal(err)
		}
	}
	_, d, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
	if err != nil {
		t.Fatal(err)
	}
	if d == nil || d.Outcome != assembly.DecisionAdopted || d.RegisterVersion == nil || *d.RegisterVersion != 1 {
		t.Fatalf("decision: %+v", d)
	}
	it, err := catalog.ItemBySlug(ctx, db, f.councilID, "alcool")
	if err != nil || it.Status != catalog.NonConventionne {
		t.Fatalf("alcool after the decision: %+v %v", it, err)
	}
	n, err := db.NewSelect().Table("register_items").Where("council_id = ?", f.councilID).Count(ctx)
	if err != nil || n != len(model.RegisterChange().Items) {
		t.Errorf("%d items (%v), want the model's %d", n, err, len(model.RegisterChange().Items))
	}
	if p, _ := proposal.GetProposal(ctx, db, f.councilID, pid); p.State != proposal.ProposalApplied {
		t.Errorf("proposal %s, want applied", p.State)
	}
}
