package assembly_test

import (
	"context"
	"testing"

	"cla/catalog"
	"cla/demo"
	"cla/governance/assembly"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/testdb"
)

func (f *meetingFixture) proposalItem(t *testing.T, kind, itemSlug, status, itemName string) (*assembly.AgendaItem, int64) {
	t.Helper()
	ctx := context.Background()
	it, err := catalog.ItemBySlug(ctx, f.db, f.councilID, itemSlug)
	if err != nil {
		t.Fatal(err)
	}
	var pid int64
	if err := f.db.NewRaw(`INSERT INTO proposals (council_id, kind, state, title, target_item_id, item_name, proposed_status, outcome, author_name)
		VALUES (?, ?, 'ouverte', ?, ?, ?, ?, 'Changement du registre', 'Test') RETURNING id`,
		f.councilID, kind, "Proposition sur "+itemSlug, it.ID, itemName, status).Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	ai := &assembly.AgendaItem{CouncilID: f.councilID, MeetingID: f.meeting.ID, Kind: assembly.AgendaProposal, ProposalID: &pid}
	if err := assembly.AddAgendaItem(ctx, f.db, f.facilitator, ai); err != nil {
		t.Fatal(err)
	}
	return ai, pid
}

func registerVersion(t *testing.T, f *meetingFixture) int {
	t.Helper()
	var n int
	if err := f.db.NewRaw("SELECT coalesce(max(number), 0) FROM register_versions WHERE council_id = ?", f.councilID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Majority judgment decides the status; adjourning records no register change;
// a register change that fails leaves the vote open and nothing decided.
func TestDecisions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := newMeetingFixtureIn(t, db, co.ID, 5)
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 3}); err != nil {
		t.Fatal(err)
	}
	v0 := registerVersion(t, f)

	// Majority judgment: "ne pas conventionner" wins; the reason is the motivation.
	item, pid := f.proposalItem(t, "item_status", "riz-de-camargue", "conventionne", "")
	v := f.openVote(t, item, &assembly.Vote{Question: "Quel statut pour le riz ?", Method: assembly.MethodJudgment, Options: []assembly.VoteOption{
		{Label: "Conventionner", Effect: "conventionne"}, {Label: "Ne pas conventionner", Effect: "non_conventionne"}, {Label: "Ajourner", Effect: "ajourner"}}})
	for i, g := range [][]int16{{2, 6, 3}, {3, 5, 3}, {1, 7, 2}, {5, 4, 3}, {2, 5, 4}} {
		if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[i], &assembly.Ballot{Grades: g}); err != nil {
			t.Fatal(err)
		}
	}
	closed, d, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Motivation: "Pas local : trop loin."})
	if err != nil {
		t.Fatal(err)
	}
	if *closed.WinnerOption != 2 || d == nil || d.Outcome != assembly.DecisionAdopted || d.RegisterVersion == nil || *d.RegisterVersion != v0+1 {
		t.Fatalf("judgment decision: winner %v, %+v", closed.WinnerOption, d)
	}
	it, _ := catalog.ItemBySlug(ctx, db, co.ID, "riz-de-camargue")
	if it.Status != catalog.NonConventionne || it.Reason != "Pas local : trop loin." {
		t.Fatalf("item: %s %q", it.Status, it.Reason)
	}
	// The new status carries its explanation, the decision's motivation: the
	// demo's "débat souhaité" text is gone from the item (issue 20).
	if it.ExplanationMD != "Pas local : trop loin." {
		t.Errorf("item explanation after the decision: %q", it.ExplanationMD)
	}
	var ref string
	if err := db.NewRaw("SELECT decision_ref FROM register_versions WHERE council_id = ? AND number = ?", co.ID, *d.RegisterVersion).Scan(ctx, &ref); err != nil || ref != d.Ref() {
		t.Fatalf("version's decision ref %q, want %q (%v)", ref, d.Ref(), err)
	}
	if p, _ := proposal.GetProposal(ctx, db, co.ID, pid); p.State != proposal.ProposalApplied {
		t.Fatalf("proposal %s", p.State)
	}
	// A decision is history: the schema refuses to change it.
	if _, err := db.ExecContext(ctx, "UPDATE decisions SET outcome = 'rejetee' WHERE id = ?", d.ID); err == nil {
		t.Fatal("a decision was changed")
	}

	// Adjourned whatever the tally: no register change.
	item, pid = f.proposalItem(t, "item_status", "produits-de-la-peche", "conventionne", "")
	v = f.openVote(t, item, &assembly.Vote{Question: "Conventionner la pêche ?", Method: assembly.MethodMajority})
	if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
		t.Fatal(err)
	}
	_, d, err = assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Adjourn: true})
	if err != nil || d.Outcome != assembly.DecisionAdjourned || d.RegisterVersion != nil || registerVersion(t, f) != v0+1 {
		t.Fatalf("adjourned: %+v %v", d, err)
	}
	if p, _ := proposal.GetProposal(ctx, db, co.ID, pid); p.State != proposal.ProposalAdjourned {
		t.Fatalf("proposal %s", p.State)
	}

	// The proposal's own public explanation wins over the motivation.
	item, pid = f.proposalItem(t, "item_status", "kombucha", "conventionne", "")
	if _, err := db.ExecContext(ctx, "UPDATE proposals SET register_explanation_md = ? WHERE id = ?", "Boisson **fermentée** par des producteurs de la Drôme.", pid); err != nil {
		t.Fatal(err)
	}
	v = f.openVote(t, item, &assembly.Vote{Question: "Conventionner le kombucha ?", Method: assembly.MethodConsent})
	if _, d, err = assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Motivation: "Aucune objection."}); err != nil || d.RegisterVersion == nil {
		t.Fatalf("kombucha: %+v %v", d, err)
	}
	if it, _ := catalog.ItemBySlug(ctx, db, co.ID, "kombucha"); it.Status != catalog.Conventionne ||
		it.ExplanationHTML != "<p>Boisson <strong>fermentée</strong> par des producteurs de la Drôme.</p>\n" {
		t.Errorf("kombucha after the decision: %s %q", it.Status, it.ExplanationHTML)
	}
	v0++

	// All or nothing: a new item under a product is refused by the register, so
	// the close rolls back (vote still open, no decision, no version).
	var product string
	if err := db.NewRaw("SELECT slug FROM register_items WHERE council_id = ? AND kind = 'product' ORDER BY id LIMIT 1", co.ID).Scan(ctx, &product); err != nil {
		t.Skip("the demo register has no product")
	}
	item, pid = f.proposalItem(t, "item_new", product, "conventionne", "Sous-produit impossible")
	v = f.openVote(t, item, &assembly.Vote{Question: "Ajouter ?", Method: assembly.MethodConsent})
	_, _, err = assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("impossible change: %v", err)
	}
	again, _ := assembly.GetVote(ctx, db, f.councilID, v.ID)
	var decisions int
	_ = db.NewSelect().Table("decisions").ColumnExpr("count(*)").Where("vote_id = ?", v.ID).Scan(ctx, &decisions)
	if again.Closed() || decisions != 0 || registerVersion(t, f) != v0+1 {
		t.Fatalf("partial close: closed %v, %d decision(s), version %d", again.Closed(), decisions, registerVersion(t, f))
	}
	if p, _ := proposal.GetProposal(ctx, db, co.ID, pid); p.State != proposal.ProposalVoting {
		t.Fatalf("proposal %s", p.State)
	}
}
