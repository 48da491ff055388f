package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/webtest"
)

// Sessions, CSRF, rate limits and the member-management flows, through the
// real app and a real database.

func authCount(t *testing.T, db *bun.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSessionIDChangesAtSignInAndAPlantedCookieIsNeverAdopted(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	_, email := webtest.CreateMember(t, db, co, authz.Member, "Camille")

	c := webtest.New(t, app)
	planted := auth.NewToken()
	c.SetCookie(auth.SessionCookie, planted)
	if resp, _ := c.Get("/compte"); resp.StatusCode != 303 {
		t.Fatalf("planted cookie opened /compte: %d", resp.StatusCode)
	}
	c.SetCookie(auth.SessionCookie, planted) // the app cleared it; the attacker plants it again
	resp, _ := c.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}})
	if resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	ck := cookieNamed(resp, auth.SessionCookie)
	if ck == nil || ck.Value == planted || len(ck.Value) < 22 {
		t.Fatalf("session cookie after sign-in: %+v (planted %s)", ck, planted)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.Path != "/" {
		t.Errorf("cookie attributes: HttpOnly=%v SameSite=%v Secure=%v Path=%q", ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path)
	}
	attacker := webtest.New(t, app)
	attacker.SetCookie(auth.SessionCookie, planted)
	if resp, _ := attacker.Get("/compte"); resp.StatusCode != 303 {
		t.Errorf("the planted id was adopted: %d", resp.StatusCode)
	}
	// Only a hash of the id is stored.
	sum := sha256.Sum256([]byte(ck.Value))
	if n := authCount(t, db, "SELECT count(*) FROM sessions WHERE id_hash = ?", sum[:]); n != 1 {
		t.Errorf("sessions with the cookie's hash: %d", n)
	}
	if n := authCount(t, db, "SELECT count(*) FROM sessions WHERE encode(id_hash, 'escape') LIKE ?", "%"+ck.Value+"%"); n != 0 {
		t.Error("the session id is stored in clear")
	}
	// Signing in again from a signed-in browser gives a new id; the old one is dead.
	old := ck.Value
	c.SignInAs(email, webtest.Password)
	if c.Cookie(auth.SessionCookie) == old {
		t.Error("the session id did not change at the second sign-in")
	}
	stale := webtest.New(t, app)
	stale.SetCookie(auth.SessionCookie, old)
	if resp, _ := stale.Get("/compte"); resp.StatusCode != 303 {
		t.Errorf("the previous session still works: %d", resp.StatusCode)
	}
}

func TestSecureCookiesWithAnHTTPSBaseURL(t *testing.T) {
	t.Parallel()
	_, db := newTestApp(t)
	app := apptest.New(t, db, (&Config{BaseURL: "https://cla.example.org"}).App())
	_, email := webtest.CreateMember(t, db, demoCouncilID(t, db), authz.Member, "")
	c := webtest.New(t, app)
	resp, _ := c.Get("/connexion")
	if ck := cookieNamed(resp, auth.CSRFCookie); ck == nil || !ck.Secure || !ck.HttpOnly {
		t.Errorf("CSRF cookie over https: %+v", ck)
	}
	resp, _ = c.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}})
	if ck := cookieNamed(resp, auth.SessionCookie); ck == nil || !ck.Secure {
		t.Errorf("session cookie over https: %+v", ck)
	}
}

func TestSignOutAndDisablingEndTheSessionAtOnce(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	id, email := webtest.CreateMember(t, db, co, authz.Member, "Dominique")
	fac, _ := webtest.SignIn(t, app, db, co, authz.Facilitator)

	browser := webtest.New(t, app)
	browser.SignInAs(email, webtest.Password)
	stolen := webtest.New(t, app)
	stolen.SetCookie(auth.SessionCookie, browser.Cookie(auth.SessionCookie))
	if resp, _ := stolen.Get("/compte"); resp.StatusCode != 200 {
		t.Fatalf("copied cookie before sign-out: %d", resp.StatusCode)
	}
	if resp, _ := browser.PostForm("/deconnexion", nil); resp.StatusCode != 303 {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if resp, _ := stolen.Get("/compte"); resp.StatusCode != 303 {
		t.Errorf("the old cookie still works after sign-out: %d", resp.StatusCode)
	}

	// Two browsers; disabling the member ends both at once.
	b1, b2 := webtest.New(t, app), webtest.New(t, app)
	b1.SignInAs(email, webtest.Password)
	b2.SignInAs(email, webtest.Password)
	if resp, _ := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/desactiver", id), nil); resp.StatusCode != 303 {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	for i, b := range []*webtest.Client{b1, b2} {
		if resp, body := b.Get("/compte"); resp.StatusCode != 303 || strings.Contains(body, "Dominique") {
			t.Errorf("browser %d still signed in after disabling: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := webtest.New(t, app).PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Adresse e-mail ou mot de passe incorrect") {
		t.Errorf("a disabled member signed in: %d", resp.StatusCode)
	}
	if _, body := webtest.New(t, app).Get("/conseil"); strings.Contains(body, "Dominique") {
		t.Error("a disabled member is listed on the public page")
	}
	if resp, _ := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/reactiver", id), nil); resp.StatusCode != 303 {
		t.Fatalf("re-enable: %d", resp.StatusCode)
	}
	webtest.New(t, app).SignInAs(email, webtest.Password)
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	ctx := context.Background()
	for _, tc := range []struct{ name, update string }{
		{"idle", "UPDATE sessions SET last_seen_at = now() - interval '73 hours' WHERE account_id = ?"},
		{"absolute", "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE account_id = ?"},
	} {
		c, id := webtest.SignIn(t, app, db, co, authz.Member)
		if resp, _ := c.Get("/compte"); resp.StatusCode != 200 {
			t.Fatalf("%s: fresh session: %d", tc.name, resp.StatusCode)
		}
		if _, err := db.NewRaw(tc.update, id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if resp, _ := c.Get("/compte"); resp.StatusCode != 303 {
			t.Errorf("%s timeout: the session still works (%d)", tc.name, resp.StatusCode)
		}
	}
}

func TestSessionsAreSharedByInstances(t *testing.T) {
	t.Parallel()
	one, db := newTestApp(t)
	two := newAppOver(t, db)
	c, _ := webtest.SignIn(t, one, db, demoCouncilID(t, db), authz.Facilitator)
	other := webtest.New(t, two)
	other.SetCookie(auth.SessionCookie, c.Cookie(auth.SessionCookie))
	if resp, _ := other.Get("/gestion/membres"); resp.StatusCode != 200 {
		t.Errorf("a session opened on one instance is unknown to another: %d", resp.StatusCode)
	}
	// A form of instance one posted to instance two (same session, same token).
	other.SetCookie(auth.SessionCookie, c.Cookie(auth.SessionCookie))
	if resp, _ := other.PostFormRaw("/gestion/membres/invitations", url.Values{"_csrf": {c.CSRFToken()}, "email": {"x"}, "role": {"member"}}); resp.StatusCode != 422 {
		t.Errorf("the CSRF token of one instance is refused by another: %d", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	// Anonymous: a token without its cookie, or a cookie without the token, is refused.
	anon := webtest.New(t, app)
	token := anon.CSRFToken()
	naked := webtest.New(t, app)
	if resp, _ := naked.PostFormRaw("/connexion", url.Values{"_csrf": {token}, "email": {"a@b.fr"}, "password": {"x"}}); resp.StatusCode != 403 {
		t.Errorf("anonymous POST with a token but no cookie: %d, want 403", resp.StatusCode)
	}
	if resp, _ := anon.PostFormRaw("/connexion", url.Values{"email": {"a@b.fr"}, "password": {"x"}}); resp.StatusCode != 403 {
		t.Errorf("anonymous POST without a token: %d, want 403", resp.StatusCode)
	}
	// The header works as well as the field, and behind a TLS proxy (Origin and
	// Host are not the listen address).
	fac, _ := webtest.SignIn(t, app, db, co, authz.Facilitator)
	req := httptest.NewRequest(http.MethodPost, "/gestion/membres/invitations", strings.NewReader("email=x&role=member"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(auth.CSRFHeader, fac.CSRFToken())
	req.Header.Set("Origin", "https://cla.example.org")
	req.Header.Set("X-Forwarded-Proto", "https")
	if resp, _ := fac.Do(req); resp.StatusCode != 422 {
		t.Errorf("POST with the X-CSRF-Token header behind a proxy: %d, want 422 (the form's own error)", resp.StatusCode)
	}
	// A signed-in browser's anonymous token no longer counts: the token is bound to the session.
	before := webtest.New(t, app)
	anonToken := before.CSRFToken()
	_, email := webtest.CreateMember(t, db, co, authz.Facilitator, "")
	before.SignInAs(email, webtest.Password)
	if resp, _ := before.PostFormRaw("/gestion/membres/invitations", url.Values{"_csrf": {anonToken}, "email": {"x"}}); resp.StatusCode != 403 {
		t.Errorf("signed-in POST with the pre-sign-in token: %d, want 403", resp.StatusCode)
	}
}

func TestTwentyWrongPasswordsFromOneAddressAreThrottledWhateverXForwardedFor(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	_, email := webtest.CreateMember(t, db, demoCouncilID(t, db), authz.Member, "")
	c := webtest.New(t, app)
	for i := 0; i < auth.IPAttemptLimit; i++ {
		c.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		// Different emails: only the per-address limit applies.
		resp, _ := c.PostForm("/connexion", url.Values{"email": {fmt.Sprintf("inconnu%d@example.org", i)}, "password": {"mauvais mot de passe"}})
		if resp.StatusCode != 422 {
			t.Fatalf("attempt %d: %d, want 422", i+1, resp.StatusCode)
		}
	}
	c.Header.Set("X-Forwarded-For", "198.51.100.7")
	resp, body := c.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}})
	if resp.StatusCode != 429 || !strings.Contains(body, "Trop de tentatives") {
		t.Errorf("21st attempt (right password, new X-Forwarded-For): %d, want 429", resp.StatusCode)
	}
}

func TestBehindATrustedProxyEachClientAndEachEmailHasItsOwnLimit(t *testing.T) {
	t.Parallel()
	_, db := newTestApp(t)
	app := apptest.New(t, db, (&Config{TrustedProxies: []string{"0.0.0.0/32"}}).App())
	_, email := webtest.CreateMember(t, db, demoCouncilID(t, db), authz.Member, "")
	c := webtest.New(t, app)
	// Through the trusted proxy, 20 failures of one client do not block another.
	c.Header.Set("X-Forwarded-For", "203.0.113.1")
	for i := 0; i < auth.IPAttemptLimit; i++ {
		c.PostForm("/connexion", url.Values{"email": {fmt.Sprintf("n%d@example.org", i)}, "password": {"mauvais"}})
	}
	if resp, _ := c.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}}); resp.StatusCode != 429 {
		t.Errorf("the throttled client: %d, want 429", resp.StatusCode)
	}
	c.Header.Set("X-Forwarded-For", "203.0.113.2")
	if resp, _ := c.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}}); resp.StatusCode != 303 {
		t.Errorf("another client behind the same proxy: %d, want 303", resp.StatusCode)
	}
	// Per email: after 5 failures from 5 addresses, that email (only) waits.
	c.SetCookie(auth.SessionCookie, "")
	for i := 0; i < auth.EmailFreeAttempts; i++ {
		c.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		c.PostForm("/connexion", url.Values{"email": {email}, "password": {"mauvais mot de passe"}})
	}
	c.Header.Set("X-Forwarded-For", "192.0.2.99")
	if resp, body := c.PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}}); resp.StatusCode != 429 ||
		!regexp.MustCompile(`Réessayez dans [1-3]?[0-9] secondes?\.`).MatchString(body) || !strings.Contains(body, `value="`+email+`"`) {
		t.Errorf("6th attempt on one email from a fresh address: %d, want 429 on the form saying when to retry", resp.StatusCode)
	}
	if resp, _ := c.PostForm("/connexion", url.Values{"email": {"autre@example.org"}, "password": {"mauvais"}}); resp.StatusCode != 422 {
		t.Errorf("another email from that address: %d, want 422", resp.StatusCode)
	}
}

var tokenValue = regexp.MustCompile(`value="[A-Za-z0-9_-]{43}"`)

func TestUnknownEmailAndWrongPasswordAnswerAlike(t *testing.T) {
	// Not parallel: it counts this process's argon2id computations, so no other
	// test may hash meanwhile (parallel tests wait until sequential ones end).
	app, db := newTestApp(t)
	_, email := webtest.CreateMember(t, db, demoCouncilID(t, db), authz.Member, "")
	attempt := func(c *webtest.Client, e string) (int, string, time.Duration, int64) {
		hashes := auth.HashesRun()
		start := time.Now()
		resp, body := c.PostForm("/connexion", url.Values{"email": {e}, "password": {"pas le bon mot de passe"}})
		return resp.StatusCode, tokenValue.ReplaceAllString(strings.ReplaceAll(body, e, "EMAIL"), ""), time.Since(start), auth.HashesRun() - hashes
	}
	c := webtest.New(t, app)
	c.CSRFToken()
	var known, unknown time.Duration = time.Hour, time.Hour
	var knownBody, unknownBody string
	for i := 0; i < 3; i++ {
		s1, b1, d1, h1 := attempt(c, email)
		s2, b2, d2, h2 := attempt(c, fmt.Sprintf("personne%d@example.org", i))
		if s1 != 422 || s2 != 422 {
			t.Fatalf("statuses %d and %d, want 422 for both", s1, s2)
		}
		// The same work, hence the same time: one argon2id computation each.
		if h1 != 1 || h2 != 1 {
			t.Fatalf("argon2id computations: %d for a wrong password, %d for an unknown email; want 1 and 1", h1, h2)
		}
		knownBody, unknownBody = b1, b2
		known, unknown = min(known, d1), min(unknown, d2)
	}
	if knownBody != unknownBody {
		t.Error("an unknown email and a wrong password get different pages")
	}
	t.Logf("fastest answers: unknown email %v, wrong password %v", unknown, known)
}
