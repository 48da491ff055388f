package governance

import (
	"context"
	"strings"
	"testing"
	"time"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

func TestDemoOpensFishAndRiceWithArgumentsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := LoadDemo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"produits-de-la-peche", "riz-de-camargue"} {
		d, err := DebateBySlug(ctx, db, co.ID, slug)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != DebateOpen || d.SynthesisHTML == "" {
			t.Errorf("%s: state %s, synthesis %q", slug, d.State, d.SynthesisHTML)
		}
		args, err := DebateArguments(ctx, db, co.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		n, replies := 0, 0
		for _, a := range args {
			n++
			replies += len(a.Replies)
			if !a.IsDemo || a.BodyHTML == "" {
				t.Errorf("%s: argument %d not a rendered demo argument", slug, a.ID)
			}
		}
		if n != 4 || replies != 1 {
			t.Errorf("%s: %d arguments and %d replies after loading twice, want 4 and 1", slug, n, replies)
		}
		items, err := DebateItems(ctx, db, co.ID, d.ID)
		if err != nil || len(items) != 1 || items[0].Slug != slug {
			t.Errorf("%s: linked items %+v %v", slug, items, err)
		}
		props, err := DebateProposals(ctx, db, co.ID, d.ID)
		if err != nil || len(props) != 1 {
			t.Errorf("%s: linked proposals %+v %v", slug, props, err)
		}
	}
	backlog, err := Backlog(ctx, db, co.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(backlog) != len(demoDebates)-2 {
		t.Errorf("backlog has %d requested debates, want %d", len(backlog), len(demoDebates)-2)
	}
}

func TestArgumentRulesAndHistory(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := LoadDemo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	memberID, _ := webtest.CreateMember(t, db, co.ID, authz.Member, "Anaïs")
	facID, _ := webtest.CreateMember(t, db, co.ID, authz.Facilitator, "Bruno")
	member := audit.Actor{AccountID: memberID, Name: "Anaïs", Role: authz.Member}
	fac := audit.Actor{AccountID: facID, Name: "Bruno", Role: authz.Facilitator}
	var env int64
	if err := db.NewSelect().Table("criteria").Column("id").Where("council_id = ? AND name = ?", co.ID, "Santé de l'environnement").Scan(ctx, &env); err != nil {
		t.Fatal(err)
	}

	bad := []struct {
		name  string
		in    ArgumentInput
		field string
	}{
		{"empty body", ArgumentInput{Stance: StanceFor, BodyMD: "   "}, "body"},
		{"too long", ArgumentInput{Stance: StanceFor, BodyMD: strings.Repeat("é", MaxBodyLen+1)}, "body"},
		{"unknown stance", ArgumentInput{Stance: "peut-etre", BodyMD: "x"}, "stance"},
		{"unknown criterion", ArgumentInput{Stance: StanceFor, CriterionID: 999999, BodyMD: "x"}, "criterion"},
	}
	for _, b := range bad {
		_, err := AddArgument(ctx, db, co.ID, "riz-de-camargue", member, b.in)
		if apperr.FieldsOf(err)[b.field] == "" {
			t.Errorf("%s: error %v, want a message on %s", b.name, err, b.field)
		}
	}
	if _, err := AddArgument(ctx, db, co.ID, "produits-de-la-chasse", member, ArgumentInput{Stance: StanceFor, BodyMD: "x"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("argument on a requested debate: %v", err)
	}

	a, err := AddArgument(ctx, db, co.ID, "riz-de-camargue", member, ArgumentInput{Stance: StanceAgainst, CriterionID: env,
		BodyMD: "Trop d'eau <script>alert(1)</script> [source](javascript:alert(1)) [ok](https://eau.example)\xff"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.BodyHTML, "<script") || strings.Contains(a.BodyHTML, "javascript:") || !strings.Contains(a.BodyHTML, `rel="nofollow noopener"`) {
		t.Errorf("body not sanitised at save: %s", a.BodyHTML)
	}
	reply, err := AddArgument(ctx, db, co.ID, "riz-de-camargue", fac, ArgumentInput{ParentID: a.ID, Stance: StanceNuance, BodyMD: "Le bio en consomme moins."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AddArgument(ctx, db, co.ID, "riz-de-camargue", member, ArgumentInput{ParentID: reply.ID, Stance: StanceFor, BodyMD: "x"}); apperr.FieldsOf(err)["parent"] == "" {
		t.Errorf("reply to a reply: %v", err)
	}
	if _, err := AddArgument(ctx, db, co.ID, "produits-de-la-peche", member, ArgumentInput{ParentID: a.ID, Stance: StanceFor, BodyMD: "x"}); apperr.FieldsOf(err)["parent"] == "" {
		t.Errorf("reply across debates: %v", err)
	}

	// Edits: only the author, history kept.
	if _, err := EditArgument(ctx, db, co.ID, a.ID, fac, ArgumentInput{Stance: StanceAgainst, BodyMD: "volé"}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("edit by someone else: %v", err)
	}
	if _, err := EditArgument(ctx, db, co.ID, a.ID, member, ArgumentInput{Stance: StanceAgainst, CriterionID: env, BodyMD: "Beaucoup trop d'eau."}); err != nil {
		t.Fatal(err)
	}
	revs, err := ArgumentRevisions(ctx, db, co.ID, a.ID)
	if err != nil || len(revs) != 1 || !strings.Contains(revs[0].BodyHTML, "Trop d") {
		t.Fatalf("revisions %+v, %v", revs, err)
	}

	// Hiding: with a reason, and no reply to a hidden argument.
	if _, err := HideArgument(ctx, db, co.ID, a.ID, fac, " "); apperr.FieldsOf(err)["reason"] == "" {
		t.Errorf("hide without reason: %v", err)
	}
	if _, err := HideArgument(ctx, db, co.ID, a.ID, fac, "Propos hors sujet"); err != nil {
		t.Fatal(err)
	}
	if _, err := AddArgument(ctx, db, co.ID, "riz-de-camargue", member, ArgumentInput{ParentID: a.ID, Stance: StanceFor, BodyMD: "x"}); apperr.FieldsOf(err)["parent"] == "" {
		t.Errorf("reply to a hidden argument: %v", err)
	}
	d, _ := DebateBySlug(ctx, db, co.ID, "riz-de-camargue")
	got, err := ArgumentThread(ctx, db, co.ID, d.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Hidden() || got.HiddenByName != "Bruno" || got.HiddenReason != "Propos hors sujet" || got.EditedAt == nil || len(got.Replies) != 1 {
		t.Errorf("thread: %+v", got)
	}
}

func TestSearchFindsAccentInsensitiveRankedAndScoped(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := LoadDemo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Search(ctx, db, co.ID, "peche", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || res.Results[0].Kind != ResultDebate || res.Results[0].Slug != "produits-de-la-peche" {
		t.Fatalf("peche: %+v", res.Results)
	}
	res, err = Search(ctx, db, co.ID, "riz camargue", 1)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[SearchKind]int{}
	for _, r := range res.Results {
		kinds[r.Kind]++
		if r.Slug == "riz-de-camargue" && !strings.Contains(string(r.Snippet()), "<mark>") {
			t.Errorf("no highlight in %q", r.Snippet())
		}
	}
	if kinds[ResultDebate] == 0 || kinds[ResultArgument] == 0 {
		t.Errorf("riz camargue: %v", kinds)
	}
	// Public proposals are found; drafts never are.
	if _, err := db.ExecContext(ctx, `INSERT INTO proposals (council_id, kind, state, title, outcome, author_name) VALUES
		(?, 'criteria', 'ouverte', 'Conventionner le kombucha fermier', 'Le kombucha est conventionné.', 'A'),
		(?, 'criteria', 'brouillon', 'Brouillon secret sur le kombucha', 'Rien.', 'B')`, co.ID, co.ID); err != nil {
		t.Fatal(err)
	}
	res, err = Search(ctx, db, co.ID, "kombucha", 1)
	if err != nil {
		t.Fatal(err)
	}
	proposals := 0
	for _, r := range res.Results {
		if r.Kind == ResultProposal {
			proposals++
			if r.Title != "Conventionner le kombucha fermier" || !strings.HasPrefix(r.URL(), "/propositions/") {
				t.Errorf("kombucha: %+v", r)
			}
		}
	}
	if proposals != 1 {
		t.Errorf("kombucha: %d proposals found, want the public one only", proposals)
	}
	// Another council sees none of it.
	var other int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('autre', 'Autre') RETURNING id").Scan(ctx, &other); err != nil {
		t.Fatal(err)
	}
	res, err = Search(ctx, db, other, "riz camargue", 1)
	if err != nil || len(res.Results) != 0 {
		t.Errorf("other council: %+v %v", res, err)
	}
	// Hostile queries are harmless.
	for _, q := range []string{"\xff\xfe", "'); DROP TABLE debates; --", "<script>", strings.Repeat("a ", 500), "!!! & | :*"} {
		if _, err := Search(ctx, db, co.ID, q, 3); err != nil {
			t.Errorf("query %q: %v", q, err)
		}
	}
}

func TestHighlightEscapesEverythingButTheMarks(t *testing.T) {
	t.Parallel()
	got := string(highlight("<b>riz</b> \uE000Camargue\uE001 & \uE001 \uE000x"))
	want := "&lt;b&gt;riz&lt;/b&gt; <mark>Camargue</mark> &amp;  <mark>x</mark>"
	if got != want {
		t.Errorf("highlight = %q, want %q", got, want)
	}
}

func TestBacklogOrderAndSuggestions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := LoadDemo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	m1, _ := webtest.CreateMember(t, db, co.ID, authz.Member, "")
	m2, _ := webtest.CreateMember(t, db, co.ID, authz.Member, "")
	for _, s := range []struct {
		id   int64
		slug string
	}{{m1, "produits-de-la-chasse"}, {m2, "produits-de-la-chasse"}, {m1, "produits-de-la-chasse"}, {m2, "plants-potagers"}} {
		if err := Support(ctx, db, co.ID, s.slug, audit.Actor{AccountID: s.id}, true); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Backlog(ctx, db, co.ID, m1)
	if err != nil {
		t.Fatal(err)
	}
	if b[0].Slug != "produits-de-la-chasse" || b[0].Supports != 2 || !b[0].Supported || b[1].Slug != "plants-potagers" || b[1].Supports != 1 || b[1].Supported {
		t.Errorf("backlog head: %+v %+v", b[0], b[1])
	}
	if err := Support(ctx, db, co.ID, "riz-de-camargue", audit.Actor{AccountID: m1}, true); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("support of an open debate: %v", err)
	}

	// Suggestions: validated, rate limited per address, reviewed.
	if err := Suggest(ctx, db, co.ID, "192.0.2.1", &Suggestion{Title: "x", Theme: "produits"}); apperr.FieldsOf(err)["title"] == "" {
		t.Errorf("short title: %v", err)
	}
	if err := Suggest(ctx, db, co.ID, "192.0.2.1", &Suggestion{Title: "Le kombucha", Theme: "inconnu"}); apperr.FieldsOf(err)["theme"] == "" {
		t.Errorf("bad theme: %v", err)
	}
	var first *Suggestion
	for i := 0; i < SuggestLimit; i++ {
		s := &Suggestion{Title: "Le kombucha", Question: "Boisson fermentée locale ?", Theme: "produits"}
		if err := Suggest(ctx, db, co.ID, "192.0.2.2", s); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = s
		}
	}
	if err := Suggest(ctx, db, co.ID, "192.0.2.2", &Suggestion{Title: "Le kombucha", Theme: "produits"}); apperr.CodeOf(err) != apperr.TooMany {
		t.Errorf("over the limit: %v", err)
	}
	if err := Suggest(ctx, db, co.ID, "192.0.2.3", &Suggestion{Title: "Le kombucha bis", Theme: "produits"}); err != nil {
		t.Errorf("another address: %v", err)
	}
	d, err := ReviewSuggestion(ctx, db, co.ID, first.ID, audit.Actor{AccountID: m1, Name: "x"}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Slug != "le-kombucha" || d.State != DebateRequested {
		t.Errorf("accepted suggestion: %+v", d)
	}
	if _, err := ReviewSuggestion(ctx, db, co.ID, first.ID, audit.Actor{AccountID: m1, Name: "x"}, true, ""); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("second review: %v", err)
	}
	if Slugify("Œufs & pêche : « local » ?") != "oeufs-peche-local" {
		t.Errorf("Slugify = %q", Slugify("Œufs & pêche : « local » ?"))
	}
}

func TestBalanceCountsVisibleArgumentsAndRepliesPerCriterion(t *testing.T) {
	t.Parallel()
	env, price := int64(10), int64(1)
	hidden := time.Now()
	args := []*Argument{
		{ID: 1, Stance: StanceFor, CriterionID: &env, Replies: []*Argument{{ID: 2, Stance: StanceAgainst, CriterionID: &env}}},
		{ID: 3, Stance: StanceAgainst, CriterionID: &env},
		{ID: 4, Stance: StanceAgainst, CriterionID: &env, HiddenAt: &hidden},
		{ID: 5, Stance: StanceQuestion, CriterionID: &price},
		{ID: 6, Stance: StanceFor},
	}
	got := balance(args, []CriterionOption{{ID: price, Name: "Prix"}, {ID: 7, Name: "Vide"}, {ID: env, Name: "Environnement"}}, env)
	if len(got) != 2 {
		t.Fatalf("balance rows %+v, want the two criteria with arguments", got)
	}
	if got[0].Name != "Prix" || got[0].Others != 1 || got[0].For+got[0].Against != 0 {
		t.Errorf("prix: %+v", got[0])
	}
	e := got[1]
	if e.For != 1 || e.Against != 2 || !e.Selected || e.AgainstWidth != 100 || e.ForWidth != 50 || e.ForX != 50 {
		t.Errorf("environnement: %+v", e)
	}
}

// FuzzHighlight: whatever the stored text holds, a search snippet carries no
// markup but balanced <mark> elements.
func FuzzHighlight(f *testing.F) {
	f.Add("<b>riz</b> \uE000Camargue\uE001 & \uE001 \uE000x")
	f.Add("\uE000<script>alert(1)</script>\uE001")
	f.Fuzz(func(t *testing.T, s string) {
		out := string(highlight(s))
		rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(out)
		if strings.ContainsAny(rest, "<>\"'") {
			t.Fatalf("highlight(%q) = %q", s, out)
		}
		if strings.Count(out, "<mark>") != strings.Count(out, "</mark>") {
			t.Fatalf("unbalanced marks in %q", out)
		}
	})
}
