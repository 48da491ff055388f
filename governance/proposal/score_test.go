package proposal_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
)

func currentBoussole(t *testing.T, f *fixture) *boussole.Boussole {
	t.Helper()
	b, err := boussole.CurrentBoussole(context.Background(), f.db, f.councilID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// allGrades grades every criterion of b with g.
func allGrades(b *boussole.Boussole, g boussole.Grade) []proposal.ScoreInput {
	var out []proposal.ScoreInput
	for _, gr := range b.Groups {
		for _, c := range gr.Criteria {
			out = append(out, proposal.ScoreInput{CriterionID: c.ID, Set: true, Grade: g})
		}
	}
	return out
}

func TestSaveScoresRevisesUntilTheVoteThenFreezes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := currentBoussole(t, f)
	p := f.proposal(t, proposal.ProposalOpen)
	if err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.member, allGrades(b, boussole.Bien)); err != nil {
		t.Fatal(err)
	}
	// Revise: one criterion to Excellent with a comment, one cleared, others kept.
	in := allGrades(b, boussole.Bien)
	in[0] = proposal.ScoreInput{CriterionID: in[0].CriterionID, Set: true, Grade: boussole.Excellent, Comment: "Prix très bas"}
	in[1] = proposal.ScoreInput{CriterionID: in[1].CriterionID}
	if err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.member, in); err != nil {
		t.Fatal(err)
	}
	scores, err := proposal.ProposalScores(ctx, f.db, f.councilID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 11 {
		t.Fatalf("%d score rows, want 11 (one cleared)", len(scores))
	}
	for _, s := range scores {
		if s.BoussoleVersionID != b.Version.ID || s.GraderName != "Membre" {
			t.Errorf("score not tied to its boussole version or grader: %+v", s)
		}
		if s.CriterionID == in[0].CriterionID && (s.Grade != boussole.Excellent || s.Comment != "Prix très bas") {
			t.Errorf("revision not saved: %+v", s)
		}
	}
	// On the agenda: still revisable. In vote: frozen.
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.facilitator, proposal.ProposalScheduled, ""); err != nil {
		t.Fatal(err)
	}
	if err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.facilitator, allGrades(b, boussole.Passable)); err != nil {
		t.Errorf("scoring a proposal on the agenda: %v", err)
	}
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.facilitator, proposal.ProposalVoting, ""); err != nil {
		t.Fatal(err)
	}
	err = proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.member, allGrades(b, boussole.ARejeter))
	if apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(apperr.MessageOf(err), "closes") {
		t.Errorf("scoring a proposal in vote: %v", err)
	}
}

func TestSaveScoresRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := currentBoussole(t, f)
	p := f.proposal(t, proposal.ProposalOpen)
	draft := f.proposal(t, proposal.ProposalDraft)

	// A criterion of another boussole version.
	v2 := &boussole.BoussoleVersion{CouncilID: f.councilID, Number: 2, AdoptedOn: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := f.db.NewInsert().Model(v2).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// v2 is now the version in force: grading v1's criteria is refused.
	err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.member, allGrades(b, boussole.Bien))
	if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.FieldsOf(err)["boussole"], "version 2") {
		t.Errorf("criterion of another boussole version: %v %v", err, apperr.FieldsOf(err))
	}
	if _, err := f.db.NewDelete().Model(v2).WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}

	// A non-member is refused by the route (auth.Require(authz.ScoreProposal)),
	// held by the route walk in cmd/cla/routes_test.go, not by SaveScores.
	cases := []struct {
		name  string
		actor audit.Actor
		id    int64
		in    []proposal.ScoreInput
		want  apperr.Code
	}{
		{"grade outside the scale", f.member, p.ID, []proposal.ScoreInput{{CriterionID: b.Groups[0].Criteria[0].ID, Set: true, Grade: 8}}, apperr.Invalid},
		{"comment too long", f.member, p.ID, []proposal.ScoreInput{{CriterionID: b.Groups[0].Criteria[0].ID, Set: true, Grade: boussole.Bien, Comment: strings.Repeat("é", 501)}}, apperr.Invalid},
		{"anonymous", audit.Actor{}, p.ID, allGrades(b, boussole.Bien), apperr.Unauthorized},
		{"a draft", f.member, draft.ID, allGrades(b, boussole.Bien), apperr.Conflict},
		{"no such proposal", f.member, p.ID + 1000, allGrades(b, boussole.Bien), apperr.NotFound},
	}
	for _, c := range cases {
		if err := proposal.SaveScores(ctx, f.db, f.councilID, c.id, c.actor, c.in); apperr.CodeOf(err) != c.want {
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
	// Another council's member, through their own council, cannot reach this proposal.
	other := &fixture{db: f.db}
	if err := f.db.NewRaw("INSERT INTO councils (slug, name) VALUES ('autre', 'Autre conseil') RETURNING id").Scan(ctx, &other.councilID); err != nil {
		t.Fatal(err)
	}
	stranger := other.account(t, "Étrangère", "member")
	if err := proposal.SaveScores(ctx, f.db, other.councilID, p.ID, stranger, allGrades(b, boussole.Bien)); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("scoring a proposal of another council: %v", err)
	}
	if scores, _ := proposal.ProposalScores(ctx, f.db, f.councilID, p.ID); len(scores) != 0 {
		t.Errorf("refused scores were stored: %d", len(scores))
	}
}

func TestParseScoreFormKeepsInputAndNamesErrors(t *testing.T) {
	t.Parallel()
	b := &boussole.Boussole{Version: boussole.BoussoleVersion{ID: 1, Number: 3}, Groups: []boussole.CriterionGroup{{ID: 1, Criteria: []boussole.Criterion{{ID: 10}, {ID: 11}, {ID: 12}}}}}
	in, err := proposal.ParseScoreForm(b, map[string]string{
		"grade_10": "6", "comment_10": " bon ", "grade_11": "9", "grade_12": "", "grade_99": "5",
	})
	fields := apperr.FieldsOf(err)
	if !strings.Contains(fields["grade_11"], "n'est pas une mention") || !strings.Contains(fields["boussole"], "version 3") {
		t.Errorf("messages: %v", fields)
	}
	if len(in) != 3 || !in[0].Set || in[0].Grade != boussole.TresBien || in[0].Comment != "bon" || in[1].Set || in[2].Set {
		t.Errorf("inputs: %+v", in)
	}
	if _, err := proposal.ParseScoreForm(b, map[string]string{"grade_10": "0", "grade_11": strconv.Itoa(int(boussole.Excellent))}); err != nil {
		t.Errorf("a valid form was refused: %v", err)
	}
}

func TestAggregateByCriterionGroupAndOverall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := currentBoussole(t, f)
	p := f.proposal(t, proposal.ProposalOpen)
	// Three graders: member Bien everywhere, facilitator Excellent everywhere,
	// admin sans avis everywhere but criterion 1 (À rejeter).
	if err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.member, allGrades(b, boussole.Bien)); err != nil {
		t.Fatal(err)
	}
	if err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.facilitator, allGrades(b, boussole.Excellent)); err != nil {
		t.Fatal(err)
	}
	adm := allGrades(b, boussole.NoOpinion)
	adm[0].Grade = boussole.ARejeter
	if err := proposal.SaveScores(ctx, f.db, f.councilID, p.ID, f.admin, adm); err != nil {
		t.Fatal(err)
	}
	scores, err := proposal.ProposalScores(ctx, f.db, f.councilID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := proposal.Aggregate(b, scores)
	if r.Graders != 3 || len(r.Groups) != 3 {
		t.Fatalf("graders %d, groups %d", r.Graders, len(r.Groups))
	}
	c1 := r.Groups[0].Criteria[0]
	if c1.Tally.Majority() != boussole.Bien || c1.Answers != 3 || c1.Tally.Graded() != 3 || !c1.Tally.Disagreement() {
		t.Errorf("criterion 1: majority %s, answers %d, disagreement %v", c1.Tally.Majority().Label(), c1.Answers, c1.Tally.Disagreement())
	}
	c2 := r.Groups[0].Criteria[1]
	if c2.Tally.Majority() != boussole.Bien || c2.Tally.Graded() != 2 || c2.Tally.NoOpinions() != 1 {
		t.Errorf("criterion 2 (lower median of Bien, Excellent): %s, %+v", c2.Tally.Majority().Label(), c2.Tally.Counts)
	}
	if g := r.Groups[1]; g.Tally.Graded() != 4 || g.Graders != 3 || g.Tally.Majority() != boussole.Bien {
		t.Errorf("group 2: %+v, graders %d", g.Tally.Counts, g.Graders)
	}
	if r.Overall.Graded() != 25 || r.Overall.NoOpinions() != 11 {
		t.Errorf("overall counts %+v", r.Overall.Counts)
	}
	if m := r.Majorities(); len(m) != 12 || m[0] != boussole.Bien || m[11] != boussole.Bien {
		t.Errorf("radar values %v", m)
	}
	svg := string(boussole.RadarSVG("radar", "Test", boussole.RadarAxesOf(b), []boussole.RadarSeries{{Label: "P", Values: r.Majorities()}}, true))
	if !strings.HasPrefix(svg, "<?xml") || strings.Count(svg, "<text ") != 12 || strings.Contains(svg, "style=") {
		t.Errorf("radar SVG: %s", svg)
	}
}

// TestNoScoreLandsAfterTheVoteOpens: members keep saving grades while the
// facilitator opens the vote; every save either lands before the vote opened
// or is refused as frozen.
func TestNoScoreLandsAfterTheVoteOpens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := currentBoussole(t, f)
	p := f.proposal(t, proposal.ProposalScheduled)
	graders := []audit.Actor{f.member, f.author, f.admin}
	for i := 0; i < 5; i++ {
		graders = append(graders, f.account(t, "Membre "+strconv.Itoa(i), "member"))
	}
	start := make(chan struct{})
	errs := make(chan error, len(graders)*4)
	done := make(chan struct{})
	for _, g := range graders {
		go func(g audit.Actor) {
			<-start
			for k := 0; k < 4; k++ {
				errs <- proposal.SaveScores(ctx, f.db, f.councilID, p.ID, g, allGrades(b, boussole.Grade(1+k)))
			}
			done <- struct{}{}
		}(g)
	}
	close(start)
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.facilitator, proposal.ProposalVoting, ""); err != nil {
		t.Fatal(err)
	}
	for range graders {
		<-done
	}
	close(errs)
	for err := range errs {
		if err != nil && apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("unexpected error: %v", err)
		}
	}
	// The audit trail is appended under one lock, in commit order: no grade
	// saved may come after the opening of the vote.
	var late int
	if err := f.db.NewRaw(`SELECT count(*) FROM audit_log s WHERE s.object_type = 'proposal' AND s.object_id = ?
		AND s.action = 'proposal.score' AND s.id > (SELECT max(id) FROM audit_log v WHERE v.object_type = 'proposal'
		AND v.object_id = ? AND v.action = 'proposal.transition' AND v.after_json LIKE '%en_vote%')`,
		strconv.FormatInt(p.ID, 10), strconv.FormatInt(p.ID, 10)).Scan(ctx, &late); err != nil {
		t.Fatal(err)
	}
	if late != 0 {
		t.Errorf("%d grades were saved after the vote opened", late)
	}
}
