package main

// Quality gates (issue 9): accessibility (axe-core in headless Chromium, plus
// keyboard basics), valid HTML (the Nu HTML Checker) and the headers walk.
//
// Which pages: the gates crawl the real app, served by Main on a loopback port
// over a fresh database holding the Dieulefit demo, twice: anonymously and signed
// in as a facilitator (through the real /connexion form). The crawl starts from
// every GET route without parameters (app.GetRoutes) and from gateSeeds, and
// follows every same-site <a href> and redirect. It keeps at most
// gatePerPattern URLs per route pattern (so /registre/:slug is checked on a few
// items, not all of them). A page reachable by a link is therefore checked
// without any change here; a page reachable only through a form or a typed URL
// must be added to gateSeeds.
//
// Run one gate alone:
//
//	go test ./cmd/cla -run TestAccessibility
//	go test ./cmd/cla -run TestHTMLValidity
//	go test ./cmd/cla -run TestHeadersOnEveryRoute
//
// The tools come from ~/.cache/cla-tools (installed by scripts/test) or CLA_* variables;
// see internal/browsertest.

import (
	"context"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"github.com/uptrace/bun"

	"cla/demo"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/webtest"
)

// gateSeed is a URL the crawler cannot find by following links.
type gateSeed struct {
	Path     string
	Status   int  // expected status; 0 means 200
	SignedIn bool // only in the facilitator's crawl
}

// gateSeeds lists the pages the crawler cannot reach through links. Add yours
// here when it is reachable only from a form, a redirect target with
// parameters, or a typed URL. Pages linked from any crawled page need nothing.
var gateSeeds = []gateSeed{
	{Path: "/page-qui-n-existe-pas", Status: http.StatusNotFound},
	{Path: "/registre/pas-de-categorie-de-ce-nom", Status: http.StatusNotFound},
	{Path: "/puis-je-acheter?q=oeufs"},
	// The demo's majority-judgment vote (issue 20, point 9): its merit table
	// at 360 and 1280 px (the meeting pages' vote links fill the two URLs
	// the crawl keeps per pattern before reaching it).
	{Path: demo.DemoJudgmentVotePath},
	{Path: "/puis-je-acheter?q=alcool"},
	{Path: "/puis-je-acheter?q=xyzzy"},
	{Path: "/registre/changements?de=0&a=1"},
	{Path: "/points-de-vente?type=marche&commune=Dieulefit"},
	// A password reset link that is not (or no longer) valid: the page that
	// offers to ask again.
	{Path: "/connexion/reinitialiser/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Status: http.StatusNotFound},
	{Path: "/compte/notifications", SignedIn: true},
	{Path: "/gestion/notifications", SignedIn: true},
	// The subscription form, reached by the GET form of the home page.
	{Path: "/abonnement?email=citoyenne%40example.org"},
	{Path: "/points-de-vente/marche-du-lavoir/caisse?q=riz"},
	{Path: "/api/v1/shops/marche-du-lavoir/basket?since=1"},
	// The header's search box (issue 20, point 4): a product, then words that
	// appear in debates and proposals, with markdown around them.
	{Path: "/recherche?q=riz"},
	{Path: "/recherche?q=accessibilit%C3%A9"},
	{Path: "/recherche?q=local"},
}

// gatePerPattern is how many URLs of one route pattern the gates check.
const gatePerPattern = 2

// gateMaxPages bounds one crawl.
const gateMaxPages = 250

// Roles of the two crawls.
const (
	gateAnonymous   = "anonymous"
	gateFacilitator = "facilitator"
)

// gateEnv is a running cla for the gates.
type gateEnv struct {
	t      *testing.T
	m      *Main
	base   string
	routes []fiber.Route
}

func newGateEnv(t *testing.T) *gateEnv {
	t.Helper()
	m := startServer(t)
	return &gateEnv{t: t, m: m, base: "http://" + m.Addr(), routes: m.App.GetRoutes(true)}
}

// defaultCouncil returns the id of the demo council.
func (e *gateEnv) defaultCouncil() int64 {
	e.t.Helper()
	var id int64
	if err := e.m.DB.NewSelect().Table("councils").Column("id").Where("is_default").Limit(1).Scan(context.Background(), &id); err != nil {
		e.t.Fatalf("default council: %v", err)
	}
	return id
}

// newFacilitator creates a facilitator account of the demo council and returns
// its email (password webtest.Password).
func (e *gateEnv) newFacilitator() string {
	e.t.Helper()
	_, email := webtest.CreateMember(e.t, e.m.DB, e.defaultCouncil(), authz.Facilitator, "Camille Animatrice")
	e.seedIntegration()
	return email
}

// seedIntegration gives the demo council one webhook endpoint with a logged
// delivery (once), so that the crawl reaches an integration's page and its log.
func (e *gateEnv) seedIntegration() {
	e.t.Helper()
	_, err := e.m.DB.ExecContext(context.Background(), `WITH ep AS (
		INSERT INTO webhook_endpoints (council_id, url, description, events, secret)
		SELECT ?, 'https://caisse.example.org/hook', 'Caisse du Fournil', '{register.version_published,shop.changed}',
			'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
		WHERE NOT EXISTS (SELECT 1 FROM webhook_endpoints) RETURNING id, council_id),
	d AS (INSERT INTO webhook_deliveries (council_id, endpoint_id, event, event_key, message_id, payload, state, attempts, last_status)
		SELECT council_id, id, 'ping', 'ping:gate', 'msg_gate', '{}', 'pending', 1, 500 FROM ep RETURNING id)
	INSERT INTO webhook_attempts (delivery_id, at, status, answer, error, duration_ms)
		SELECT id, now(), 500, '<html>Erreur</html>', 'Le serveur a répondu 500.', 12 FROM d`, e.defaultCouncil())
	if err != nil {
		e.t.Fatalf("seed integration: %v", err)
	}
}

// client returns an HTTP client that keeps cookies and does not follow
// redirects (the crawler follows them itself).
func (e *gateEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var gateCSRFValue = regexp.MustCompile(`name="` + regexp.QuoteMeta(auth.CSRFField) + `" value="([^"]*)"`)

// signInHTTP signs c in through the real /connexion form; wrong passwords
// return the re-rendered form (status and body) instead of failing.
func (e *gateEnv) signInHTTP(c *http.Client, email, password string) (int, []byte) {
	e.t.Helper()
	_, _, body := e.get(c, "/connexion")
	m := gateCSRFValue.FindSubmatch(body)
	if m == nil {
		e.t.Fatal("no CSRF token on /connexion")
	}
	form := url.Values{"email": {email}, "password": {password}, auth.CSRFField: {html.UnescapeString(string(m[1]))}}
	resp, err := c.PostForm(e.base+"/connexion", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// postHTTP posts form to the form page path (with that page's CSRF token)
// and returns the answer's status and body.
func (e *gateEnv) postHTTP(c *http.Client, path string, form url.Values) (int, []byte) {
	e.t.Helper()
	_, _, body := e.get(c, path)
	m := gateCSRFValue.FindSubmatch(body)
	if m == nil {
		e.t.Fatalf("no CSRF token on %s", path)
	}
	form.Set(auth.CSRFField, html.UnescapeString(string(m[1])))
	resp, err := c.PostForm(e.base+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *gateEnv) get(c *http.Client, path string) (*http.Response, string, []byte) {
	e.t.Helper()
	resp, err := c.Get(e.base + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp, resp.Header.Get("Content-Type"), b
}

// gateRoute matches concrete paths against a route's path.
type gateRoute struct {
	Route fiber.Route
	re    *regexp.Regexp
}

var routeParamToken = regexp.MustCompile(`:[A-Za-z0-9_]+(<[^>]*>)?\??|\*|\+`)

func gateCompileRoute(r fiber.Route) gateRoute {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range routeParamToken.FindAllStringIndex(r.Path, -1) {
		b.WriteString(regexp.QuoteMeta(r.Path[last:loc[0]]))
		switch tok := r.Path[loc[0]:loc[1]]; tok {
		case "*":
			b.WriteString(".*")
		case "+":
			b.WriteString(".+")
		default:
			b.WriteString("[^/]+")
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(r.Path[last:]))
	b.WriteString("/?$")
	return gateRoute{Route: r, re: regexp.MustCompile(b.String())}
}

func routeHasParams(path string) bool { return routeParamToken.MatchString(path) }

// patterns returns the compiled routes of method, most specific (fewest
// parameters, longest) first.
func (e *gateEnv) patterns(method string) []gateRoute {
	var out []gateRoute
	for _, r := range e.routes {
		if r.Method == method {
			out = append(out, gateCompileRoute(r))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := len(routeParamToken.FindAllString(out[i].Route.Path, -1)), len(routeParamToken.FindAllString(out[j].Route.Path, -1))
		if pi != pj {
			return pi < pj
		}
		return len(out[i].Route.Path) > len(out[j].Route.Path)
	})
	return out
}

func gatePatternOf(pats []gateRoute, path string) string {
	for _, p := range pats {
		if p.re.MatchString(path) {
			return p.Route.Path
		}
	}
	return "unrouted:" + path
}

// gatePage is one crawled URL.
type gatePage struct {
	Role    string
	Path    string // path and query
	Pattern string // the route it matched
	Status  int
	Type    string // Content-Type
	Body    []byte
	From    string // the page that linked it ("" for a seed)
}

// IsHTML reports whether the page is an HTML document.
func (p gatePage) IsHTML() bool { return strings.HasPrefix(p.Type, "text/html") }

var gateHrefAttr = regexp.MustCompile(`(?is)<a\s[^>]*?href\s*=\s*"([^"]*)"`)

// crawl walks the app as the client c sees it. It returns every page fetched
// and the broken links (a linked page answering 4xx or 5xx, a seed answering
// another status than expected, any 5xx).
//
// A pattern already in done (another role's crawl) gets one URL, not
// gatePerPattern: the facilitator sees the public pages with little change.
func (e *gateEnv) crawl(c *http.Client, role string, done ...[]gatePage) (pages []gatePage, broken []string) {
	e.t.Helper()
	pats := e.patterns(http.MethodGet)
	type item struct {
		path, from string
		want       int // expected status of a seed; 0 for links
		seed       bool
	}
	var queue []item
	for _, r := range e.routes {
		if r.Method == http.MethodGet && !routeHasParams(r.Path) {
			queue = append(queue, item{path: r.Path, seed: true})
		}
	}
	for _, s := range gateSeeds {
		if s.SignedIn && role == gateAnonymous {
			continue
		}
		want := s.Status
		if want == 0 {
			want = http.StatusOK
		}
		queue = append(queue, item{path: s.Path, want: want, seed: true})
	}
	seen := map[string]bool{}
	perPattern := map[string]int{}
	limit := map[string]int{}
	for _, ps := range done {
		for _, p := range ps {
			limit[p.Pattern] = 1
		}
	}
	for len(queue) > 0 && len(pages) < gateMaxPages {
		it := queue[0]
		queue = queue[1:]
		if seen[it.path] {
			continue
		}
		seen[it.path] = true
		u, err := url.Parse(it.path)
		if err != nil {
			continue
		}
		pattern := gatePatternOf(pats, u.Path)
		max := gatePerPattern
		if l, ok := limit[pattern]; ok {
			max = l
		}
		if !it.seed {
			// Seeds (often error pages) do not use up their pattern's quota.
			if perPattern[pattern] >= max {
				continue
			}
			perPattern[pattern]++
		}
		resp, ct, body := e.get(c, it.path)
		pg := gatePage{Role: role, Path: it.path, Pattern: pattern, Status: resp.StatusCode, Type: ct, Body: body, From: it.from}
		pages = append(pages, pg)
		switch {
		case resp.StatusCode >= 500:
			broken = append(broken, fmt.Sprintf("%s: GET %s → %d (linked from %q)", role, it.path, resp.StatusCode, it.from))
		case it.want != 0 && resp.StatusCode != it.want:
			broken = append(broken, fmt.Sprintf("%s: GET %s → %d, want %d", role, it.path, resp.StatusCode, it.want))
		case !it.seed && resp.StatusCode >= 400:
			broken = append(broken, fmt.Sprintf("%s: broken link to %s (%d) on %s", role, it.path, resp.StatusCode, it.from))
		}
		var links []string
		if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			links = append(links, loc)
		}
		if pg.IsHTML() {
			for _, m := range gateHrefAttr.FindAllSubmatch(body, -1) {
				links = append(links, html.UnescapeString(string(m[1])))
			}
		}
		for _, l := range links {
			if p, ok := e.sameSite(it.path, l); ok && !seen[p] {
				queue = append(queue, item{path: p, from: it.path})
			}
		}
	}
	return pages, broken
}

// sameSite resolves link against the page at from and returns its path and
// query when it points into the app (not /static/, not another host).
func (e *gateEnv) sameSite(from, link string) (string, bool) {
	base, _ := url.Parse(e.base + from)
	u, err := base.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host != base.Host {
		return "", false
	}
	if strings.HasPrefix(u.Path, "/static/") {
		return "", false
	}
	u.Fragment = ""
	return u.RequestURI(), true
}

// crawlBoth crawls anonymously and as a facilitator signed in over HTTP.
func (e *gateEnv) crawlBoth() []gatePage {
	e.t.Helper()
	anon, broken := e.crawl(e.client(), gateAnonymous)
	fc := e.client()
	if status, body := e.signInHTTP(fc, e.newFacilitator(), webtest.Password); status != http.StatusSeeOther {
		e.t.Fatalf("facilitator sign-in: status %d: %.300s", status, body)
	}
	fac, broken2 := e.crawl(fc, gateFacilitator, anon)
	for _, b := range append(broken, broken2...) {
		e.t.Error(b)
	}
	return append(anon, fac...)
}

func gateHTMLPages(pages []gatePage) []gatePage {
	var out []gatePage
	for _, p := range pages {
		if p.IsHTML() {
			out = append(out, p)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Accessibility

// gateKeyboardCheck runs after a page loads in the browser: the first focusable
// element is a skip link to an existing target, Tab reaches it first and shows
// it on screen, and the first focus stops all have a visible focus indicator.
// Fields marked aria-invalid must be described (aria-describedby or
// aria-errormessage pointing at text), or the page must announce its error in a
// role="alert" or aria-live region.
func gateKeyboardCheck(p *browsertest.Page) []string {
	var problems []string
	const firstFocusable = `(() => {
		const sel = 'a[href], area[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"]), [contenteditable=""], [contenteditable=true]';
		const el = Array.from(document.querySelectorAll(sel)).find(el => !el.disabled && !el.closest('[inert]') && el.tabIndex >= 0);
		if (!el) return 'no focusable element';
		const href = el.getAttribute('href') || '';
		if (el.tagName !== 'A' || !href.startsWith('#') || href.length < 2) return 'the first focusable element is not a skip link: ' + el.outerHTML.slice(0, 120);
		if (!document.getElementById(decodeURIComponent(href.slice(1)))) return 'the skip link points to a missing target ' + href;
		return '';
	})()`
	if msg, err := browsertest.Eval[string](p, firstFocusable); err != nil {
		return []string{"keyboard check: " + err.Error()}
	} else if msg != "" {
		problems = append(problems, msg)
	}
	const focused = `(() => {
		const el = document.activeElement;
		if (!el || el === document.body) return {tag: '', visible: false, skip: false, onScreen: false};
		const s = getComputedStyle(el);
		const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
		const shadow = s.boxShadow && s.boxShadow !== 'none';
		const r = el.getBoundingClientRect();
		return {tag: el.outerHTML.slice(0, 100), visible: outline || !!shadow,
			skip: el.matches('a[href^="#"]'),
			onScreen: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight};
	})()`
	type focusState struct {
		Tag      string `json:"tag"`
		Visible  bool   `json:"visible"`
		Skip     bool   `json:"skip"`
		OnScreen bool   `json:"onScreen"`
	}
	for i := 0; i < 6; i++ {
		if err := chromedp.Do(p.Ctx, chromedp.KeyEvent("\t")); err != nil {
			return append(problems, "Tab: "+err.Error())
		}
		st, err := browsertest.Eval[focusState](p, focused)
		if err != nil {
			return append(problems, "focus state: "+err.Error())
		}
		if st.Tag == "" {
			break // focus left the document: fewer focus stops than tabs
		}
		if i == 0 && (!st.Skip || !st.OnScreen) {
			problems = append(problems, "the first Tab does not show the skip link on screen: "+st.Tag)
		}
		if !st.Visible {
			problems = append(problems, "no visible focus indicator on "+st.Tag)
		}
	}
	const errors = `(() => {
		const out = [];
		const announced = Array.from(document.querySelectorAll('[role=alert], [aria-live=assertive], [aria-live=polite], [role=status]')).some(e => e.textContent.trim() !== '');
		for (const el of document.querySelectorAll('[aria-invalid=true]')) {
			const ids = ((el.getAttribute('aria-describedby') || '') + ' ' + (el.getAttribute('aria-errormessage') || '')).split(/\s+/).filter(Boolean);
			const described = ids.length > 0 && ids.every(id => { const d = document.getElementById(id); return d && d.textContent.trim() !== ''; });
			if (ids.length > 0 && !described) out.push('aria-describedby/aria-errormessage of ' + (el.id || el.name) + ' points to a missing or empty element');
			if (!described && !announced) out.push('invalid field ' + (el.id || el.name) + ' has no error message announced to screen readers');
		}
		return out;
	})()`
	if msgs, err := browsertest.Eval[[]string](p, errors); err != nil {
		problems = append(problems, "error announcement check: "+err.Error())
	} else {
		problems = append(problems, msgs...)
	}
	return problems
}

// gateAuditPage runs every browser check on the page loaded in p and returns the
// problems found, one per line.
func gateAuditPage(p *browsertest.Page) []string {
	problems := gateKeyboardCheck(p)
	vs, err := p.Axe()
	if err != nil {
		return append(problems, "axe: "+err.Error())
	}
	for _, v := range vs {
		if v.Serious() {
			problems = append(problems, "axe "+v.String())
		}
	}
	for _, msg := range p.Problems() {
		problems = append(problems, "console: "+msg)
	}
	return problems
}

// TestAccessibility opens every crawled HTML page (anonymous, then as a
// facilitator signed in through the /connexion form in the browser) in one
// headless Chromium and fails on any axe-core violation of impact serious or
// critical, on keyboard problems (skip link first, visible focus), on
// unannounced field errors, and on console errors, Content-Security-Policy
// violations (the pages are loaded with their CSP enforced) or exceptions.
// The same visit checks the layout at a phone's and a desktop's width
// (gateLayoutProblems): one crawl and one page load serve both gates.
func TestAccessibility(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t)
	b := browsertest.Start(t)
	var failures []string
	report := func(role, path string, problems []string) {
		if len(problems) > 0 {
			failures = append(failures, fmt.Sprintf("%s %s%s:\n    %s", role, e.base, path, strings.Join(problems, "\n    ")))
		}
	}
	visit := func(p *browsertest.Page, pg gatePage) {
		status, err := p.Navigate(e.base + pg.Path)
		if err != nil {
			report(pg.Role, pg.Path, []string{err.Error()})
			return
		}
		if status != pg.Status {
			report(pg.Role, pg.Path, []string{fmt.Sprintf("status %d in the browser, %d over HTTP", status, pg.Status)})
			return
		}
		report(pg.Role, pg.Path, append(gateAuditPage(p), gateLayoutProblems(p)...))
	}
	checked := 0

	// Anonymous.
	anon := b.NewStrictPage(t)
	if err := anon.PreloadAxe(); err != nil {
		t.Fatal(err)
	}
	pages, broken := e.crawl(e.client(), gateAnonymous)
	anonPages := pages
	for _, s := range broken {
		t.Error(s)
	}
	for _, pg := range gateHTMLPages(pages) {
		visit(anon, pg)
		checked++
	}

	// A sign-in that fails: its error must be announced.
	email := e.newFacilitator()
	fac := b.NewStrictPage(t)
	if err := fac.PreloadAxe(); err != nil {
		t.Fatal(err)
	}
	signIn := func(password string) (int, error) {
		if _, err := fac.Navigate(e.base + "/connexion"); err != nil {
			return 0, err
		}
		ctx, cancel := context.WithTimeout(fac.Ctx, 30*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(ctx,
			chromedp.SendKeys(chromedp.CSS("#email"), email),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS(`main form[action="/connexion"] button[type=submit]`)))
		if err != nil {
			return 0, err
		}
		return int(resp.Status), nil
	}
	if status, err := signIn("pas le bon mot de passe"); err != nil {
		t.Fatalf("sign-in form in the browser: %v", err)
	} else {
		problems := gateAuditPage(fac)
		if n, _ := browsertest.Eval[int](fac, `document.querySelectorAll('[role=alert]').length`); n == 0 {
			problems = append(problems, "a failed sign-in shows no role=alert message")
		}
		report(gateAnonymous, fmt.Sprintf("/connexion (after a wrong password, status %d)", status), problems)
		checked++
	}

	// Signed in as a facilitator through the real form, in the browser.
	if _, err := signIn(webtest.Password); err != nil {
		t.Fatalf("sign-in in the browser: %v", err)
	}
	cookies, err := fac.Cookies()
	if err != nil || cookies[auth.SessionCookie] == "" {
		t.Fatalf("no session cookie after signing in through the browser (%v): %v", err, cookies)
	}
	fc := e.client()
	u, _ := url.Parse(e.base)
	for name, value := range cookies {
		fc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	}
	pages, broken = e.crawl(fc, gateFacilitator, anonPages)
	for _, s := range broken {
		t.Error(s)
	}
	// A facilitator page whose <main> is the same as the anonymous one differs
	// only in the header, which the facilitator's home page checks: skip it.
	anonMain := map[string]string{}
	for _, pg := range gateHTMLPages(anonPages) {
		anonMain[pg.Path] = gateMainOf(pg.Body)
	}
	for _, pg := range gateHTMLPages(pages) {
		if m, ok := anonMain[pg.Path]; ok && pg.Path != "/" && m == gateMainOf(pg.Body) {
			continue
		}
		visit(fac, pg)
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d pages checked: the crawl is broken", checked)
	}
	if len(failures) > 0 {
		t.Errorf("accessibility problems on %d of %d pages (fix the page; see README.md, Quality gates):\n  %s", len(failures), checked, strings.Join(failures, "\n  "))
	}
	t.Logf("%d pages checked", checked)
}

// gateMainOf returns the <main> element of a page ("" without one).
func gateMainOf(body []byte) string {
	s := string(body)
	i := strings.Index(s, "<main")
	j := strings.LastIndex(s, "</main>")
	if i < 0 || j < i {
		return ""
	}
	return s[i:j]
}

// ---------------------------------------------------------------------------
// HTML validity

// TestHTMLValidity sends every crawled HTML page (anonymous and facilitator,
// error pages and a failed sign-in included) through the Nu HTML Checker in one
// run and fails on any error.
func TestHTMLValidity(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t)
	pages := gateHTMLPages(e.crawlBoth())
	var docs []browsertest.Document
	for _, p := range pages {
		docs = append(docs, browsertest.Document{Name: p.Role + " " + e.base + p.Path, HTML: p.Body})
	}
	if status, body := e.signInHTTP(e.client(), "personne@example.org", "pas le bon"); status >= 500 {
		t.Errorf("failed sign-in: status %d", status)
	} else {
		docs = append(docs, browsertest.Document{Name: "anonymous POST /connexion (wrong password)", HTML: body})
	}
	if status, body := e.postHTTP(e.client(), "/connexion/oubli", url.Values{"email": {"pas-une-adresse"}}); status != 422 {
		t.Errorf("refused reset request: status %d", status)
	} else {
		docs = append(docs, browsertest.Document{Name: "anonymous POST /connexion/oubli (bad address)", HTML: body})
	}
	if len(docs) < 10 {
		t.Fatalf("only %d pages: the crawl is broken", len(docs))
	}
	res, err := browsertest.ValidateHTML(docs)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(res))
	for n := range res {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %s:", n)
		for _, m := range res[n] {
			fmt.Fprintf(&b, "\n    %s", m)
		}
	}
	if len(names) > 0 {
		t.Errorf("invalid HTML on %d of %d pages (Nu HTML Checker):%s", len(names), len(docs), b.String())
	}
	t.Logf("%d pages validated", len(docs))
}

// ---------------------------------------------------------------------------
// Headers walk and "no state change by GET"

// gateGETWritableTables may change during GET requests: the session's
// last-seen time, and the job runner's bookkeeping, which changes on a timer
// whatever the requests (river_job is checked: a GET never enqueues a job).
// Every other table must be byte-identical after a GET of every route (rate
// limits are taken by POSTs only; flash messages live in a cookie). Add a
// table here only with a reason a read must write it.
var gateGETWritableTables = map[string]string{
	"sessions":            "last_seen_at is refreshed by a signed-in request, at most once a minute",
	"bun_migrations":      "migration bookkeeping",
	"bun_migration_locks": "migration bookkeeping",
	"river_leader":        "the job runner's leader election, renewed every few seconds (internal/jobs)",
	"river_queue":         "the job runner's queue heartbeat, on a timer (internal/jobs)",
	// river_job is compared on what was enqueued (id, kind, args), not on the
	// runner's progress, and without the jobs the periodic sweeps make.
	"notifications":    "written by notify's jobs in the background (convocations of the demo's meetings); a GET enqueues none",
	"instance_secrets": "the unsubscribe key is created by the first notify job that needs it, in the background",
}

// gateBackgroundJobs are the job kinds made by periodic sweeps rather than by
// requests: they may appear while the gates run.
var gateBackgroundJobs = []string{"notify.convocation_sweep", "notify.closing_sweep", "notify.digest_sweep", "notify.deliver",
	"notify.renewal_sweep", "notify.send", "auth.term_sweep"}

// snapshot returns a digest of every table of the database (row count and md5
// of all rows), so that a test can tell whether anything changed.
func (e *gateEnv) snapshot() map[string]string {
	e.t.Helper()
	ctx := context.Background()
	var tables []string
	if err := e.m.DB.NewRaw(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`).Scan(ctx, &tables); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, tbl := range tables {
		if _, ok := gateGETWritableTables[tbl]; ok {
			continue
		}
		var digest string
		q := fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %q t`, tbl)
		var args []any
		if tbl == "river_job" {
			q = `SELECT count(*) || ':' || coalesce(md5(string_agg(id || ' ' || kind || ' ' || args::text, '|' ORDER BY id)), '')
				FROM river_job WHERE kind NOT IN (?)`
			args = append(args, bun.List(gateBackgroundJobs))
		}
		if err := e.m.DB.NewRaw(q, args...).Scan(ctx, &digest); err != nil {
			e.t.Fatalf("snapshot %s: %v", tbl, err)
		}
		out[tbl] = digest
	}
	return out
}

// gateSecurityHeaders returns what is wrong with the security headers of a
// response served over plain HTTP (DESIGN.md, Web).
func gateSecurityHeaders(h http.Header) []string {
	var bad []string
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri"} {
		if !strings.Contains(csp, want) {
			bad = append(bad, fmt.Sprintf("CSP lacks %q (%q)", want, csp))
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		bad = append(bad, "CSP allows unsafe-inline or unsafe-eval: "+csp)
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	} {
		if got := h.Get(name); got != want {
			bad = append(bad, fmt.Sprintf("%s: %q, want %q", name, got, want))
		}
	}
	for _, name := range []string{"Referrer-Policy", "Permissions-Policy"} {
		if h.Get(name) == "" {
			bad = append(bad, name+" missing")
		}
	}
	if h.Get("Strict-Transport-Security") != "" {
		bad = append(bad, "HSTS over plain HTTP")
	}
	return bad
}

// gateTypeFor returns the media type a path must answer with, by its suffix or
// prefix; "" when any type is acceptable.
func gateTypeFor(path string, status int) string {
	p := path
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	for suffix, mt := range map[string]string{
		".csv": "text/csv", ".atom": "application/atom+xml", ".ics": "text/calendar", ".svg": "image/svg+xml",
		".pdf": "application/pdf", ".json": "application/json", ".css": "text/css", ".txt": "text/plain", ".png": "image/png",
	} {
		if strings.HasSuffix(p, suffix) && status < 300 {
			return mt
		}
	}
	switch {
	case strings.HasPrefix(p, "/api/"):
		return "application/json"
	case p == "/healthz" || p == "/readyz":
		return "text/plain"
	case strings.HasPrefix(p, "/static/"):
		if status >= 400 {
			return "text/html"
		}
		return ""
	case status >= 300 && status < 400:
		return ""
	}
	return "text/html"
}

// gateContentType checks the Content-Type of a response: present whenever there
// is a body, the expected media type for the path, charset=utf-8 on every text
// type and feed, and no charset other than utf-8 anywhere.
func gateContentType(path string, status int, ct string, bodyLen int) string {
	if bodyLen == 0 && (status == http.StatusNoContent || status == http.StatusNotModified || (status >= 300 && status < 400)) {
		return ""
	}
	if ct == "" {
		return "no Content-Type"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Sprintf("Content-Type %q: %v", ct, err)
	}
	charset := strings.ToLower(params["charset"])
	if want := gateTypeFor(path, status); want != "" && mt != want {
		return fmt.Sprintf("Content-Type %q, want %s", ct, want)
	}
	needsCharset := strings.HasPrefix(mt, "text/") || mt == "application/atom+xml" || mt == "application/rss+xml"
	switch {
	case needsCharset && charset != "utf-8":
		return fmt.Sprintf("Content-Type %q lacks charset=utf-8", ct)
	case charset != "" && charset != "utf-8":
		return fmt.Sprintf("Content-Type %q: charset must be utf-8", ct)
	}
	return ""
}

// TestHeadersOnEveryRoute walks every route of the router (app.GetRoutes): each
// GET route, anonymously and as a facilitator, with parameters taken from the
// crawl of the demo (or a dummy value, which checks the error response), each
// non-GET route (sent without a CSRF token, so it must be refused), and a few
// error responses. Every response must carry the security headers and a correct
// Content-Type with charset.
//
// The rule for state changes: only non-GET routes change state, behind CSRF.
// The test enforces it twice: a path that has a non-GET route and no GET route
// answers GET with 404 or 405; and a digest of every table (but
// gateGETWritableTables) is identical before and after all these requests —
// the GETs of every route, the refused POSTs and the crawls.
func TestHeadersOnEveryRoute(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t)
	anon := e.client()
	fac := e.client()
	if status, body := e.signInHTTP(fac, e.newFacilitator(), webtest.Password); status != http.StatusSeeOther {
		t.Fatalf("facilitator sign-in: status %d: %.300s", status, body)
	}
	before := e.snapshot()

	anonPages, _ := e.crawl(anon, gateAnonymous)
	facPages, _ := e.crawl(fac, gateFacilitator, anonPages)
	example := map[string]string{} // route pattern -> a crawled path
	for _, p := range append(anonPages, facPages...) {
		if _, ok := example[p.Pattern]; !ok && p.Status < 400 {
			example[p.Pattern] = p.Path
		}
	}
	getPats := e.patterns(http.MethodGet)
	concrete := func(r fiber.Route) string {
		if !routeHasParams(r.Path) {
			return r.Path
		}
		if p, ok := example[r.Path]; ok {
			return p
		}
		return routeParamToken.ReplaceAllString(r.Path, "0")
	}

	var failures []string
	check := func(who, method, path string, resp *http.Response, bodyLen int) {
		problems := gateSecurityHeaders(resp.Header)
		if msg := gateContentType(path, resp.StatusCode, resp.Header.Get("Content-Type"), bodyLen); msg != "" {
			problems = append(problems, msg)
		}
		if len(problems) > 0 {
			failures = append(failures, fmt.Sprintf("%s %s %s → %d: %s", who, method, path, resp.StatusCode, strings.Join(problems, "; ")))
		}
	}
	do := func(c *http.Client, method, path string) (*http.Response, int) {
		req, err := http.NewRequest(method, e.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if method != http.MethodGet {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, len(b)
	}

	var unreached []string
	walked := 0
	for _, r := range e.routes {
		switch r.Method {
		case http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
			continue
		}
		path := concrete(r)
		walked++
		if r.Method == http.MethodGet {
			if routeHasParams(r.Path) && example[r.Path] == "" && !strings.HasPrefix(r.Path, "/static/") {
				unreached = append(unreached, r.Path)
			}
			for _, who := range []struct {
				name string
				c    *http.Client
			}{{gateAnonymous, anon}, {gateFacilitator, fac}} {
				resp, n := do(who.c, http.MethodGet, path)
				check(who.name, http.MethodGet, path, resp, n)
			}
			continue
		}
		// A state-changing route: without a CSRF token it must refuse.
		resp, n := do(fac, r.Method, path)
		check(gateFacilitator, r.Method, path, resp, n)
		if resp.StatusCode < 400 {
			failures = append(failures, fmt.Sprintf("%s %s without a CSRF token answered %d, want a refusal", r.Method, path, resp.StatusCode))
		}
		// GET on it must not reach the action.
		u, _ := url.Parse(path)
		if p := gatePatternOf(getPats, u.Path); strings.HasPrefix(p, "unrouted:") {
			resp, n := do(fac, http.MethodGet, path)
			check(gateFacilitator, http.MethodGet, path, resp, n)
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
				failures = append(failures, fmt.Sprintf("GET %s (a %s-only path) answered %d, want 404 or 405", path, r.Method, resp.StatusCode))
			}
		}
	}
	// Error responses of every kind.
	for _, path := range []string{"/page-qui-n-existe-pas", "/api/v1/pas-de-ressource", "/static/pas-de-fichier.css", "/registre/pas-de-categorie"} {
		resp, n := do(anon, http.MethodGet, path)
		check(gateAnonymous, http.MethodGet, path, resp, n)
		if resp.StatusCode != http.StatusNotFound {
			failures = append(failures, fmt.Sprintf("GET %s: %d, want 404", path, resp.StatusCode))
		}
	}

	after := e.snapshot()
	for tbl, d := range after {
		if before[tbl] != d {
			failures = append(failures, fmt.Sprintf("table %s changed during GET requests and refused POSTs (a GET changes state, or a refused request wrote)", tbl))
		}
	}
	if walked < 20 {
		t.Errorf("only %d routes walked", walked)
	}
	sort.Strings(failures)
	if len(failures) > 0 {
		t.Errorf("%d problems on %d routes:\n  %s", len(failures), walked, strings.Join(failures, "\n  "))
	}
	if len(unreached) > 0 {
		t.Logf("GET routes with parameters the crawl did not reach (checked on a dummy value; if they are pages, add a gateSeed so the accessibility and HTML gates see them): %s", strings.Join(unreached, ", "))
	}
}

// TestGatesBite proves the gates' own checks fail where they must: the browser
// audit on a page without skip link, with an unlabelled input, an img without
// alt, a focus stop without visible focus and an unannounced invalid field; the
// header and Content-Type rules on bad responses.
func TestGatesBite(t *testing.T) {
	t.Parallel()
	b := browsertest.Start(t)
	p := b.NewStrictPage(t)
	if err := p.SetContent(`<!doctype html><html lang="fr"><head><title>Mauvaise page</title>
		<style>*:focus { outline: none !important; box-shadow: none !important }</style></head><body><main>
		<h1>Mauvaise page</h1><form><input type="text" name="nom" aria-invalid="true"></form>
		<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><a href="/ailleurs">Ailleurs</a></main></body></html>`); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(gateAuditPage(p), "\n")
	for _, want := range []string{"not a skip link", "no visible focus indicator", "has no error message announced", "axe label", "axe image-alt"} {
		if !strings.Contains(got, want) {
			t.Errorf("the accessibility audit misses %q; it reported:\n%s", want, got)
		}
	}

	if msg := gateContentType("/register.csv", 200, "text/csv", 10); msg == "" {
		t.Error("text/csv without charset accepted")
	}
	if msg := gateContentType("/api/v1/register", 200, "text/html; charset=utf-8", 10); msg == "" {
		t.Error("HTML from an API route accepted")
	}
	if msg := gateContentType("/", 200, "text/html; charset=iso-8859-1", 10); msg == "" {
		t.Error("a non-UTF-8 page accepted")
	}
	if msg := gateContentType("/", 200, "", 10); msg == "" {
		t.Error("a body without Content-Type accepted")
	}
	for path, ct := range map[string]string{
		"/":                "text/html; charset=utf-8",
		"/api/v1/register": "application/json",
		"/register.csv":    "text/csv; charset=utf-8",
		"/decisions.atom":  "application/atom+xml; charset=utf-8",
		"/meetings.ics":    "text/calendar; charset=utf-8",
		"/healthz":         "text/plain; charset=utf-8",
	} {
		if msg := gateContentType(path, 200, ct, 10); msg != "" {
			t.Errorf("%s %q refused: %s", path, ct, msg)
		}
	}
	if bad := gateSecurityHeaders(http.Header{}); len(bad) < 6 {
		t.Errorf("missing security headers not all reported: %v", bad)
	}
	h := http.Header{}
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
	if bad := strings.Join(gateSecurityHeaders(h), "\n"); !strings.Contains(bad, "unsafe-inline") {
		t.Errorf("unsafe-inline not reported: %s", bad)
	}
}
