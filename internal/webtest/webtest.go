// Package webtest drives the real app in HTTP tests: a browser-like client over
// fiber's app.Test that keeps cookies and fills in the CSRF token, and SignIn,
// which creates an account with a role and signs in through the real form.
//
//	c, accountID := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
//	resp, body := c.PostForm("/gestion/membres/invitations", url.Values{"email": {"a@b.fr"}, "role": {"member"}})
package webtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/idempotency"
)

// Password is the password of every account SignIn and CreateMember make.
const Password = "mot de passe de test 2026"

// Client is one browser: it keeps cookies between requests and knows the CSRF
// token its forms carry. It does not follow redirects.
type Client struct {
	t   testing.TB
	app *fiber.App

	// Host is sent as the Host header; it selects the council ("" means
	// example.com, which resolves to the default council).
	Host string
	// Header is added to every request (for example X-Forwarded-For).
	Header http.Header

	cookies map[string]string
	csrf    string
}

// New returns a client with no cookies.
func New(t testing.TB, app *fiber.App) *Client {
	return &Client{t: t, app: app, Header: http.Header{}, cookies: map[string]string{}}
}

// Get requests path and returns the response and its body.
func (c *Client) Get(path string) (*http.Response, string) {
	c.t.Helper()
	return c.Do(httptest.NewRequest(http.MethodGet, path, nil))
}

// PostForm posts form to path, adding the CSRF token when form has no _csrf
// field (set form["_csrf"] yourself to send a wrong one, or use PostFormRaw)
// and a fresh idempotency key when it has none (set idempotency.Field to send
// the same form twice).
func (c *Client) PostForm(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if _, ok := f[auth.CSRFField]; !ok {
		f.Set(auth.CSRFField, c.CSRFToken())
	}
	// As a rendered create-form does; a test sending one form twice sets it.
	if _, ok := f[idempotency.Field]; !ok {
		f.Set(idempotency.Field, idempotency.NewKey())
	}
	return c.PostFormRaw(path, f)
}

// PostFormRaw posts form to path exactly as given (no CSRF token added).
func (c *Client) PostFormRaw(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Do sends req with the client's host, headers and cookies, records the
// cookies it sets and returns the response with its body read.
func (c *Client) Do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	if c.Host != "" {
		req.Host = c.Host
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	resp, err := c.app.Test(req, -1)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		// As a browser does, for clients that send Accept-Encoding: gzip.
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			c.t.Fatalf("%s %s: gzip body: %v", req.Method, req.URL, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			c.t.Fatalf("%s %s: gzip body: %v", req.Method, req.URL, err)
		}
	}
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
		if ck.Name == auth.SessionCookie {
			c.csrf = "" // a new session has a new token
		}
	}
	body := string(b)
	if m := csrfInput.FindStringSubmatch(body); m != nil {
		c.csrf = html.UnescapeString(m[1])
	}
	return resp, body
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// CSRFToken returns the token this browser's forms carry, loading the sign-in
// page (which has a form for everyone) when none is known yet.
func (c *Client) CSRFToken() string {
	c.t.Helper()
	if c.csrf == "" {
		c.Get("/connexion")
		if c.csrf == "" {
			c.t.Fatal("webtest: no CSRF token found on /connexion")
		}
	}
	return c.csrf
}

// Cookie returns the value of a cookie the client holds ("" if none).
func (c *Client) Cookie(name string) string { return c.cookies[name] }

// SetCookie sets (or, with an empty value, removes) a cookie, as an attacker
// planting one would.
func (c *Client) SetCookie(name, value string) {
	if value == "" {
		delete(c.cookies, name)
		return
	}
	c.cookies[name] = value
}

var seq atomic.Int64

// CreateMember creates an account with Password and a membership with role in
// councilID, and returns its id and email. No session is opened.
func CreateMember(t testing.TB, db *bun.DB, councilID int64, role authz.Role, name string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	hash, err := auth.HashPassword(ctx, Password)
	if err != nil {
		t.Fatal(err)
	}
	n := seq.Add(1)
	if name == "" {
		name = fmt.Sprintf("%s %d", role.Label(), n)
	}
	a := &auth.Account{Email: fmt.Sprintf("%s-%d-%s@example.org", role, n, auth.NewToken()[:8]), Name: name, PasswordHash: hash}
	a.Email = strings.ToLower(a.Email)
	if err := auth.CreateAccount(ctx, db, a); err != nil {
		t.Fatalf("webtest: create account: %v", err)
	}
	if role != authz.None {
		if err := auth.SetMembership(ctx, db, councilID, a.ID, role); err != nil {
			t.Fatalf("webtest: membership: %v", err)
		}
	}
	return a.ID, a.Email
}

// HostFor returns a host name that selects councilID: one of its hosts, or
// example.com for the default council. A non-default council without a host
// gets "<slug>.test".
func HostFor(t testing.TB, db *bun.DB, councilID int64) string {
	t.Helper()
	ctx := context.Background()
	var hosts []string
	if err := db.NewSelect().Table("council_hosts").Column("host").Where("council_id = ?", councilID).
		Order("host").Limit(1).Scan(ctx, &hosts); err != nil {
		t.Fatal(err)
	}
	if len(hosts) > 0 {
		return hosts[0]
	}
	var co struct {
		Slug      string `bun:"slug"`
		IsDefault bool   `bun:"is_default"`
	}
	if err := db.NewSelect().Table("councils").Column("slug", "is_default").Where("id = ?", councilID).Scan(ctx, &co); err != nil {
		t.Fatalf("webtest: council %d: %v", councilID, err)
	}
	if co.IsDefault {
		return "example.com"
	}
	host := co.Slug + ".test"
	if _, err := db.NewRaw("INSERT INTO council_hosts (host, council_id) VALUES (?, ?) ON CONFLICT DO NOTHING", host, councilID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return host
}

// SignIn creates an account with role in councilID and signs it in through
// the real /connexion form, on a host of that council. It returns the signed-in
// client and the account id.
func SignIn(t testing.TB, app *fiber.App, db *bun.DB, councilID int64, role authz.Role) (*Client, int64) {
	t.Helper()
	id, email := CreateMember(t, db, councilID, role, "")
	c := New(t, app)
	c.Host = HostFor(t, db, councilID)
	c.SignInAs(email, Password)
	return c, id
}

// SignInAs signs this client in through the /connexion form and fails the test
// unless it succeeds.
func (c *Client) SignInAs(email, password string) {
	c.t.Helper()
	resp, body := c.PostForm("/connexion", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || c.Cookie(auth.SessionCookie) == "" {
		c.t.Fatalf("webtest: sign-in as %s: status %d, body %.300q", email, resp.StatusCode, body)
	}
}
