package assembly_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/assembly"
	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// criteriaForm posts spec as the criteria form's rows c1…cN.
func criteriaForm(spec []boussole.CriterionSpec) url.Values {
	f := url.Values{"rows": {strconv.Itoa(len(spec))}}
	for i, c := range spec {
		p := "c" + strconv.Itoa(i+1) + "_"
		f.Set(p+"rank", strconv.Itoa(i+1))
		f.Set(p+"name", c.Name)
		f.Set(p+"question", c.Question)
		f.Set(p+"description", c.Description)
		f.Set(p+"pillar", string(c.Pillar))
	}
	return f
}

// The boussole changes through a vote: a member writes a proposal with the
// criteria form (a criterion reworded, one removed, one added), members score
// it under version 1, the meeting adopts it, and the decision publishes
// version 2 in its own transaction; /boussole, /boussole/versions (the diff)
// and the proposal page (scored under version 1) say so.
func TestBoussoleChangesThroughAVote(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	author, authorID := webtest.SignIn(t, a, db, co.ID, authz.Member)
	anon := webtest.New(t, a)
	v1, err := boussole.CurrentBoussole(ctx, db, co.ID)
	if err != nil {
		t.Fatal(err)
	}
	spec := boussole.SpecOf(v1)
	if len(spec) != 12 || spec[0].Pillar != boussole.PillarConsumers || spec[11].Pillar != boussole.PillarSystem {
		t.Fatalf("demo boussole: %+v", spec)
	}

	// The form starts from the version in force.
	if res, body := author.Get("/propositions/nouvelle-boussole"); res.StatusCode != 200 || !strings.Contains(body, `value="`+html.EscapeString(spec[0].Name)+`"`) {
		t.Fatalf("form: %d, does not start from version 1", res.StatusCode)
	}
	// A new criterion without pillar is refused beside its field, the input kept.
	bad := criteriaForm(append(spec, boussole.CriterionSpec{Name: "Sobriété énergétique"}))
	bad.Set("title", "Une boussole revue")
	res, body := author.PostForm("/propositions/nouvelle-boussole", bad)
	docs := []browsertest.Document{{Name: "criteria form refused", HTML: []byte(body)}}
	if res.StatusCode != 422 || !strings.Contains(body, `id="c13_pillar-error"`) || !strings.Contains(body, "Choisissez le pilier") ||
		!strings.Contains(body, `value="Sobriété énergétique"`) {
		t.Fatalf("criterion without pillar: %d %.300s", res.StatusCode, body)
	}

	// Reword criterion 2, remove criterion 12, add one about energy.
	reworded := spec[1].Name
	form := criteriaForm(append(spec, boussole.CriterionSpec{Name: "Sobriété énergétique", Question: "Le produit économise-t-il l'énergie ?",
		Description: "Transport, transformation et conservation.", Pillar: boussole.PillarSystem}))
	form.Set("c2_name", "Accessibilité géographique et sociale")
	form.Set("c2_question", "Le point de vente est-il proche de chez vous ?")
	form.Set("c12_remove", "1")
	form.Set("title", "Une boussole revue")
	form.Set("rationale", "Après un an d'usage.")
	res, body = author.PostForm("/propositions/nouvelle-boussole", form)
	path := location(t, res, body)
	pid := idOf(t, path)
	p, err := proposal.GetProposal(ctx, db, co.ID, pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != proposal.ProposalBoussole || len(p.BoussolePayload) != 12 || p.BoussolePayload[1].Name != "Accessibilité géographique et sociale" {
		t.Fatalf("stored proposal: %s %+v", p.Kind, p.BoussolePayload)
	}

	// Opened and scored under version 1, then scheduled and voted.
	f := newMeetingFixtureIn(t, db, co.ID, 3)
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 3}); err != nil {
		t.Fatal(err)
	}
	authorActor := audit.Actor{AccountID: authorID, Name: "Autrice", Role: authz.Member}
	if err := proposal.TransitionProposal(ctx, db, co.ID, pid, authorActor, proposal.ProposalOpen, ""); err != nil {
		t.Fatal(err)
	}
	var grades []proposal.ScoreInput
	for _, g := range v1.Groups {
		for _, c := range g.Criteria {
			grades = append(grades, proposal.ScoreInput{CriterionID: c.ID, Set: true, Grade: boussole.Bien})
		}
	}
	if err := proposal.SaveScores(ctx, db, co.ID, pid, authorActor, grades); err != nil {
		t.Fatal(err)
	}
	item := &assembly.AgendaItem{CouncilID: co.ID, MeetingID: f.meeting.ID, Kind: assembly.AgendaProposal, ProposalID: &pid}
	if err := assembly.AddAgendaItem(ctx, db, f.facilitator, item); err != nil {
		t.Fatal(err)
	}
	v := f.openVote(t, item, &assembly.Vote{Question: "Adopter la boussole revue ?", Method: assembly.MethodMajority})
	for _, m := range f.members {
		if err := assembly.CastBallot(ctx, db, co.ID, v.ID, m, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
			t.Fatal(err)
		}
	}
	_, d, err := assembly.CloseVote(ctx, db, co.ID, v.ID, f.facilitator, assembly.CloseInput{})
	if err != nil || d.Outcome != assembly.DecisionAdopted {
		t.Fatalf("close: %+v %v", d, err)
	}
	if p, _ := proposal.GetProposal(ctx, db, co.ID, pid); p.State != proposal.ProposalApplied {
		t.Fatalf("proposal %s after the decision", p.State)
	}
	v2, err := boussole.CurrentBoussole(ctx, db, co.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := boussole.SpecOf(v2)
	if v2.Version.Number != 2 || len(got) != 12 || got[1].Question != "Le point de vente est-il proche de chez vous ?" ||
		got[11].Name != "Sobriété énergétique" || got[10].Name != spec[10].Name {
		t.Fatalf("version 2: %d %+v", v2.Version.Number, got)
	}

	// /boussole shows version 2 with questions and descriptions.
	if _, body := anon.Get("/boussole"); !strings.Contains(body, "Version 2") || !strings.Contains(body, "Le produit économise-t-il l&#39;énergie ?") ||
		!strings.Contains(body, "Transport, transformation et conservation.") {
		t.Errorf("/boussole does not show version 2 with its texts: %.400s", body)
	}
	// /boussole/versions compares 1 and 2 by default.
	res, body = anon.Get("/boussole/versions")
	docs = append(docs, browsertest.Document{Name: "/boussole/versions", HTML: []byte(body)})
	for _, want := range []string{"Version 2 (en vigueur)", "Ajouté : Sobriété énergétique", "Retiré : " + html.EscapeString(spec[11].Name),
		"Modifié : Accessibilité géographique et sociale", "<ins>et sociale</ins>", "Adoptée par la proposition n°" + strconv.FormatInt(pid, 10)} {
		if !strings.Contains(body, want) {
			t.Errorf("/boussole/versions lacks %q", want)
		}
	}
	if res.StatusCode != 200 || strings.Contains(body, "Retiré : "+html.EscapeString(reworded)) {
		t.Errorf("versions page: %d, or a reworded criterion shown as removed", res.StatusCode)
	}
	if res, _ := anon.Get("/boussole/versions?de=1&a=7"); res.StatusCode != 404 {
		t.Errorf("unknown version: %d", res.StatusCode)
	}
	// The proposal was scored under version 1 and says so.
	_, body = anon.Get(fmt.Sprintf("/propositions/%d", pid))
	if !strings.Contains(body, "Évaluée avec la boussole version 1, remplacée depuis par la version 2") {
		t.Error("the proposal page does not say its scores are under version 1")
	}
	docs = append(docs, browsertest.Document{Name: "proposal scored under version 1", HTML: []byte(body)})
	for _, path := range []string{"/boussole", "/propositions/nouvelle-boussole"} {
		_, body := author.Get(path)
		docs = append(docs, browsertest.Document{Name: path, HTML: []byte(body)})
	}
	errs, err := browsertest.ValidateHTML(docs)
	if err != nil {
		t.Fatal(err)
	}
	for name, msgs := range errs {
		for _, m := range msgs {
			t.Errorf("%s: %s", name, m)
		}
	}
}
