package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/demo"
	"cla/governance/debate"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/idempotency"
	"cla/internal/webtest"
)

func debateCouncilID(t *testing.T, db *bun.DB) int64 {
	t.Helper()
	id := demoCouncilID(t, db)
	return id
}

func criterionID(t *testing.T, db *bun.DB, councilID int64, name string) string {
	t.Helper()
	var id string
	if err := db.NewRaw("SELECT id::text FROM criteria WHERE council_id = ? AND name = ?", councilID, name).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

var argumentLocation = regexp.MustCompile(`^/debats/riz-de-camargue#argument-(\d+)$`)

// section returns the part of body from the element with id start up to the
// next occurrence of end.
func section(t *testing.T, body, start, end string) string {
	t.Helper()
	i := strings.Index(body, start)
	if i < 0 {
		t.Fatalf("page lacks %q", start)
	}
	rest := body[i:]
	if j := strings.Index(rest[len(start):], end); j >= 0 {
		return rest[:len(start)+j]
	}
	return rest
}

func TestDebateArgumentOverHTTP(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := debateCouncilID(t, db)
	member, _ := webtest.SignIn(t, app, db, co, authz.Member)
	facilitator, _ := webtest.SignIn(t, app, db, co, authz.Facilitator)
	anon := webtest.New(t, app)
	env := criterionID(t, db, co, "Santé de l'environnement")
	price := criterionID(t, db, co, "Accessibilité : prix")

	// The page: synthesis first, then the arguments; the form for members only.
	resp, body := anon.Get("/debats/riz-de-camargue")
	if resp.StatusCode != 200 || strings.Index(body, "synthese-titre") > strings.Index(body, "arguments-titre") || strings.Contains(body, `action="/debats/riz-de-camargue/arguments"`) {
		t.Fatalf("anonymous debate page: %d", resp.StatusCode)
	}
	if _, body := member.Get("/debats/riz-de-camargue"); !strings.Contains(body, `action="/debats/riz-de-camargue/arguments"`) {
		t.Fatal("a member has no argument form")
	}

	// Bad input is refused with a message and the text kept.
	bad := []struct {
		form url.Values
		want string
	}{
		{url.Values{"stance": {"peut-etre"}, "body": {"Texte conservé"}}, "Choisissez une position"},
		{url.Values{"stance": {"contre"}, "criterion": {"999999"}, "body": {"Texte conservé"}}, "critère n&#39;existe pas"},
		{url.Values{"stance": {"contre"}, "body": {"  "}}, "est obligatoire"},
		{url.Values{"stance": {"contre"}, "body": {strings.Repeat("x", debate.MaxBodyLen+1)}}, "dépasse la limite"},
	}
	for _, b := range bad {
		resp, body := member.PostForm("/debats/riz-de-camargue/arguments", b.form)
		if resp.StatusCode != 422 || !strings.Contains(body, b.want) {
			t.Errorf("%v: %d, want 422 with %q", b.form.Get("stance"), resp.StatusCode, b.want)
		}
	}
	if resp, _ := anon.PostForm("/debats/riz-de-camargue/arguments", url.Values{"stance": {"pour"}, "body": {"x"}}); resp.StatusCode < 400 {
		t.Errorf("anonymous argument: %d", resp.StatusCode)
	}

	// A member's argument tagged "Santé de l'environnement" lands on the contre side.
	text := "L'eau pompée dans le Rhône pour les rizières manque aux zones humides."
	resp, _ = member.PostForm("/debats/riz-de-camargue/arguments", url.Values{"stance": {"contre"}, "criterion": {env},
		"body": {text + "\n\n<script>alert(1)</script><img src=x onerror=alert(1)> \n\n[lien](javascript:alert(1)) [source](https://eau.example/rapport)"}})
	m := argumentLocation.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != 303 || m == nil {
		t.Fatalf("add argument: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	id := m[1]
	_, body = anon.Get("/debats/riz-de-camargue")
	contre := section(t, body, `id="contre-titre"`, "</section>\n    </div>")
	pour := section(t, body, `id="pour-titre"`, `id="contre-titre"`)
	if !strings.Contains(contre, `id="argument-`+id+`"`) || strings.Contains(pour, `id="argument-`+id+`"`) {
		t.Error("the new contre argument is not on the contre side")
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "onerror=") || strings.Contains(body, "javascript:") ||
		!strings.Contains(body, `href="https://eau.example/rapport" rel="nofollow noopener"`) {
		t.Errorf("hostile markdown not neutralised on the debate page: script=%v onerror=%v js=%v rel=%v", strings.Contains(body, "<script>alert"), strings.Contains(body, "onerror="), strings.Contains(body, "javascript:"), strings.Contains(body, `href="https://eau.example/rapport" rel="nofollow noopener"`))
	}
	// The criterion filter (server side, query string) keeps it; another criterion does not.
	if _, body := anon.Get("/debats/riz-de-camargue?critere=" + env); !strings.Contains(body, `id="argument-`+id+`"`) || !strings.Contains(body, "critère « Santé de l&#39;environnement »") {
		t.Error("the criterion filter lacks the argument")
	}
	if _, body := anon.Get("/debats/riz-de-camargue?critere=" + price); strings.Contains(body, `id="argument-`+id+`"`) || !strings.Contains(body, "Le riz est un produit de base") {
		t.Error("filtering on another criterion shows the argument, or hides that criterion's own")
	}
	if resp, _ := anon.Get("/debats/riz-de-camargue?critere=abc"); resp.StatusCode != 200 {
		t.Errorf("bad filter: %d", resp.StatusCode)
	}
	// The balance chart is an SVG drawn on the server.
	if !strings.Contains(body, `<svg class="balance-bar"`) {
		t.Error("no balance chart")
	}

	// A citizen without an account reads it through its permalink.
	permalink := "/debats/riz-de-camargue/arguments/" + id
	resp, body = anon.Get(permalink)
	if resp.StatusCode != 200 || !strings.Contains(body, "L&#39;eau pompée dans le Rhône") || !strings.Contains(body, "Santé de l&#39;environnement") {
		t.Fatalf("permalink: %d", resp.StatusCode)
	}
	if resp, _ := anon.Get("/debats/produits-de-la-peche/arguments/" + id); resp.StatusCode != 404 {
		t.Errorf("argument under another debate's URL: %d", resp.StatusCode)
	}

	// Reply, edit with history, hide with reason; no reply to a hidden argument.
	if resp, _ := facilitator.PostForm("/debats/riz-de-camargue/arguments", url.Values{"parent": {id}, "stance": {"nuance"}, "body": {"Le bio en consomme autant."}}); resp.StatusCode != 303 {
		t.Errorf("reply: %d", resp.StatusCode)
	}
	if resp, _ := facilitator.PostForm(permalink, url.Values{"stance": {"pour"}, "body": {"détourné"}}); resp.StatusCode != 403 {
		t.Errorf("edit by another member: %d", resp.StatusCode)
	}
	if resp, _ := member.PostForm(permalink, url.Values{"stance": {"contre"}, "criterion": {env}, "body": {"Les rizières pompent l'eau du Rhône."}}); resp.StatusCode != 303 {
		t.Errorf("edit: %d", resp.StatusCode)
	}
	_, body = anon.Get(permalink)
	if !strings.Contains(body, "modifié") || !strings.Contains(section(t, body, `id="historique"`, "</section>"), "L&#39;eau pompée dans le Rhône") || !strings.Contains(body, "Le bio en consomme autant") {
		t.Error("edit history or reply missing on the permalink")
	}
	if resp, _ := member.PostForm(permalink+"/masquer", url.Values{"reason": {"x"}}); resp.StatusCode != 403 {
		t.Errorf("hide by a member: %d", resp.StatusCode)
	}
	if resp, _ := facilitator.PostForm(permalink+"/masquer", url.Values{"reason": {"Hors sujet"}}); resp.StatusCode != 303 {
		t.Errorf("hide: %d", resp.StatusCode)
	}
	_, body = anon.Get(permalink)
	if !strings.Contains(body, "masqué par Animateur·ice") || !strings.Contains(body, ": Hors sujet") || strings.Contains(body, "pompent l&#39;eau") {
		t.Error("a hidden argument does not say who hid it and why, or still shows its text")
	}
	if resp, body := member.PostForm("/debats/riz-de-camargue/arguments", url.Values{"parent": {id}, "stance": {"pour"}, "body": {"Réponse"}}); resp.StatusCode != 422 || !strings.Contains(body, "masqué") {
		t.Errorf("reply to a hidden argument: %d", resp.StatusCode)
	}

	// Invalid UTF-8 is kept as U+FFFD, never stored as is.
	resp, _ = member.PostForm("/debats/riz-de-camargue/arguments", url.Values{"stance": {"question"}, "body": {"Caf\xe9 \xff\xfe ou thé ?"}})
	m = argumentLocation.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != 303 || m == nil {
		t.Fatalf("invalid UTF-8: %d", resp.StatusCode)
	}
	if _, body := anon.Get("/debats/riz-de-camargue/arguments/" + m[1]); !strings.Contains(body, "Caf\uFFFD") {
		t.Error("invalid UTF-8 not replaced")
	}

	// Another council's host sees none of this council's debates or arguments.
	var other int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('nyons', 'CLA de Nyons') RETURNING id").Scan(context.Background(), &other); err != nil {
		t.Fatal(err)
	}
	elsewhere := webtest.New(t, app)
	elsewhere.Host = webtest.HostFor(t, db, other)
	for _, path := range []string{"/debats/riz-de-camargue", permalink} {
		if resp, _ := elsewhere.Get(path); resp.StatusCode != 404 {
			t.Errorf("%s from another council: %d", path, resp.StatusCode)
		}
	}
	if _, body := elsewhere.Get("/recherche?q=riz"); strings.Contains(body, "riz-de-camargue") {
		t.Error("another council's search finds this council's debate")
	}
}

// countQueries counts every query run on db.
type countQueries struct{ n atomic.Int64 }

func (c *countQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *countQueries) AfterQuery(context.Context, *bun.QueryEvent) {}

func TestDebatePageRunsAFixedNumberOfQueries(t *testing.T) {
	t.Parallel()
	_, db := newTestApp(t)
	app := newUncachedAppOver(t, db)
	counter := &countQueries{}
	db.AddQueryHook(counter)
	anon := webtest.New(t, app)
	anon.Get("/debats/riz-de-camargue") // warm the council cache
	count := func() int64 {
		before := counter.n.Load()
		if resp, _ := anon.Get("/debats/riz-de-camargue"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return counter.n.Load() - before
	}
	few := count()
	if _, err := db.ExecContext(context.Background(), `INSERT INTO arguments (council_id, debate_id, stance, criterion_id, body_md, body_html, body_text, author_name, is_demo)
		SELECT d.council_id, d.id, (ARRAY['pour','contre','nuance','question','fait_source'])[1 + i % 5],
			(SELECT id FROM criteria c WHERE c.council_id = d.council_id ORDER BY id OFFSET i % 12 LIMIT 1),
			'Argument ' || i, '<p>Argument ' || i || '</p>', 'Argument ' || i, 'Démo', true
		FROM debates d, generate_series(1, 500) i WHERE d.slug = 'riz-de-camargue'`); err != nil {
		t.Fatal(err)
	}
	many := count()
	if few != many || many > 8 {
		t.Errorf("debate page: %d queries with 5 arguments, %d with 505", few, many)
	}
	if _, body := anon.Get("/debats/riz-de-camargue"); !strings.Contains(body, "<p>Argument 500</p>") {
		t.Error("the 500th argument is not shown")
	}
}

func TestSearchOverHTTP(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	anon := webtest.New(t, app)
	resp, body := anon.Get("/recherche?q=peche")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/debats/produits-de-la-peche"`) {
		t.Fatalf("peche: %d", resp.StatusCode)
	}
	_, body = anon.Get("/recherche?q=" + url.QueryEscape("riz camargue"))
	if !strings.Contains(body, `href="/debats/riz-de-camargue"`) || !strings.Contains(body, `href="/debats/riz-de-camargue/arguments/`) ||
		!regexp.MustCompile(`<mark>(?i:riz|camargue)</mark>`).MatchString(body) {
		t.Error("riz camargue: the debate, its arguments or the highlights are missing")
	}
	for _, q := range []string{"%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%FF%FE", "riz&page=-3", "riz&page=99999", ""} {
		resp, body := anon.Get("/recherche?q=" + q)
		if resp.StatusCode != 200 || strings.Contains(body, "<script>alert") {
			t.Errorf("q=%s: %d", q, resp.StatusCode)
		}
	}
}

func TestBacklogOverHTTP(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := debateCouncilID(t, db)
	m1, _ := webtest.SignIn(t, app, db, co, authz.Member)
	m2, _ := webtest.SignIn(t, app, db, co, authz.Member)
	facilitator, _ := webtest.SignIn(t, app, db, co, authz.Facilitator)
	anon := webtest.New(t, app)

	for _, c := range []*webtest.Client{m1, m2, m1} {
		if resp, _ := c.PostForm("/debats/souhaites/produits-de-la-chasse/soutien", nil); resp.StatusCode != 303 {
			t.Fatalf("support: %d", resp.StatusCode)
		}
	}
	if resp, _ := anon.PostForm("/debats/souhaites/produits-de-la-chasse/soutien", nil); resp.StatusCode < 400 {
		t.Errorf("anonymous support: %d", resp.StatusCode)
	}
	_, body := anon.Get("/debats/souhaites")
	first := strings.Index(body, `id="produits-de-la-chasse"`)
	if first < 0 || first > strings.Index(body, `id="pratiques-non-labellisees"`) || !strings.Contains(body, "2 soutiens") {
		t.Error("the most supported debate is not first, or its count is wrong")
	}

	// "Puis-je acheter… ?" sends the words it did not find: the form starts
	// from them, as a product topic (issue 20).
	if _, body := anon.Get("/debats/proposer?sujet=" + url.QueryEscape("  tofu   fumé ")); !strings.Contains(body, `value="tofu fumé"`) ||
		!strings.Contains(body, `<option value="produits" selected>`) {
		t.Error("the suggestion form does not start from the words of the lookup")
	}

	// Public suggestions: validated, honeypot, rate limit, facilitator review.
	if resp, body := anon.PostForm("/debats/proposer", url.Values{"title": {"Le kombucha"}, "theme": {"nope"}}); resp.StatusCode != 422 || !strings.Contains(body, `value="Le kombucha"`) {
		t.Errorf("invalid suggestion: %d", resp.StatusCode)
	}
	if resp, _ := anon.PostForm("/debats/proposer", url.Values{"title": {"Pilules miracles"}, "theme": {"produits"}, "site_web": {"http://spam.example"}}); resp.StatusCode != 303 {
		t.Errorf("honeypot: %d", resp.StatusCode)
	}
	for i := 0; i < debate.SuggestLimit; i++ {
		if resp, _ := anon.PostForm("/debats/proposer", url.Values{"title": {"Le kombucha"}, "question": {"Boisson fermentée ?"}, "theme": {"produits"}}); resp.StatusCode != 303 {
			t.Fatalf("suggestion %d: %d", i, resp.StatusCode)
		}
	}
	if resp, _ := anon.PostForm("/debats/proposer", url.Values{"title": {"Le kombucha"}, "theme": {"produits"}}); resp.StatusCode != 429 {
		t.Errorf("over the rate limit: %d", resp.StatusCode)
	}
	if resp, _ := m1.Get("/debats/suggestions"); resp.StatusCode != 403 {
		t.Errorf("suggestions for a member: %d", resp.StatusCode)
	}
	_, body = facilitator.Get("/debats/suggestions")
	if strings.Contains(body, "Pilules miracles") || strings.Count(body, "<h2>Le kombucha</h2>") != debate.SuggestLimit {
		t.Fatal("the review list shows the honeypot's suggestion or misses real ones")
	}
	sid := regexp.MustCompile(`action="/debats/suggestions/(\d+)"`).FindStringSubmatch(body)[1]
	if resp, _ := facilitator.PostForm("/debats/suggestions/"+sid, url.Values{"decision": {"accepter"}}); resp.StatusCode != 303 {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	if _, body := anon.Get("/debats/souhaites"); !strings.Contains(body, `id="le-kombucha"`) {
		t.Error("an accepted suggestion is not in the backlog")
	}

	// Facilitators open and close debates; closing needs a conclusion.
	var kombucha string
	if err := db.NewRaw("SELECT id::text FROM register_items WHERE council_id = ? AND slug = 'kombucha'", co).Scan(context.Background(), &kombucha); err != nil {
		t.Fatal(err)
	}
	if resp, _ := facilitator.PostForm("/debats/le-kombucha/etat", url.Values{"state": {"ouvert"}}); resp.StatusCode != 303 {
		t.Errorf("open: %d", resp.StatusCode)
	}
	if resp, _ := facilitator.PostForm("/debats/le-kombucha/etat", url.Values{"state": {"clos"}}); resp.StatusCode != 422 {
		t.Errorf("close without conclusion: %d", resp.StatusCode)
	}
	if resp, _ := facilitator.PostForm("/debats/le-kombucha/animer", url.Values{"synthesis": {"Deux avis **partagés**."}, "context": {"Le kombucha de Dieulefit."}, "item": {kombucha, "999999"}}); resp.StatusCode != 303 {
		t.Errorf("synthesis: %d", resp.StatusCode)
	}
	if resp, _ := facilitator.PostForm("/debats/le-kombucha/etat", url.Values{"state": {"clos"}, "conclusion": {"Conventionné à l'essai."}}); resp.StatusCode != 303 {
		t.Errorf("close: %d", resp.StatusCode)
	}
	if resp, _ := m1.PostForm("/debats/le-kombucha/etat", url.Values{"state": {"ouvert"}}); resp.StatusCode != 403 {
		t.Errorf("state change by a member: %d", resp.StatusCode)
	}
	_, body = anon.Get("/debats/le-kombucha")
	if !strings.Contains(body, "Conventionné à l&#39;essai.") || !strings.Contains(body, "<strong>partagés</strong>") || !strings.Contains(body, "Clos") ||
		!strings.Contains(body, `href="/registre/kombucha"`) {
		t.Error("closed debate page lacks its conclusion or synthesis")
	}
}

var formKeyInput = regexp.MustCompile(`name="_idem" value="([A-Za-z0-9_-]+)"`)

// serveOnLoopback serves app on a loopback port for real concurrent
// requests, and returns its base URL.
func serveOnLoopback(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	t.Cleanup(func() {
		_ = app.ShutdownWithTimeout(5 * time.Second)
		<-served
	})
	return "http://" + ln.Addr().String()
}

// postConcurrently sends n identical form posts at once, as c's browser
// would (its session or anonymous CSRF cookie), and returns the statuses and
// Locations.
func postConcurrently(t *testing.T, base, path string, c *webtest.Client, form url.Values, n int) ([]int, []string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	statuses, locations := make([]int, n), make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, name := range []string{auth.SessionCookie, auth.CSRFCookie} {
				if v := c.Cookie(name); v != "" {
					req.AddCookie(&http.Cookie{Name: name, Value: v})
				}
			}
			<-start
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i], locations[i] = resp.StatusCode, resp.Header.Get("Location")
		}(i)
	}
	close(start)
	wg.Wait()
	return statuses, locations
}

// A double click sends the argument form twice: 8 simultaneous submissions of
// one rendered form (its idempotency key) create one argument, and every one
// of them is answered with it. The same text in a new form is a new argument;
// a form without its key is refused with a message, the text kept.
func TestArgumentFormSentEightTimesCreatesOne(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	member, _ := webtest.SignIn(t, app, db, councilID, authz.Member)
	_, body := member.Get("/debats/riz-de-camargue")
	key := formKeyInput.FindStringSubmatch(body)
	if key == nil {
		t.Fatalf("the argument form has no idempotency key: %.3000s", body)
	}
	base := serveOnLoopback(t, app)
	text := "Un seul argument, même envoyé huit fois d'un double clic fébrile."
	form := url.Values{"stance": {"pour"}, "body": {text}, auth.CSRFField: {member.CSRFToken()}, idempotency.Field: {key[1]}}
	statuses, locations := postConcurrently(t, base, "/debats/riz-de-camargue/arguments", member, form, 8)
	for i := range statuses {
		if statuses[i] != http.StatusSeeOther || locations[i] != locations[0] || argumentLocation.FindStringSubmatch(locations[i]) == nil {
			t.Errorf("submission %d: %d %q (first: %q)", i, statuses[i], locations[i], locations[0])
		}
	}
	count := func() int {
		var n int
		if err := db.NewRaw("SELECT count(*) FROM arguments WHERE council_id = ? AND body_md = ?", councilID, text).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("8 submissions of one form created %d arguments", n)
	}
	// Sent again later (the back button): still the same argument.
	if resp, _ := member.PostForm("/debats/riz-de-camargue/arguments", form); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != locations[0] || count() != 1 {
		t.Fatalf("the form sent again: %d %q, %d arguments", resp.StatusCode, resp.Header.Get("Location"), count())
	}
	// A new form (a new key) with the same text is a new argument.
	if resp, _ := member.PostForm("/debats/riz-de-camargue/arguments", url.Values{"stance": {"pour"}, "body": {text}}); resp.StatusCode != http.StatusSeeOther || count() != 2 {
		t.Fatalf("a new form with the same text: %d, %d arguments", resp.StatusCode, count())
	}
	// Without a key (a hand-made request), nothing is created and the text is kept.
	resp, body := member.PostForm("/debats/riz-de-camargue/arguments", url.Values{"stance": {"pour"}, "body": {"Sans clé"}, idempotency.Field: {""}})
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, "envoyez-le de nouveau") || !strings.Contains(body, ">Sans clé</textarea>") {
		t.Fatalf("a form without its key: %d %.3000s", resp.StatusCode, body)
	}
}

// The other create-forms of members share the mechanism: a proposal and a
// meeting sent four times at once from one rendered form are created once.
func TestProposalAndMeetingFormsSentFourTimesCreateOne(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	base := serveOnLoopback(t, app)
	for _, tc := range []struct {
		page, action, table, title string
		form                       url.Values
	}{
		{"/propositions/nouvelle", "/propositions/nouvelle", "proposals", "Conventionner le sel de Camargue",
			url.Values{"kind": {"item_new"}, "item_name": {"Sel de Camargue"}, "proposed_status": {"conventionne"}, "outcome": {"Le sel devient conventionné."}}},
		{"/seances", "/seances", "meetings", "Séance du double clic",
			url.Values{"starts_at": {"2026-12-16T18:30"}, "duration": {"120"}, "place": {"Salle des fêtes"}}},
	} {
		_, body := fac.Get(tc.page)
		key := formKeyInput.FindStringSubmatch(body)
		if key == nil {
			t.Fatalf("%s: the form has no idempotency key", tc.page)
		}
		form := url.Values{"title": {tc.title}, auth.CSRFField: {fac.CSRFToken()}, idempotency.Field: {key[1]}}
		for k, v := range tc.form {
			form[k] = v
		}
		statuses, locations := postConcurrently(t, base, tc.action, fac, form, 4)
		for i := range statuses {
			if statuses[i] != http.StatusSeeOther || locations[i] != locations[0] {
				t.Errorf("%s, submission %d: %d %q (first: %q)", tc.action, i, statuses[i], locations[i], locations[0])
			}
		}
		var n int
		if err := db.NewRaw("SELECT count(*) FROM "+tc.table+" WHERE council_id = ? AND title = ?", councilID, tc.title).Scan(ctx, &n); err != nil || n != 1 {
			t.Errorf("%s sent four times: %d rows (%v)", tc.action, n, err)
		}
	}
}

// The anonymous suggestion form too: sent four times at once, one suggestion
// (and one slot of its rate limit).
func TestSuggestionFormSentFourTimesCreatesOne(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	anon := webtest.New(t, app)
	_, body := anon.Get("/debats/proposer")
	key := formKeyInput.FindStringSubmatch(body)
	if key == nil {
		t.Fatal("the suggestion form has no idempotency key")
	}
	base := serveOnLoopback(t, app)
	title := "Faut-il conventionner le miel de lavande ?"
	form := url.Values{"title": {title}, "theme": {"produits"}, auth.CSRFField: {anon.CSRFToken()}, idempotency.Field: {key[1]}}
	statuses, _ := postConcurrently(t, base, "/debats/proposer", anon, form, 4)
	for i, st := range statuses {
		if st != http.StatusSeeOther {
			t.Errorf("submission %d: %d", i, st)
		}
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM debate_suggestions WHERE title = ?", title).Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("the suggestion sent four times made %d (%v)", n, err)
	}
}
