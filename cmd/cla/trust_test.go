package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/governance/application"
	"cla/governance/debate"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/idempotency"
	"cla/internal/web"
	"cla/internal/webtest"
)

// Issue 14 (trust): single-use links re-checked when used, rate limits taken
// before the work, the sign-in's return address, flash messages, and an
// invitation that says nothing about other councils. Through the real router
// and database.

// secondCouncil creates council B, served on host.
func secondCouncil(t *testing.T, db *bun.DB, slug, host string) int64 {
	t.Helper()
	var id int64
	if err := db.NewRaw(`WITH c AS (INSERT INTO councils (slug, name) VALUES (?, ?) RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT ?, id FROM c RETURNING council_id`, slug, "Conseil "+slug, host).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func accountID(t *testing.T, db *bun.DB, email string) int64 {
	t.Helper()
	var id int64
	if err := db.NewRaw("SELECT id FROM accounts WHERE email = ?", email).Scan(context.Background(), &id); err != nil {
		t.Fatalf("account %s: %v", email, err)
	}
	return id
}

// linkFrom returns the path of the link a page shows (an invitation or a
// password link), failing the test when there is none.
func linkFrom(t *testing.T, re *regexp.Regexp, resp *http.Response, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("no link: %d %.300q", resp.StatusCode, body)
	}
	return m[1]
}

// The reproduction: a facilitator of council A keeps a password link
// of X; X later becomes admin of council B. The link must not set X's
// password any more, so the facilitator never signs in on B as X.
func TestAFacilitatorsKeptPasswordLinkDiesWhenItsAccountJoinsAnotherCouncil(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	a := demoCouncilID(t, db)
	b := secondCouncil(t, db, "conseil-b", "b.test")
	facA, _ := webtest.SignIn(t, app, db, a, authz.Facilitator)
	adminB, _ := webtest.SignIn(t, app, db, b, authz.Admin)
	const xEmail, xPassword, stolen = "xaviere@example.org", "le mot de passe de Xavière", "le mot de passe du voleur"

	// A's facilitator invites X to A; X joins.
	resp, body := facA.PostForm("/gestion/membres/invitations", url.Values{"email": {xEmail}, "role": {"member"}})
	inviteA := linkFrom(t, invitationLink, resp, body)
	if resp, _ := webtest.New(t, app).PostForm(inviteA, url.Values{"name": {"Xavière"}, "password": {xPassword}}); resp.StatusCode != 303 {
		t.Fatalf("X joins A: %d", resp.StatusCode)
	}
	x := accountID(t, db, xEmail)
	// The facilitator makes a password link for X, and keeps it.
	resp, body = facA.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", x), nil)
	kept := linkFrom(t, passwordLink, resp, body)
	// B's admin invites X as admin of B; X accepts with their own password.
	resp, body = adminB.PostForm("/gestion/membres/invitations", url.Values{"email": {xEmail}, "role": {"admin"}})
	inviteB := linkFrom(t, invitationLink, resp, body)
	xOnB := webtest.New(t, app)
	xOnB.Host = "b.test"
	if resp, _ := xOnB.PostForm(inviteB, url.Values{"name": {"Xavière"}, "password": {xPassword}}); resp.StatusCode != 303 {
		t.Fatalf("X joins B as admin: %d", resp.StatusCode)
	}

	// The kept link is void: its page and its form both refuse, in French.
	thief := webtest.New(t, app)
	if resp, body := thief.Get(kept); resp.StatusCode != 403 || !strings.Contains(body, "aussi membre d&#39;un autre conseil") {
		t.Errorf("the kept link's page: %d %.200q", resp.StatusCode, body)
	}
	if resp, body := thief.PostForm(kept, url.Values{"password": {stolen}}); resp.StatusCode != 403 || !strings.Contains(body, "ne peut plus servir") {
		t.Errorf("the kept link used: %d, want 403", resp.StatusCode)
	}
	if n := authCount(t, db, "SELECT count(*) FROM account_tokens WHERE account_id = ? AND used_at IS NOT NULL", x); n != 0 {
		t.Errorf("the void link was used up (%d)", n)
	}
	// The facilitator cannot sign in on B as X; X still can, with their own password.
	thief.Host = "b.test"
	if resp, _ := thief.PostForm("/connexion", url.Values{"email": {xEmail}, "password": {stolen}}); resp.StatusCode != 422 {
		t.Errorf("sign-in on B with the password the link would have set: %d, want 422", resp.StatusCode)
	}
	xAgain := webtest.New(t, app)
	xAgain.Host = "b.test"
	xAgain.SignInAs(xEmail, xPassword)
	if resp, _ := xAgain.Get("/gestion/membres"); resp.StatusCode != 200 {
		t.Errorf("X, admin of B: /gestion/membres %d", resp.StatusCode)
	}
	// A new link from A's facilitator is refused as well.
	if resp, _ := facA.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", x), nil); resp.StatusCode != 403 {
		t.Errorf("a new password link for an account of two councils: %d, want 403", resp.StatusCode)
	}

	// Disabled in B is still "elsewhere": a re-enabling by B must not hand
	// B's rights to a password chosen through A.
	y, yEmail := webtest.CreateMember(t, db, a, authz.Member, "Yann")
	resp, body = facA.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", y), nil)
	keptY := linkFrom(t, passwordLink, resp, body)
	if _, err := db.NewRaw("INSERT INTO memberships (council_id, account_id, role, disabled_at) VALUES (?, ?, 'admin', now())", b, y).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := webtest.New(t, app).PostForm(keptY, url.Values{"password": {stolen}}); resp.StatusCode != 403 {
		t.Errorf("link of an account disabled in another council: %d, want 403", resp.StatusCode)
	}
	webtest.New(t, app).SignInAs(yEmail, webtest.Password)
}

// A link also dies when its creator could no longer make it: the creator
// disabled or demoted, or the account promoted to admin; and an invitation
// never changes the role of someone already in the council.
func TestLinksAreVoidOnceTheirCreatorCouldNoLongerMakeThem(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	admin, _ := webtest.SignIn(t, app, db, co, authz.Admin)
	fac, facID := webtest.SignIn(t, app, db, co, authz.Facilitator)
	fac2, fac2ID := webtest.SignIn(t, app, db, co, authz.Facilitator)
	m1, _ := webtest.CreateMember(t, db, co, authz.Member, "Mona")
	m2, m2Email := webtest.CreateMember(t, db, co, authz.Member, "Marc")
	post := func(c *webtest.Client, path string, form url.Values) {
		t.Helper()
		if resp, body := c.PostForm(path, form); resp.StatusCode != 303 {
			t.Fatalf("%s: %d %.300q", path, resp.StatusCode, body)
		}
	}
	void := func(what, link string, form url.Values) {
		t.Helper()
		anon := webtest.New(t, app)
		if resp, body := anon.Get(link); resp.StatusCode != 403 || !strings.Contains(body, "n&#39;est plus valable") {
			t.Errorf("%s: page %d, want 403 saying the link is no longer valid", what, resp.StatusCode)
		}
		if resp, _ := anon.PostForm(link, form); resp.StatusCode != 403 {
			t.Errorf("%s: used %d, want 403", what, resp.StatusCode)
		}
	}
	newPassword := url.Values{"password": {"un mot de passe choisi"}}

	// The account became admin: a facilitator's link cannot touch it.
	resp, body := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", m1), nil)
	toAdmin := linkFrom(t, passwordLink, resp, body)
	post(admin, fmt.Sprintf("/gestion/membres/%d/role", m1), url.Values{"role": {"admin"}})
	void("password link of a member since promoted admin", toAdmin, newPassword)

	// The creator was disabled, or demoted to member.
	resp, body = fac.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", m2), nil)
	byDisabled := linkFrom(t, passwordLink, resp, body)
	resp, body = fac2.PostForm("/gestion/membres/invitations", url.Values{"email": {"nouvelle@example.org"}, "role": {"facilitator"}})
	inviteByDemoted := linkFrom(t, invitationLink, resp, body)
	post(admin, fmt.Sprintf("/gestion/membres/%d/desactiver", facID), nil)
	post(admin, fmt.Sprintf("/gestion/membres/%d/role", fac2ID), url.Values{"role": {"member"}})
	void("password link made by a facilitator since disabled", byDisabled, newPassword)
	void("invitation made by a facilitator since demoted", inviteByDemoted, url.Values{"name": {"Nouvelle"}, "password": {"un mot de passe choisi"}})
	webtest.New(t, app).SignInAs(m2Email, webtest.Password)
	if n := authCount(t, db, "SELECT count(*) FROM accounts WHERE email = 'nouvelle@example.org'"); n != 0 {
		t.Error("the void invitation created an account")
	}

	// An invitation for someone who has joined since (as admin, through an
	// admin's invitation) does not demote them.
	resp, body = admin.PostForm("/gestion/membres/invitations", url.Values{"email": {"double@example.org"}, "role": {"member"}})
	asMember := linkFrom(t, invitationLink, resp, body)
	resp, body = admin.PostForm("/gestion/membres/invitations", url.Values{"email": {"double@example.org"}, "role": {"admin"}})
	asAdmin := linkFrom(t, invitationLink, resp, body)
	joiner := webtest.New(t, app)
	if resp, _ := joiner.PostForm(asAdmin, url.Values{"name": {"Double"}, "password": {"un mot de passe choisi"}}); resp.StatusCode != 303 {
		t.Fatalf("joining as admin: %d", resp.StatusCode)
	}
	if resp, body := webtest.New(t, app).PostForm(asMember, url.Values{"name": {"Double"}, "password": {"un mot de passe choisi"}}); resp.StatusCode != 409 || !strings.Contains(body, "déjà membre") {
		t.Errorf("a second invitation of a member: %d, want 409", resp.StatusCode)
	}
	if n := authCount(t, db, "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = 'double@example.org' AND m.role = 'admin'"); n != 1 {
		t.Error("the second invitation changed the admin's role")
	}
}

// An account that joins another council with its password gains rights:
// its other sessions end (whoever held one does not inherit them).
func TestJoiningAnotherCouncilEndsTheAccountsOtherSessions(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	a := demoCouncilID(t, db)
	b := secondCouncil(t, db, "conseil-b", "b.test")
	_, email := webtest.CreateMember(t, db, a, authz.Member, "Sacha")
	held := webtest.New(t, app)
	held.SignInAs(email, webtest.Password)
	adminB, _ := webtest.SignIn(t, app, db, b, authz.Admin)
	resp, body := adminB.PostForm("/gestion/membres/invitations", url.Values{"email": {email}, "role": {"facilitator"}})
	invite := linkFrom(t, invitationLink, resp, body)
	onB := webtest.New(t, app)
	onB.Host = "b.test"
	if resp, _ := onB.PostForm(invite, url.Values{"name": {"Sacha"}, "password": {webtest.Password}}); resp.StatusCode != 303 {
		t.Fatalf("joining B: %d", resp.StatusCode)
	}
	if resp, _ := onB.Get("/gestion/membres"); resp.StatusCode != 200 {
		t.Errorf("the browser that joined is not signed in on B: %d", resp.StatusCode)
	}
	held.Host = "b.test"
	if resp, _ := held.Get("/gestion/membres"); resp.StatusCode != 303 {
		t.Errorf("a session opened before joining B works on B: %d", resp.StatusCode)
	}
}

var tokenInPath = regexp.MustCompile(`[A-Za-z0-9_-]{43}`)

// Point 9 of the issue: a facilitator learns nothing, from the invitation
// answer or the invitation page, about whether the address has an account
// in another council; and the page's password field is no way to guess the
// existing account's password faster than the sign-in form.
func TestTheInvitationLooksTheSameWhetherTheEmailHasAnAccountElsewhere(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	a := demoCouncilID(t, db)
	b := secondCouncil(t, db, "conseil-b", "b.test")
	_, elsewhere := webtest.CreateMember(t, db, b, authz.Admin, "Élise Ailleurs")
	const fresh = "personne-nouvelle@example.org"
	fac, _ := webtest.SignIn(t, app, db, a, authz.Facilitator)
	normal := func(body, email string) string {
		body = strings.ReplaceAll(body, email, "EMAIL")
		return tokenInPath.ReplaceAllString(body, "TOKEN")
	}
	respE, bodyE := fac.PostForm("/gestion/membres/invitations", url.Values{"email": {elsewhere}, "role": {"member"}})
	respF, bodyF := fac.PostForm("/gestion/membres/invitations", url.Values{"email": {fresh}, "role": {"member"}})
	if respE.StatusCode != respF.StatusCode || normal(bodyE, elsewhere) != normal(bodyF, fresh) {
		t.Errorf("the invitation answers differ: %d and %d", respE.StatusCode, respF.StatusCode)
	}
	linkE, linkF := linkFrom(t, invitationLink, respE, bodyE), linkFrom(t, invitationLink, respF, bodyF)
	for _, tc := range []struct {
		what string
		form url.Values
	}{
		{"page", nil},
		{"no name", url.Values{"name": {""}, "password": {"un mot de passe assez long"}}},
		{"short password", url.Values{"name": {"Quelqu'un"}, "password": {"court"}}},
		{"common password", url.Values{"name": {"Quelqu'un"}, "password": {"1234567890"}}},
	} {
		pageOf := func(link string) (int, string) {
			c := webtest.New(t, app)
			if tc.form == nil {
				resp, body := c.Get(link)
				return resp.StatusCode, body
			}
			resp, body := c.PostForm(link, tc.form)
			return resp.StatusCode, body
		}
		sE, pE := pageOf(linkE)
		sF, pF := pageOf(linkF)
		if sE != sF || normal(pE, elsewhere) != normal(pF, fresh) {
			t.Errorf("%s: the invitation of an address with an account elsewhere answers %d, a new one %d, or their pages differ", tc.what, sE, sF)
		}
		if strings.Contains(pE, "Élise") || strings.Contains(pE, "déjà un compte sur la plateforme,") {
			t.Errorf("%s: the page names or reveals the existing account", tc.what)
		}
	}
	// Guessing the existing account's password through the invitation counts
	// as sign-in attempts on that address.
	guesser := webtest.New(t, app)
	for i := 0; i < auth.EmailFreeAttempts; i++ {
		if resp, _ := guesser.PostForm(linkE, url.Values{"name": {"X"}, "password": {fmt.Sprintf("essai numéro %d", i)}}); resp.StatusCode != 422 {
			t.Fatalf("guess %d: %d, want 422", i+1, resp.StatusCode)
		}
	}
	if resp, body := guesser.PostForm(linkE, url.Values{"name": {"X"}, "password": {webtest.Password}}); resp.StatusCode != 429 || !strings.Contains(body, "Réessayez dans") {
		t.Errorf("guess beyond the free attempts (the right password): %d, want 429 with when to retry", resp.StatusCode)
	}
	if n := authCount(t, db, "SELECT count(*) FROM memberships m JOIN accounts x ON x.id = m.account_id WHERE x.email = ? AND m.council_id = ?", elsewhere, a); n != 0 {
		t.Error("the existing account joined through a rate-limited guess")
	}
}

// concurrently sends the requests made by build(0…n-1) at once through the
// real router and returns their statuses.
func concurrently(t *testing.T, app *fiber.App, n int, build func(i int) *http.Request) []int {
	t.Helper()
	statuses := make([]int, n)
	errs := make([]error, n)
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = build(i)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			resp, err := app.Test(reqs[i], -1)
			if err != nil {
				errs[i] = err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			statuses[i] = resp.StatusCode
		}(i)
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return statuses
}

// anonymousForm returns a function that builds an anonymous POST of form to
// path carrying a valid CSRF cookie and token, from address ip (which the app
// believes when it trusts the proxy 0.0.0.0).
func anonymousForm(t *testing.T, app *fiber.App) func(path, ip string, form url.Values) *http.Request {
	t.Helper()
	c := webtest.New(t, app)
	token := c.CSRFToken()
	cookie := c.Cookie(auth.CSRFCookie)
	if cookie == "" {
		t.Fatal("no anonymous CSRF cookie")
	}
	return func(path, ip string, form url.Values) *http.Request {
		// Each request is a form of its own, with its own idempotency key.
		f := url.Values{auth.CSRFField: {token}, idempotency.Field: {idempotency.NewKey()}}
		for k, v := range form {
			f[k] = v
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: auth.CSRFCookie, Value: cookie})
		if ip != "" {
			req.Header.Set("X-Forwarded-For", ip)
		}
		return req
	}
}

func countStatuses(statuses []int) map[int]int {
	out := map[int]int{}
	for _, s := range statuses {
		out[s]++
	}
	return out
}

// Forty wrong passwords at once check exactly as many passwords as the limits
// allow: per email the free attempts, per address the address limit. Then the
// member is not locked out: once the short wait is over, they sign in.
func TestConcurrentSignInsCheckExactlyTheAllowedNumberOfPasswords(t *testing.T) {
	// Not parallel: it counts this process's argon2id computations.
	_, db := newTestApp(t)
	app := apptest.New(t, db, (&Config{TrustedProxies: []string{"0.0.0.0/32"}}).App())
	_, email := webtest.CreateMember(t, db, demoCouncilID(t, db), authz.Member, "Cible")
	post := anonymousForm(t, app)

	hashes := auth.HashesRun()
	got := countStatuses(concurrently(t, app, 40, func(i int) *http.Request {
		return post("/connexion", fmt.Sprintf("198.51.100.%d", i+1), url.Values{"email": {email}, "password": {"mauvais mot de passe"}})
	}))
	if got[422] != auth.EmailFreeAttempts || got[429] != 40-auth.EmailFreeAttempts {
		t.Errorf("40 concurrent wrong passwords for one email from 40 addresses: %v, want %d × 422 and the rest 429", got, auth.EmailFreeAttempts)
	}
	if n := auth.HashesRun() - hashes; n != int64(auth.EmailFreeAttempts) {
		t.Errorf("%d passwords checked, want %d", n, auth.EmailFreeAttempts)
	}
	// The member waits 30 seconds, told so; refused attempts do not lengthen
	// the wait; after it, the right password signs in.
	member := webtest.New(t, app)
	member.Header.Set("X-Forwarded-For", "192.0.2.10")
	if resp, body := member.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}}); resp.StatusCode != 429 || !regexp.MustCompile(`Réessayez dans [1-3]?[0-9] secondes?\.`).MatchString(body) {
		t.Errorf("the member during the wait: %d, want 429 saying to retry within 30 seconds", resp.StatusCode)
	} else if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 30 {
		t.Errorf("Retry-After %q, want the seconds left (1–30)", resp.Header.Get("Retry-After"))
	}
	if _, err := db.NewRaw("UPDATE signin_backoff SET next_at = now() WHERE key = ?", auth.RateKeyEmail(email)).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	member.SignInAs(email, webtest.Password)
	if n := authCount(t, db, "SELECT count(*) FROM signin_backoff WHERE key = ?", auth.RateKeyEmail(email)); n != 0 {
		t.Error("a successful sign-in left the email's backoff")
	}

	// One address, forty emails at once: exactly the address limit is checked.
	hashes = auth.HashesRun()
	got = countStatuses(concurrently(t, app, 40, func(i int) *http.Request {
		return post("/connexion", "203.0.113.77", url.Values{"email": {fmt.Sprintf("inconnu%d@example.org", i)}, "password": {"mauvais mot de passe"}})
	}))
	if got[422] != auth.IPAttemptLimit || got[429] != 40-auth.IPAttemptLimit {
		t.Errorf("40 concurrent sign-ins from one address: %v, want %d × 422", got, auth.IPAttemptLimit)
	}
	if n := auth.HashesRun() - hashes; n != int64(auth.IPAttemptLimit) {
		t.Errorf("%d passwords checked, want %d", n, auth.IPAttemptLimit)
	}
}

// Thirty debate suggestions and ten shop applications sent at once from one
// address: exactly the limit passes.
func TestConcurrentSubmissionsPassExactlyTheLimit(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	post := anonymousForm(t, app)
	before := authCount(t, db, "SELECT count(*) FROM debate_suggestions WHERE council_id = ?", co)
	got := countStatuses(concurrently(t, app, 30, func(i int) *http.Request {
		return post("/debats/proposer", "", url.Values{"title": {fmt.Sprintf("Le kombucha, sujet %d", i)}, "question": {"Peut-on l'acheter ?"}, "theme": {"produits"}})
	}))
	if n := authCount(t, db, "SELECT count(*) FROM debate_suggestions WHERE council_id = ?", co) - before; n != debate.SuggestLimit || got[303] != debate.SuggestLimit || got[429] != 30-debate.SuggestLimit {
		t.Errorf("30 concurrent suggestions: %d recorded, statuses %v; want %d", n, got, debate.SuggestLimit)
	}

	before = authCount(t, db, "SELECT count(*) FROM shop_applications WHERE council_id = ?", co)
	got = countStatuses(concurrently(t, app, 10, func(i int) *http.Request {
		return post("/devenir-point-de-vente", "", shopForm(fmt.Sprintf("Épicerie concurrente %d", i), siretN(100+i)))
	}))
	if n := authCount(t, db, "SELECT count(*) FROM shop_applications WHERE council_id = ?", co) - before; n != application.ApplyLimit || got[303] != application.ApplyLimit {
		t.Errorf("10 concurrent applications: %d recorded, statuses %v; want %d", n, got, application.ApplyLimit)
	}
	// The attempts limit (invalid forms included) from another address.
	app2 := apptest.New(t, db, (&Config{TrustedProxies: []string{"0.0.0.0/32"}}).App())
	post2 := anonymousForm(t, app2)
	got = countStatuses(concurrently(t, app2, 40, func(i int) *http.Request {
		return post2("/devenir-point-de-vente", "203.0.113.9", url.Values{"shop_name": {"x"}})
	}))
	if got[422] != application.AttemptLimit || got[429] != 40-application.AttemptLimit {
		t.Errorf("40 concurrent invalid applications: %v, want %d × 422", got, application.AttemptLimit)
	}
}

// The sign-in form sends back only to a page of this site.
func TestSignInReturnsOnlyToAPageOfThisSite(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	_, email := webtest.CreateMember(t, db, demoCouncilID(t, db), authz.Facilitator, "")
	c := webtest.New(t, app)
	if _, body := c.Get("/connexion?suite=%2F%09%2Fevil.example"); !strings.Contains(body, `name="suite" value="/"`) {
		t.Error("the sign-in form keeps a hostile return address")
	}
	for next, want := range map[string]string{
		"/\t/evil.example":     "/",
		"/%2F/evil.example":    "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"/gestion/membres":     "/gestion/membres",
	} {
		c.SetCookie(auth.SessionCookie, "")
		resp, _ := c.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}, "suite": {next}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != want {
			t.Errorf("sign-in with suite=%q: %d to %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// A page that needs a sign-in sends back to itself.
	if resp, _ := webtest.New(t, app).Get("/gestion/membres"); resp.Header.Get("Location") != "/connexion?suite=%2Fgestion%2Fmembres" {
		t.Errorf("sign-in redirect: %q", resp.Header.Get("Location"))
	}
}

var flashText = regexp.MustCompile(`<p class="flash" role="status">([^<]*)</p>`)

func flashOf(body string) string {
	if m := flashText.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// Confirmations come from the server, once, never from the URL; the roll
// call's is shown; anonymous visitors and cached pages get theirs too.
func TestConfirmationsAreOneTimeFlashesNeverTextFromTheURL(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	fac, facID := webtest.SignIn(t, app, db, co, authz.Facilitator)
	anon := webtest.New(t, app)

	for _, path := range []string{"/?ok=Compte+suspendu", "/registre?ok=Compte+suspendu", "/connexion?ok=Compte+suspendu", "/debats/souhaites?ok=Compte+suspendu"} {
		if _, body := anon.Get(path); strings.Contains(body, "Compte suspendu") {
			t.Errorf("%s shows the text of the URL", path)
		}
	}
	if _, body := fac.Get("/gestion/membres?ok=Compte+suspendu"); strings.Contains(body, "Compte suspendu") {
		t.Error("/gestion/membres shows the text of the URL")
	}

	// A facilitator's action: the message comes once, in a signed cookie.
	member, _ := webtest.CreateMember(t, db, co, authz.Member, "Dominique")
	resp, _ := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/desactiver", member), nil)
	ck := cookieNamed(resp, web.FlashCookie)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/gestion/membres" || ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge <= 0 {
		t.Fatalf("disable: %d to %q, flash cookie %+v", resp.StatusCode, resp.Header.Get("Location"), ck)
	}
	_, body := fac.Get("/gestion/membres")
	if got := flashOf(body); got != "Dominique est désactivé·e ; ses sessions sont fermées." {
		t.Errorf("the next page's flash: %q", got)
	}
	if _, body := fac.Get("/gestion/membres"); flashOf(body) != "" {
		t.Error("the flash is shown twice")
	}
	// A tampered cookie shows nothing.
	fac.SetCookie(web.FlashCookie, strings.Replace(ck.Value, "A", "B", 1)+"x")
	if _, body := fac.Get("/gestion/membres"); flashOf(body) != "" {
		t.Error("a tampered flash is shown")
	}

	// The roll call's confirmation is shown (it used to follow the #).
	start := time.Now().In(web.Paris()).Add(time.Hour).Format("2006-01-02T15:04")
	resp, _ = fac.PostForm("/seances", url.Values{"title": {"Séance d'essai"}, "starts_at": {start}, "duration": {"120"}, "place": {"Salle Bel Air"}})
	meeting := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !regexp.MustCompile(`^/seances/\d+$`).MatchString(meeting) {
		t.Fatalf("schedule: %d %q", resp.StatusCode, meeting)
	}
	fac.Get(meeting) // shows "Séance programmée."
	if resp, _ := fac.PostForm(meeting+"/etat", url.Values{"to": {"en_cours"}}); resp.StatusCode != 303 {
		t.Fatalf("start the meeting: %d", resp.StatusCode)
	}
	fac.Get(meeting)
	resp, _ = fac.PostForm(meeting+"/appel", url.Values{"m" + strconv.FormatInt(facID, 10): {"present"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != meeting+"#appel" {
		t.Fatalf("roll call: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := fac.Get(meeting); flashOf(body) != "Appel enregistré." {
		t.Errorf("the roll call's confirmation: %q", flashOf(body))
	}

	// Anonymous visitors: a debate suggestion, and the sign-out on the home
	// page, which anonymous visitors otherwise get from the shared cache.
	if resp, _ := anon.PostForm("/debats/proposer", url.Values{"title": {"Le miel de lavande"}, "theme": {"produits"}}); resp.StatusCode != 303 {
		t.Fatalf("suggestion: %d", resp.StatusCode)
	}
	if _, body := anon.Get("/debats/souhaites"); !strings.HasPrefix(flashOf(body), "Merci !") {
		t.Errorf("the suggestion's confirmation: %q", flashOf(body))
	}
	webtest.New(t, app).Get("/") // fills the shared cache
	if resp, _ := fac.PostForm("/deconnexion", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := fac.Get("/"); flashOf(body) != "Vous êtes déconnecté·e." {
		t.Errorf("the sign-out's confirmation on the home page: %q", flashOf(body))
	}
	if _, body := webtest.New(t, app).Get("/"); flashOf(body) != "" {
		t.Error("the home page of the shared cache shows someone's flash")
	}
}
