package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"cla/demo"
	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

func criterionIDs(t *testing.T, db *bun.DB, councilID int64) []int64 {
	t.Helper()
	b, err := boussole.CurrentBoussole(context.Background(), db, councilID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, g := range b.Groups {
		for _, c := range g.Criteria {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

var proposalLocation = regexp.MustCompile(`^/propositions/(\d+)$`)

func TestProposalLifecycleAndScoringOverHTTP(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	author, _ := webtest.SignIn(t, app, db, co, authz.Member)
	member, _ := webtest.SignIn(t, app, db, co, authz.Member)
	facilitator, _ := webtest.SignIn(t, app, db, co, authz.Facilitator)
	// A member of another council only: no role in this one.
	var other int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('ailleurs', 'Conseil d''ailleurs') RETURNING id").Scan(context.Background(), &other); err != nil {
		t.Fatal(err)
	}
	outsider, _ := webtest.SignIn(t, app, db, other, authz.Member)
	outsider.Host = webtest.HostFor(t, db, co)
	anon := webtest.New(t, app)

	// Anonymous visitors are sent to sign in; a rejected form keeps what was typed.
	if resp, _ := anon.Get("/propositions/nouvelle"); resp.StatusCode != 303 {
		t.Errorf("anonymous new form: %d", resp.StatusCode)
	}
	if resp, _ := outsider.Get("/propositions/nouvelle"); resp.StatusCode != 403 {
		t.Errorf("non-member new form: %d", resp.StatusCode)
	}
	resp, body := author.PostForm("/propositions/nouvelle", url.Values{"kind": {"item_status"}, "title": {"Tofu de Crest"},
		"proposed_status": {"sous_conditions"}, "outcome": {"Conventionner le tofu"}})
	if resp.StatusCode != 422 || !strings.Contains(body, `value="Tofu de Crest"`) || !strings.Contains(body, "Précisez les conditions") ||
		!strings.Contains(body, "Choisissez le produit") {
		t.Fatalf("invalid proposal: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = author.PostForm("/propositions/nouvelle", url.Values{"kind": {"criteria"}, "title": {"Conventionner les fermes en conversion"},
		"outcome":   {"Les fermes en conversion bio sont conventionnées, revue dans 12 mois."},
		"rationale": {"La **transition** compte.\n\n<script>alert(1)</script>"}, "sources": {"https://www.agencebio.org/\nCompte rendu du CLA de mars"}})
	m := proposalLocation.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != 303 || m == nil {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	page := "/propositions/" + m[1]

	// A draft is its author's only.
	if resp, body := author.Get(page); resp.StatusCode != 200 || !strings.Contains(body, "<strong>transition</strong>") || strings.Contains(body, "<script>alert") ||
		!strings.Contains(body, `href="https://www.agencebio.org/"`) {
		t.Errorf("author's draft: %d", resp.StatusCode)
	}
	for name, c := range map[string]*webtest.Client{"anonymous": anon, "member": member} {
		if resp, _ := c.Get(page); resp.StatusCode != 404 {
			t.Errorf("%s reads someone's draft: %d", name, resp.StatusCode)
		}
	}
	if resp, _ := member.PostForm(page+"/etat", url.Values{"to": {"ouverte"}}); resp.StatusCode != 404 {
		t.Errorf("member opens someone's draft: %d", resp.StatusCode)
	}
	if resp, _ := author.PostForm(page+"/etat", url.Values{"to": {"ouverte"}}); resp.StatusCode != 303 {
		t.Fatalf("author opens the draft: %d", resp.StatusCode)
	}
	_, radarBefore := anon.Get(page + "/radar.svg")

	// Scoring: bad input is refused and the form keeps what was typed.
	crit := criterionIDs(t, db, co)
	form := url.Values{}
	for i, id := range crit {
		form.Set(fmt.Sprintf("grade_%d", id), fmt.Sprint(7-i%3))
		form.Set(fmt.Sprintf("comment_%d", id), "")
	}
	form.Set(fmt.Sprintf("comment_%d", crit[0]), "Moins cher que prévu")
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set(fmt.Sprintf("grade_%d", crit[1]), "12")
	resp, body = member.PostForm(page+"/evaluer", bad)
	if resp.StatusCode != 422 || !strings.Contains(body, "n&#39;est pas une mention") || !strings.Contains(body, `value="Moins cher que prévu"`) {
		t.Errorf("grade outside the scale: %d", resp.StatusCode)
	}
	bad = url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("grade_999999", "5")
	if resp, body := member.PostForm(page+"/evaluer", bad); resp.StatusCode != 422 || !strings.Contains(body, "boussole en vigueur") {
		t.Errorf("criterion of another boussole version: %d", resp.StatusCode)
	}
	if resp, _ := outsider.PostForm(page+"/evaluer", form); resp.StatusCode != 403 {
		t.Errorf("non-member scores: %d", resp.StatusCode)
	}
	// From their own council, the proposal of another council does not exist.
	outsider.Host = webtest.HostFor(t, db, other)
	if resp, body := outsider.PostForm(page+"/evaluer", form); resp.StatusCode != 404 || !strings.Contains(body, "n&#39;existe pas dans ce Conseil") {
		t.Errorf("scoring a proposal of another council: %d", resp.StatusCode)
	}
	if resp, _ := outsider.Get(page); resp.StatusCode != 404 {
		t.Errorf("reading a proposal of another council: %d", resp.StatusCode)
	}
	outsider.Host = webtest.HostFor(t, db, co)
	if resp, _ := member.PostForm("/propositions/999999/evaluer", form); resp.StatusCode != 404 {
		t.Errorf("scoring a missing proposal: %d", resp.StatusCode)
	}
	if resp, _ := member.PostForm(page+"/evaluer", form); resp.StatusCode != 303 {
		t.Fatalf("score: %d", resp.StatusCode)
	}
	_, radarAfter := anon.Get(page + "/radar.svg")
	if radarAfter == radarBefore || !strings.HasPrefix(radarAfter, "<?xml") {
		t.Error("the radar did not change after grades were saved")
	}
	// Aggregates are public; individual comments are for members only.
	if _, body := anon.Get(page); !strings.Contains(body, "Excellent") || strings.Contains(body, "Moins cher que prévu") {
		t.Error("anonymous page: aggregates missing or a comment shown")
	}
	if _, body := member.Get(page); !strings.Contains(body, "Moins cher que prévu") {
		t.Error("members do not see individual comments")
	}
	if _, body := member.Get(page + "/evaluer"); !strings.Contains(body, `value="Moins cher que prévu"`) {
		t.Error("the scoring form does not show one's earlier grades")
	}

	// Transitions by role; scores freeze when the vote opens.
	if resp, _ := member.PostForm(page+"/etat", url.Values{"to": {"inscrite"}}); resp.StatusCode != 403 {
		t.Errorf("member schedules: %d", resp.StatusCode)
	}
	if resp, _ := facilitator.PostForm(page+"/etat", url.Values{"to": {"adoptee"}}); resp.StatusCode != 409 {
		t.Errorf("adopted without vote: %d", resp.StatusCode)
	}
	for _, to := range []string{"inscrite", "en_vote"} {
		if resp, _ := facilitator.PostForm(page+"/etat", url.Values{"to": {to}, "note": {"Séance du 3 décembre"}}); resp.StatusCode != 303 {
			t.Fatalf("facilitator → %s: %d", to, resp.StatusCode)
		}
	}
	if resp, body := member.PostForm(page+"/evaluer", form); resp.StatusCode != 409 || !strings.Contains(body, "closes") {
		t.Errorf("scoring in vote: %d", resp.StatusCode)
	}
	if resp, _ := author.PostForm(page+"/etat", url.Values{"to": {"retiree"}}); resp.StatusCode != 409 {
		t.Errorf("withdrawn during the vote: %d", resp.StatusCode)
	}
	_, body = anon.Get(page)
	for _, want := range []string{"En vote", "Inscrite à l&#39;ordre du jour", "Séance du 3 décembre", "Les évaluations sont closes"} {
		if !strings.Contains(body, want) {
			t.Errorf("proposal page lacks %q", want)
		}
	}

	// Lists: the member's "à évaluer" and filters.
	if _, body := anon.Get("/propositions?etat=en_vote"); !strings.Contains(body, "Conventionner les fermes en conversion") {
		t.Error("state filter misses the proposal")
	}
	if _, body := anon.Get("/propositions?etat=ouverte"); strings.Contains(body, "Conventionner les fermes en conversion") {
		t.Error("state filter shows a proposal of another state")
	}
}

func TestCompareProposals(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	anon := webtest.New(t, app)
	var ids []int64
	if err := db.NewRaw("SELECT id FROM proposals WHERE state <> 'brouillon' ORDER BY id").Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) < 2 {
		t.Fatalf("the demo has %d public proposals, want at least 2", len(ids))
	}
	resp, body := anon.Get(fmt.Sprintf("/propositions/comparer?ids=%d,%d", ids[0], ids[1]))
	if resp.StatusCode != 200 || strings.Count(body, `class="radar-series"`) != 2 || !strings.Contains(body, "riz de Camargue") {
		t.Errorf("compare: %d", resp.StatusCode)
	}
	if resp, _ := anon.Get(fmt.Sprintf("/propositions/comparer?ids=%d&ids=999999", ids[0])); resp.StatusCode != 404 {
		t.Errorf("compare with a missing proposal: %d", resp.StatusCode)
	}
	if resp, body := anon.Get(fmt.Sprintf("/propositions/comparer?ids=%d", ids[0])); resp.StatusCode != 200 || !strings.Contains(body, fmt.Sprintf(`value="%d" checked`, ids[0])) {
		t.Errorf("compare one (a start): %d", resp.StatusCode)
	}
	if resp, _ := anon.Get("/propositions/comparer?ids=1,2,3,4,5"); resp.StatusCode != 422 {
		t.Errorf("compare five: %d", resp.StatusCode)
	}
}

// TestProposalPageRunsAFixedNumberOfQueries: a proposal graded by 30 members
// costs the same number of SQL statements as one graded by 3.
func TestProposalPageRunsAFixedNumberOfQueries(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	ca := newCountingApp(t, db)
	app := ca.app
	co := demoCouncilID(t, db)
	crit := criterionIDs(t, db, co)
	var versionID int64
	if err := db.NewRaw("SELECT boussole_version_id FROM criteria WHERE id = ?", crit[0]).Scan(ctx, &versionID); err != nil {
		t.Fatal(err)
	}
	proposalWith := func(graders int) int64 {
		var pid int64
		if err := db.NewRaw(`INSERT INTO proposals (council_id, kind, state, title, outcome, author_name)
			VALUES (?, 'criteria', 'ouverte', ?, 'x', 'Test') RETURNING id`, co, fmt.Sprintf("Avec %d évaluations", graders)).Scan(ctx, &pid); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < graders; i++ {
			id, _ := webtest.CreateMember(t, db, co, authz.Member, "")
			for j, c := range crit {
				if _, err := db.ExecContext(ctx, `INSERT INTO proposal_scores (council_id, proposal_id, account_id, criterion_id, boussole_version_id, grade, comment)
					VALUES (?, ?, ?, ?, ?, ?, 'ok')`, co, pid, id, c, versionID, (i+j)%8); err != nil {
					t.Fatal(err)
				}
			}
		}
		return pid
	}
	few, many := proposalWith(3), proposalWith(30)
	member, _ := webtest.SignIn(t, app, db, co, authz.Member)
	anon := webtest.New(t, app)
	count := func(c *webtest.Client, path string) int64 {
		c.Get(path) // warm caches (council resolver…)
		if resp, _ := c.Get(path); resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return ca.last.Load().Load()
	}
	for name, c := range map[string]*webtest.Client{"anonymous": anon, "member": member} {
		for _, suffix := range []string{"", "/radar.svg"} {
			a, b := count(c, fmt.Sprintf("/propositions/%d%s", few, suffix)), count(c, fmt.Sprintf("/propositions/%d%s", many, suffix))
			if a != b || a == 0 {
				t.Errorf("%s, page%s: %d statements with 3 graders, %d with 30", name, suffix, a, b)
			}
		}
		a := count(c, fmt.Sprintf("/propositions/comparer?ids=%d,%d", few, many))
		if a == 0 || a > 12 {
			t.Errorf("%s, comparison: %d statements", name, a)
		}
	}
	// The list, with its scoring progress and the member's "à évaluer": the same
	// count before and after 27 more members grade a listed proposal.
	listBefore, anonBefore := count(member, "/propositions"), count(anon, "/propositions")
	for i := 0; i < 27; i++ {
		id, _ := webtest.CreateMember(t, db, co, authz.Member, "")
		for j, c := range crit {
			if _, err := db.ExecContext(ctx, `INSERT INTO proposal_scores (council_id, proposal_id, account_id, criterion_id, boussole_version_id, grade)
				VALUES (?, ?, ?, ?, ?, ?)`, co, few, id, c, versionID, (i+j)%8); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a, b := count(member, "/propositions"), count(anon, "/propositions"); a != listBefore || b != anonBefore || b == 0 || b > 6 {
		t.Errorf("list: member %d → %d statements, anonymous %d → %d", listBefore, a, anonBefore, b)
	}
}

// TestOlderScoresShowWithTheirBoussoleVersion: once a boussole proposal is
// applied, the scores given on the earlier version are shown with that version.
func TestOlderScoresShowWithTheirBoussoleVersion(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	co := demoCouncilID(t, db)
	authorID, _ := webtest.CreateMember(t, db, co, authz.Member, "Autrice")
	facID, _ := webtest.CreateMember(t, db, co, authz.Facilitator, "Animatrice")
	author := audit.Actor{AccountID: authorID, Name: "Autrice", Role: authz.Member}
	fac := audit.Actor{AccountID: facID, Name: "Animatrice", Role: authz.Facilitator}
	p := &proposal.Proposal{CouncilID: co, Kind: proposal.ProposalBoussole, Title: "Boussole resserrée",
		Outcome: "# Pour les mangeurs\nPrix\nGoût\n# Pour le territoire\nProximité"}
	if err := proposal.CreateProposal(ctx, db, p, author); err != nil {
		t.Fatal(err)
	}
	if err := proposal.TransitionProposal(ctx, db, co, p.ID, author, proposal.ProposalOpen, ""); err != nil {
		t.Fatal(err)
	}
	var in []proposal.ScoreInput
	for _, id := range criterionIDs(t, db, co) {
		in = append(in, proposal.ScoreInput{CriterionID: id, Set: true, Grade: boussole.Bien})
	}
	if err := proposal.SaveScores(ctx, db, co, p.ID, author, in); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, app, fmt.Sprintf("/propositions/%d", p.ID))
	if !strings.Contains(body, "Nouvelle boussole proposée") || !strings.Contains(body, "Proximité") {
		t.Error("the proposed boussole is not shown")
	}
	for _, to := range []proposal.ProposalState{proposal.ProposalScheduled, proposal.ProposalVoting, proposal.ProposalAdopted, proposal.ProposalApplied} {
		if err := proposal.TransitionProposal(ctx, db, co, p.ID, fac, to, ""); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	resp, body := get(t, app, fmt.Sprintf("/propositions/%d", p.ID))
	if resp.StatusCode != 200 || !strings.Contains(body, "Évaluations sur la boussole version 1") || !strings.Contains(body, "boussole version 2") {
		t.Errorf("older scores not shown with their version: %d", resp.StatusCode)
	}
	if _, body := get(t, app, "/boussole"); !strings.Contains(body, "Version 2") || !strings.Contains(body, "Goût") {
		t.Error("the boussole page does not show the new version")
	}
}
