package debate_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode"

	"cla/catalog"
	"cla/demo"
	"cla/governance/debate"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

func TestArgumentRulesAndHistory(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
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
		in    debate.ArgumentInput
		field string
	}{
		{"empty body", debate.ArgumentInput{Stance: debate.StanceFor, BodyMD: "   "}, "body"},
		{"too long", debate.ArgumentInput{Stance: debate.StanceFor, BodyMD: strings.Repeat("é", debate.MaxBodyLen+1)}, "body"},
		{"unknown stance", debate.ArgumentInput{Stance: "peut-etre", BodyMD: "x"}, "stance"},
		{"unknown criterion", debate.ArgumentInput{Stance: debate.StanceFor, CriterionID: 999999, BodyMD: "x"}, "criterion"},
	}
	for _, b := range bad {
		_, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", member, b.in)
		if apperr.FieldsOf(err)[b.field] == "" {
			t.Errorf("%s: error %v, want a message on %s", b.name, err, b.field)
		}
	}
	if _, err := debate.AddArgument(ctx, db, co.ID, "produits-de-la-chasse", member, debate.ArgumentInput{Stance: debate.StanceFor, BodyMD: "x"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("argument on a requested debate: %v", err)
	}

	a, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", member, debate.ArgumentInput{Stance: debate.StanceAgainst, CriterionID: env,
		BodyMD: "Trop d'eau <script>alert(1)</script> [source](javascript:alert(1)) [ok](https://eau.example)\xff"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.BodyHTML, "<script") || strings.Contains(a.BodyHTML, "javascript:") || !strings.Contains(a.BodyHTML, `rel="nofollow noopener"`) {
		t.Errorf("body not sanitised at save: %s", a.BodyHTML)
	}
	reply, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", fac, debate.ArgumentInput{ParentID: a.ID, Stance: debate.StanceNuance, BodyMD: "Le bio en consomme moins."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", member, debate.ArgumentInput{ParentID: reply.ID, Stance: debate.StanceFor, BodyMD: "x"}); apperr.FieldsOf(err)["parent"] == "" {
		t.Errorf("reply to a reply: %v", err)
	}
	if _, err := debate.AddArgument(ctx, db, co.ID, "produits-de-la-peche", member, debate.ArgumentInput{ParentID: a.ID, Stance: debate.StanceFor, BodyMD: "x"}); apperr.FieldsOf(err)["parent"] == "" {
		t.Errorf("reply across debates: %v", err)
	}

	// Edits: only the author, history kept.
	if _, err := debate.EditArgument(ctx, db, co.ID, a.ID, fac, debate.ArgumentInput{Stance: debate.StanceAgainst, BodyMD: "volé"}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("edit by someone else: %v", err)
	}
	if _, err := debate.EditArgument(ctx, db, co.ID, a.ID, member, debate.ArgumentInput{Stance: debate.StanceAgainst, CriterionID: env, BodyMD: "Beaucoup trop d'eau."}); err != nil {
		t.Fatal(err)
	}
	revs, err := debate.ArgumentRevisions(ctx, db, co.ID, a.ID)
	if err != nil || len(revs) != 1 || !strings.Contains(revs[0].BodyHTML, "Trop d") {
		t.Fatalf("revisions %+v, %v", revs, err)
	}

	// Hiding: with a reason, and no reply to a hidden argument.
	if _, err := debate.HideArgument(ctx, db, co.ID, a.ID, fac, " "); apperr.FieldsOf(err)["reason"] == "" {
		t.Errorf("hide without reason: %v", err)
	}
	if _, err := debate.HideArgument(ctx, db, co.ID, a.ID, fac, "Propos hors sujet"); err != nil {
		t.Fatal(err)
	}
	if _, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", member, debate.ArgumentInput{ParentID: a.ID, Stance: debate.StanceFor, BodyMD: "x"}); apperr.FieldsOf(err)["parent"] == "" {
		t.Errorf("reply to a hidden argument: %v", err)
	}
	d, _ := debate.DebateBySlug(ctx, db, co.ID, "riz-de-camargue")
	got, err := debate.ArgumentThread(ctx, db, co.ID, d.ID, a.ID)
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
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	res, err := debate.Search(ctx, db, co.ID, "peche", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || res.Results[0].Kind != debate.ResultDebate || res.Results[0].Slug != "produits-de-la-peche" {
		t.Fatalf("peche: %+v", res.Results)
	}
	res, err = debate.Search(ctx, db, co.ID, "riz camargue", 1)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[debate.SearchKind]int{}
	for _, r := range res.Results {
		kinds[r.Kind]++
		if r.Slug == "riz-de-camargue" && !strings.Contains(string(r.Snippet()), "<mark>") {
			t.Errorf("no highlight in %q", r.Snippet())
		}
	}
	if kinds[debate.ResultDebate] == 0 || kinds[debate.ResultArgument] == 0 {
		t.Errorf("riz camargue: %v", kinds)
	}
	// Public proposals are found; drafts never are.
	if _, err := db.ExecContext(ctx, `INSERT INTO proposals (council_id, kind, state, title, outcome, author_name) VALUES
		(?, 'criteria', 'ouverte', 'Conventionner le kombucha fermier', 'Le kombucha est conventionné.', 'A'),
		(?, 'criteria', 'brouillon', 'Brouillon secret sur le kombucha', 'Rien.', 'B')`, co.ID, co.ID); err != nil {
		t.Fatal(err)
	}
	res, err = debate.Search(ctx, db, co.ID, "kombucha", 1)
	if err != nil {
		t.Fatal(err)
	}
	proposals := 0
	for _, r := range res.Results {
		if r.Kind == debate.ResultProposal {
			proposals++
			if r.Title != "Conventionner le kombucha fermier" || !strings.HasPrefix(r.URL(), "/propositions/") {
				t.Errorf("kombucha: %+v", r)
			}
		}
	}
	if proposals != 1 {
		t.Errorf("kombucha: %d proposals found, want the public one only", proposals)
	}
	// A word in more arguments than are ranked: every match is counted, the
	// most recent ones are ranked and paged.
	if _, err := db.ExecContext(ctx, `INSERT INTO arguments (council_id, debate_id, stance, body_md, body_html, body_text, author_name, is_demo)
		SELECT d.council_id, d.id, 'pour', 'Zythologie ' || i, '<p>Zythologie ' || i || '</p>', 'Zythologie ' || i, 'Démo', true
		FROM debates d, generate_series(1, ?) i WHERE d.council_id = ? AND d.slug = 'riz-de-camargue' ORDER BY i`,
		debate.SearchArgumentCandidates+51, co.ID); err != nil {
		t.Fatal(err)
	}
	res, err = debate.Search(ctx, db, co.ID, "zythologie", 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != debate.SearchArgumentCandidates+51 || res.Ranked != debate.SearchArgumentCandidates || !res.Capped() ||
		res.Pages() != debate.SearchArgumentCandidates/debate.SearchPageSize || len(res.Results) != debate.SearchPageSize {
		t.Errorf("zythologie: total %d, ranked %d, pages %d, %d results", res.Total, res.Ranked, res.Pages(), len(res.Results))
	}
	var oldest int64
	if err := db.NewRaw("SELECT min(id) FROM arguments WHERE body_text LIKE 'Zythologie %'").Scan(ctx, &oldest); err != nil {
		t.Fatal(err)
	}
	// The arguments' index keeps no pending list that every search would
	// read (migration 0035): new arguments are in the index proper.
	var noPending bool
	if err := db.NewRaw("SELECT coalesce('fastupdate=off' = ANY(reloptions), false) FROM pg_class WHERE relname = 'arguments_search'").Scan(ctx, &noPending); err != nil || !noPending {
		t.Errorf("arguments_search keeps a pending list (fastupdate=off: %v, %v)", noPending, err)
	}
	for _, page := range []int{1, res.Pages()} {
		res, err := debate.Search(ctx, db, co.ID, "zythologie", page)
		if err != nil || len(res.Results) != debate.SearchPageSize {
			t.Fatalf("zythologie, page %d: %+v %v", page, res, err)
		}
		for _, r := range res.Results {
			if r.ID < oldest+51 || !strings.Contains(string(r.Snippet()), "<mark>Zythologie</mark>") {
				t.Errorf("zythologie, page %d: argument %d (one of the 51 oldest: %v), snippet %q", page, r.ID, r.ID < oldest+51, r.Snippet())
			}
		}
	}
	// Another council sees none of it.
	var other int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('autre', 'Autre') RETURNING id").Scan(ctx, &other); err != nil {
		t.Fatal(err)
	}
	res, err = debate.Search(ctx, db, other, "riz camargue", 1)
	if err != nil || len(res.Results) != 0 {
		t.Errorf("other council: %+v %v", res, err)
	}
	// Hostile queries are harmless.
	for _, q := range []string{"\xff\xfe", "'); DROP TABLE debates; --", "<script>", strings.Repeat("a ", 500), "!!! & | :*"} {
		if _, err := debate.Search(ctx, db, co.ID, q, 3); err != nil {
			t.Errorf("query %q: %v", q, err)
		}
	}
}

func TestBacklogOrderAndSuggestions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	m1, _ := webtest.CreateMember(t, db, co.ID, authz.Member, "")
	m2, _ := webtest.CreateMember(t, db, co.ID, authz.Member, "")
	for _, s := range []struct {
		id   int64
		slug string
	}{{m1, "produits-de-la-chasse"}, {m2, "produits-de-la-chasse"}, {m1, "produits-de-la-chasse"}, {m2, "plants-potagers"}} {
		if err := debate.Support(ctx, db, co.ID, s.slug, audit.Actor{AccountID: s.id}, true); err != nil {
			t.Fatal(err)
		}
	}
	b, err := debate.Backlog(ctx, db, co.ID, m1)
	if err != nil {
		t.Fatal(err)
	}
	if b[0].Slug != "produits-de-la-chasse" || b[0].Supports != 2 || !b[0].Supported || b[1].Slug != "plants-potagers" || b[1].Supports != 1 || b[1].Supported {
		t.Errorf("backlog head: %+v %+v", b[0], b[1])
	}
	if err := debate.Support(ctx, db, co.ID, "riz-de-camargue", audit.Actor{AccountID: m1}, true); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("support of an open debate: %v", err)
	}

	// Suggestions: validated, rate limited per address, reviewed.
	if err := debate.Suggest(ctx, db, co.ID, "192.0.2.1", &debate.Suggestion{Title: "x", Theme: "produits"}); apperr.FieldsOf(err)["title"] == "" {
		t.Errorf("short title: %v", err)
	}
	if err := debate.Suggest(ctx, db, co.ID, "192.0.2.1", &debate.Suggestion{Title: "Le kombucha", Theme: "inconnu"}); apperr.FieldsOf(err)["theme"] == "" {
		t.Errorf("bad theme: %v", err)
	}
	var first *debate.Suggestion
	for i := 0; i < debate.SuggestLimit; i++ {
		s := &debate.Suggestion{Title: "Le kombucha", Question: "Boisson fermentée locale ?", Theme: "produits"}
		if err := debate.Suggest(ctx, db, co.ID, "192.0.2.2", s); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = s
		}
	}
	if err := debate.Suggest(ctx, db, co.ID, "192.0.2.2", &debate.Suggestion{Title: "Le kombucha", Theme: "produits"}); apperr.CodeOf(err) != apperr.TooMany {
		t.Errorf("over the limit: %v", err)
	}
	if err := debate.Suggest(ctx, db, co.ID, "192.0.2.3", &debate.Suggestion{Title: "Le kombucha bis", Theme: "produits"}); err != nil {
		t.Errorf("another address: %v", err)
	}
	d, err := debate.ReviewSuggestion(ctx, db, co.ID, first.ID, audit.Actor{AccountID: m1, Name: "x"}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Slug != "le-kombucha" || d.State != debate.DebateRequested {
		t.Errorf("accepted suggestion: %+v", d)
	}
	if _, err := debate.ReviewSuggestion(ctx, db, co.ID, first.ID, audit.Actor{AccountID: m1, Name: "x"}, true, ""); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("second review: %v", err)
	}
	if debate.Slugify("Œufs & pêche : « local » ?") != "oeufs-peche-local" {
		t.Errorf("Slugify = %q", debate.Slugify("Œufs & pêche : « local » ?"))
	}
}

func TestBalanceCountsVisibleArgumentsAndRepliesPerCriterion(t *testing.T) {
	t.Parallel()
	env, price := int64(10), int64(1)
	hidden := time.Now()
	args := []*debate.Argument{
		{ID: 1, Stance: debate.StanceFor, CriterionID: &env, Replies: []*debate.Argument{{ID: 2, Stance: debate.StanceAgainst, CriterionID: &env}}},
		{ID: 3, Stance: debate.StanceAgainst, CriterionID: &env},
		{ID: 4, Stance: debate.StanceAgainst, CriterionID: &env, HiddenAt: &hidden},
		{ID: 5, Stance: debate.StanceQuestion, CriterionID: &price},
		{ID: 6, Stance: debate.StanceFor},
	}
	got := debate.BalanceOf(args, []debate.CriterionOption{{ID: price, Name: "Prix"}, {ID: 7, Name: "Vide"}, {ID: env, Name: "Environnement"}}, env)
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

// FuzzHighlight: whatever the stored text and the query's lexemes hold, a
// search snippet carries no markup but balanced <mark> elements, each around
// one word.
func FuzzHighlight(f *testing.F) {
	f.Add("<b>riz</b> Camargue & riz", "'riz' & 'camargu'")
	f.Add("<script>alert(1)</script> l'agriculture", "'script' <-> 'agricultur'")
	f.Fuzz(func(t *testing.T, s, tree string) {
		r := debate.Headline(s, tree)
		out := string(r.Snippet())
		rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(out)
		if strings.ContainsAny(rest, "<>\"'") {
			t.Fatalf("snippet of %q = %q", s, out)
		}
		if strings.Count(out, "<mark>") != strings.Count(out, "</mark>") {
			t.Fatalf("unbalanced marks in %q", out)
		}
		for _, p := range r.Headline {
			if p.Mark && strings.IndexFunc(p.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) }) >= 0 {
				t.Fatalf("marked part %q is not one word", p.Text)
			}
		}
	})
}

// A debate links only its council's register items, and lists them by name.
func TestEditDebateLinksOnlyTheCouncilsItems(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	facID, _ := webtest.CreateMember(t, db, co.ID, authz.Facilitator, "Bruno")
	fac := audit.Actor{AccountID: facID, Name: "Bruno", Role: authz.Facilitator}
	items, err := catalog.ItemsBelowFamilies(ctx, db, co.ID)
	if err != nil || len(items) < 2 {
		t.Fatalf("demo items: %d, %v", len(items), err)
	}
	d, err := debate.EditDebate(ctx, db, co.ID, "riz-de-camargue", fac, "Contexte", []int64{items[1].ID, 999999999, items[0].ID, items[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := debate.DebateItems(ctx, db, co.ID, d.ID)
	if err != nil || len(got) != 2 || got[0].ID != items[0].ID || got[1].ID != items[1].ID || got[0].Slug != items[0].Slug || got[0].Status != string(items[0].Status) {
		t.Fatalf("linked items: %+v, %v", got, err)
	}
	if _, err := debate.EditDebate(ctx, db, co.ID, "riz-de-camargue", fac, "Contexte", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := debate.DebateItems(ctx, db, co.ID, d.ID); err != nil || len(got) != 0 {
		t.Fatalf("unlinked: %+v, %v", got, err)
	}
}
