package proposal_test

import (
	"context"
	"strings"
	"testing"

	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/apperr"
)

func TestParseBoussoleSpec(t *testing.T) {
	t.Parallel()
	g, err := proposal.ParseBoussoleSpec("# Pour les mangeurs\nPrix\n\n  Goût  \n## Système\nProximité\n")
	if err != nil || len(g) != 2 || g[0].Name != "Pour les mangeurs" || len(g[0].Criteria) != 2 || g[0].Criteria[1] != "Goût" || g[1].Name != "Système" {
		t.Fatalf("parsed %+v, %v", g, err)
	}
	for in, want := range map[string]string{
		"":                                  "décrivez la nouvelle boussole",
		"Prix":                              "commencez par un groupe",
		"# A\nPrix\n# B":                    "« B » n'a aucun critère",
		"#\nPrix":                           "donnez un nom au groupe",
		"# A\n" + strings.Repeat("c\n", 31): "au plus",
	} {
		if _, err := proposal.ParseBoussoleSpec(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseBoussoleSpec(%q) = %v, want %q", in, err, want)
		}
	}
}

// TestAppliedBoussoleProposalCreatesAVersion: an adopted proposal of kind
// "boussole", once applied, gives the council a new boussole version; scores
// given earlier stay attached to the version they used.
func TestAppliedBoussoleProposalCreatesAVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	v1 := currentBoussole(t, f)
	bad := &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalBoussole, Title: "Boussole v2", Outcome: "Prix sans groupe"}
	if err := proposal.CreateProposal(ctx, f.db, bad, f.author); !strings.Contains(apperr.FieldsOf(err)["outcome"], "commencez par un groupe") {
		t.Errorf("unreadable boussole accepted: %v", err)
	}
	p := &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalBoussole, Title: "Une boussole plus courte",
		Outcome: "# Pour les mangeur·euses\nPrix juste\nSanté\n# Pour le territoire\nProximité\nEnvironnement\nConditions de travail"}
	if err := proposal.CreateProposal(ctx, f.db, p, f.author); err != nil {
		t.Fatal(err)
	}
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.author, proposal.ProposalOpen, ""); err != nil {
		t.Fatal(err)
	}
	if err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.member, allGrades(v1, boussole.TresBien)); err != nil {
		t.Fatal(err)
	}
	for _, to := range []proposal.ProposalState{proposal.ProposalScheduled, proposal.ProposalVoting, proposal.ProposalAdopted, proposal.ProposalApplied} {
		if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.facilitator, to, ""); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	v2 := currentBoussole(t, f)
	if v2.Version.Number != v1.Version.Number+1 || len(v2.Groups) != 2 || len(v2.Groups[1].Criteria) != 3 ||
		v2.Groups[1].Criteria[2].Name != "Conditions de travail" || v2.Groups[1].Criteria[2].Position != 5 {
		t.Fatalf("new boussole: %+v", v2)
	}
	scores, err := proposal.ProposalScores(ctx, f.db, f.councilID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := proposal.Aggregate(v2, scores)
	if r.Graders != 0 || r.OtherVersionScores() != 12 || r.OtherVersions[v1.Version.ID] != 12 {
		t.Errorf("scores of version 1 mixed into version 2: graders %d, other %v", r.Graders, r.OtherVersions)
	}
	older, err := proposal.BoussolesByVersion(ctx, f.db, f.councilID, []int64{v1.Version.ID})
	if err != nil || len(older) != 1 {
		t.Fatalf("older boussole: %v", err)
	}
	if o := proposal.Aggregate(older[0], scores); o.Graders != 1 || o.Overall.Majority() != boussole.TresBien {
		t.Errorf("version 1 results: %d graders, %s", o.Graders, o.Overall.Majority().Label())
	}
	// A second application is impossible: appliquée is final.
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.facilitator, proposal.ProposalApplied, ""); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("applied twice: %v", err)
	}
}
