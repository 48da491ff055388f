package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/idempotency"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/webtest"
)

// Self-service password reset (issue 17): asked on /connexion/oubli, mailed
// by the auth.password_reset job through a real SMTP server, used once within
// the hour, on the council's host only.

var resetLink = regexp.MustCompile(`(https?://[^/\s"<>]+)(/connexion/reinitialiser/([A-Za-z0-9_-]{43}))`)

// resetEnv is the demo council's app with an SMTP server and a job runner.
type resetEnv struct {
	t   *testing.T
	db  *bun.DB
	app *fiber.App
	srv *mailtest.Server
	co  int64
}

func newResetEnv(t *testing.T, baseURL string, smtp bool, log *slog.Logger) *resetEnv {
	t.Helper()
	_, db := newTestApp(t)
	e := &resetEnv{t: t, db: db, co: demoCouncilID(t, db)}
	cfg := Config{BaseURL: baseURL}
	if smtp {
		e.srv = mailtest.Start(t, mailtest.Options{})
		cfg.SMTPAddr, cfg.SMTPFrom = e.srv.Addr, "cla@example.org"
	}
	e.app = apptest.New(t, db, cfg.App())
	sender, err := mailSender(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	ws := jobs.NewWorkers()
	jobs.Register(ws, &mail.Worker{Sender: sender})
	jobs.Register(ws, &auth.ResetWorker{DB: db, Sender: sender, Logger: log})
	r, err := jobs.Start(context.Background(), db, jobs.Config{Workers: ws, Logger: quiet, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	return e
}

// ask posts the reset form for email from c and checks the one answer: a
// redirect to the form, which then says the request was recorded.
func (e *resetEnv) ask(c *webtest.Client, email string) string {
	e.t.Helper()
	resp, body := c.PostForm("/connexion/oubli", url.Values{"email": {email}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/connexion/oubli" {
		e.t.Fatalf("reset request for %q: %d %s %.300q", email, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = c.Get("/connexion/oubli")
	if !strings.Contains(body, "Demande enregistrée") {
		e.t.Fatalf("the answer to a reset request does not say it was recorded: %.500q", body)
	}
	return body[strings.Index(body, "<main"):]
}

// settled waits until every reset job has run, and returns how many did.
func (e *resetEnv) settled() int {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var total, pending int
		if err := e.db.NewRaw(`SELECT count(*), count(*) FILTER (WHERE state NOT IN ('completed', 'discarded', 'cancelled'))
			FROM river_job WHERE kind = 'auth.password_reset'`).Scan(context.Background(), &total, &pending); err != nil {
			e.t.Fatal(err)
		}
		if pending == 0 {
			return total
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d reset jobs still pending after 15 s", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailed waits for the n-th mail, and for its job to commit (the link is
// stored in the transaction that sends it), and returns it parsed.
func (e *resetEnv) mailed(n int) (*mailtest.Message, mailtest.Received) {
	e.t.Helper()
	got := e.srv.Wait(e.t, n)[n-1]
	e.settled()
	return mailtest.Parse(e.t, got.Data), got
}

func (e *resetEnv) count(query string, args ...any) int { return authCount(e.t, e.db, query, args...) }

func TestPasswordResetByMail(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t, "https://cla.example.org", true, quiet)
	ctx := context.Background()
	id, email := webtest.CreateMember(t, e.db, e.co, authz.Member, "Jeanne")
	// Names from users cannot add headers (mail.headerText folds them).
	if _, err := e.db.ExecContext(ctx, "UPDATE accounts SET name = ? WHERE id = ?", "Jeanne\r\nBcc: pirate@example.org", id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ExecContext(ctx, "UPDATE councils SET name = ? WHERE id = ?", "CLA de Dieulefit\r\nBcc: pirate2@example.org", e.co); err != nil {
		t.Fatal(err)
	}
	// Another browser signed in, and a facilitator's password link, both
	// older than the reset.
	other := webtest.New(t, e.app)
	other.SignInAs(email, webtest.Password)
	_, facID := webtest.SignIn(t, e.app, e.db, e.co, authz.Facilitator)
	oldLink, err := auth.CreatePasswordLink(ctx, e.db, &e.co, audit.Actor{AccountID: facID, Name: "Fac"}, id)
	if err != nil {
		t.Fatal(err)
	}

	anon := webtest.New(t, e.app)
	if _, body := anon.Get("/connexion"); !strings.Contains(body, `href="/connexion/oubli"`) || !strings.Contains(body, "Mot de passe oublié ?") {
		t.Error("no « Mot de passe oublié ? » link on /connexion")
	}
	if resp, body := anon.Get("/connexion/oubli"); resp.StatusCode != 200 || !strings.Contains(body, `name="_idem"`) {
		t.Fatalf("reset form: %d", resp.StatusCode)
	}
	// A malformed address: the form again, the message by the field.
	if resp, body := anon.PostForm("/connexion/oubli", url.Values{"email": {"jeanne@exemple"}}); resp.StatusCode != 422 || !strings.Contains(body, "n&#39;est pas valide") || !strings.Contains(body, `value="jeanne@exemple"`) {
		t.Errorf("malformed address: %d", resp.StatusCode)
	}
	e.ask(anon, "  "+strings.ToUpper(email)+" ")

	msg, got := e.mailed(1)
	if len(got.To) != 1 || got.To[0] != email {
		t.Fatalf("reset mail went to %v", got.To)
	}
	m := resetLink.FindStringSubmatch(msg.Text)
	if m == nil || m[1] != "https://cla.example.org" || !strings.Contains(msg.HTML, m[0]) {
		t.Fatalf("no link to https://cla.example.org in the mail:\n%s\n%s", msg.Text, msg.HTML)
	}
	path, token := m[2], m[3]
	if from := msg.Get("From"); !strings.HasPrefix(from, `"CLA de Dieulefit Bcc: pirate2@example.org" <cla@example.org>`) {
		t.Errorf("From: %q", from)
	}
	if to := msg.Get("To"); !strings.Contains(to, "Jeanne Bcc: pirate@example.org") || msg.Header.Get("Bcc") != "" || bytes.Contains(bytes.SplitN(got.Data, []byte("\r\n\r\n"), 2)[0], []byte("\nBcc:")) {
		t.Errorf("header injection: To %q, Bcc %q", to, msg.Header.Get("Bcc"))
	}
	if !strings.Contains(msg.Get("Subject"), "Nouveau mot de passe") || !strings.Contains(msg.Text, "valable une heure") ||
		!regexp.MustCompile(`^<reset-\d+\.[0-9a-f]{16}@cla\.example\.org>$`).MatchString(msg.Get("Message-ID")) ||
		msg.Get("List-Unsubscribe") != "" || !strings.Contains(msg.HTML, "Choisir un nouveau mot de passe") {
		t.Errorf("reset mail: %v\n%s", msg.Header, msg.Text)
	}
	// The token is stored hashed, and nowhere in clear (not in the job).
	sum := sha256.Sum256([]byte(token))
	if n := e.count("SELECT count(*) FROM account_tokens WHERE kind = 'reset' AND token_hash = ? AND account_id = ? AND council_id = ? AND expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes'",
		sum[:], id, e.co); n != 1 {
		t.Errorf("%d stored reset links valid one hour for the token", n)
	}
	if n := e.count("SELECT count(*) FROM river_job WHERE args::text LIKE ?", "%"+token+"%"); n != 0 {
		t.Error("the token is stored in clear in a job")
	}

	// The link: a form; a short password is refused by its field.
	user := webtest.New(t, e.app)
	if resp, body := user.Get(path); resp.StatusCode != 200 || !strings.Contains(body, `action="`+path+`"`) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reset page: %d", resp.StatusCode)
	}
	if resp, body := user.PostForm(path, url.Values{"password": {"court"}}); resp.StatusCode != 422 || !strings.Contains(body, `id="password-error"`) {
		t.Errorf("short password: %d", resp.StatusCode)
	}
	const newPassword = "un tout nouveau mot de passe"
	resp, _ := user.PostForm(path, url.Values{"password": {newPassword}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/compte" {
		t.Fatalf("reset: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := user.Get("/compte"); resp.StatusCode != 200 || !strings.Contains(body, "nouveau mot de passe est enregistré") {
		t.Errorf("after the reset this browser is not signed in: %d", resp.StatusCode)
	}
	if resp, _ := other.Get("/compte"); resp.StatusCode != 303 {
		t.Errorf("the other session survived the reset: %d", resp.StatusCode)
	}
	if n := e.count("SELECT count(*) FROM sessions WHERE account_id = ?", id); n != 1 {
		t.Errorf("%d sessions after the reset, want the new one only", n)
	}
	if resp, _ := webtest.New(t, e.app).Get("/mot-de-passe/" + oldLink); resp.StatusCode != 409 {
		t.Errorf("the older password link still works: %d", resp.StatusCode)
	}
	// Single use: the link again is a clear page with a way to ask again.
	resp, body := webtest.New(t, e.app).Get(path)
	resp2, body2 := user.PostForm(path, url.Values{"password": {"encore un autre mot de passe"}})
	for i, r := range []struct {
		status int
		body   string
	}{{resp.StatusCode, body}, {resp2.StatusCode, body2}} {
		if r.status != 409 || !strings.Contains(r.body, "déjà servi") || !strings.Contains(r.body, `href="/connexion/oubli"`) {
			t.Errorf("used link, request %d: %d %.300q", i, r.status, r.body)
		}
	}
	// Signing in: the new password works, the old one no longer.
	webtest.New(t, e.app).SignInAs(email, newPassword)
	if resp, _ := webtest.New(t, e.app).PostForm("/connexion", url.Values{"email": {email}, "password": {webtest.Password}}); resp.StatusCode != 422 {
		t.Errorf("the old password still signs in: %d", resp.StatusCode)
	}
	if n := e.count("SELECT count(*) FROM audit_log WHERE action = 'account.password_reset' AND council_id = ?", e.co); n != 1 {
		t.Errorf("%d audit entries for the reset", n)
	}
	if n := len(e.srv.Messages()); n != 1 {
		t.Errorf("%d mails sent, want 1", n)
	}
}

// The answer is the same whether the address has an account here or not; only
// an active member of this council gets a mail.
func TestPasswordResetAnswersAlikeAndMailsOnlyMembersOfTheCouncil(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t, "https://cla.example.org", true, quiet)
	ctx := context.Background()
	var b int64
	if err := e.db.NewRaw(`WITH c AS (INSERT INTO councils (slug, name) VALUES ('conseil-b', 'Conseil B') RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT 'b.test', id FROM c RETURNING council_id`).Scan(ctx, &b); err != nil {
		t.Fatal(err)
	}
	_, elsewhere := webtest.CreateMember(t, e.db, b, authz.Facilitator, "")
	disabledID, disabled := webtest.CreateMember(t, e.db, e.co, authz.Member, "")
	if _, err := e.db.ExecContext(ctx, "UPDATE memberships SET disabled_at = now() WHERE account_id = ?", disabledID); err != nil {
		t.Fatal(err)
	}
	_, noRole := webtest.CreateMember(t, e.db, e.co, authz.None, "")
	bothID, both := webtest.CreateMember(t, e.db, e.co, authz.Member, "")
	if err := auth.SetMembership(ctx, e.db, b, bothID, authz.Member); err != nil {
		t.Fatal(err)
	}

	anon := webtest.New(t, e.app)
	first := e.ask(anon, "personne@example.org")
	for _, addr := range []string{elsewhere, disabled, noRole} {
		c := webtest.New(t, e.app)
		if got := e.ask(c, addr); stripTokens(got) != stripTokens(first) {
			t.Errorf("the answer for %s differs from the one for an unknown address", addr)
		}
	}
	if n := e.settled(); n != 4 {
		t.Fatalf("%d reset jobs, want 4", n)
	}
	if n := len(e.srv.Messages()); n != 0 {
		t.Fatalf("%d mails sent to addresses without an active membership here", n)
	}
	if n := e.count("SELECT count(*) FROM account_tokens WHERE kind = 'reset'"); n != 0 {
		t.Errorf("%d reset links stored for no mail", n)
	}

	// A member of both councils asks on A's host: the link is A's, and does
	// nothing on B's host.
	e.ask(webtest.New(t, e.app), both)
	msg := parsed(e.mailed(1))
	m := resetLink.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no link: %s", msg.Text)
	}
	onB := webtest.New(t, e.app)
	onB.Host = "b.test"
	if resp, body := onB.Get(m[2]); resp.StatusCode != 404 || !strings.Contains(body, "pas valide") {
		t.Errorf("A's reset link on B's host: %d", resp.StatusCode)
	}
	if resp, _ := onB.PostForm(m[2], url.Values{"password": {"un mot de passe pour B"}}); resp.StatusCode != 404 {
		t.Errorf("A's reset link used on B's host: %d", resp.StatusCode)
	}
	if resp, _ := webtest.New(t, e.app).Get(m[2]); resp.StatusCode != 200 {
		t.Errorf("A's reset link on A's host: %d", resp.StatusCode)
	}
	// Asked on B's registered host, the link is B's host's.
	e.ask(onB, both)
	msg = parsed(e.mailed(2))
	if m := resetLink.FindStringSubmatch(msg.Text); m == nil || m[1] != "http://b.test" || !strings.Contains(msg.Get("From"), "Conseil B") {
		t.Errorf("B's reset mail: %s %s", msg.Get("From"), msg.Text)
	}
	// Disabled after the mail went out: the link no longer serves.
	if _, err := e.db.ExecContext(ctx, "UPDATE memberships SET disabled_at = now() WHERE account_id = ? AND council_id = ?", bothID, b); err != nil {
		t.Fatal(err)
	}
	m = resetLink.FindStringSubmatch(msg.Text)
	if resp, _ := onB.Get(m[2]); resp.StatusCode != 404 {
		t.Errorf("the link of a member disabled since: %d", resp.StatusCode)
	}
}

func parsed(m *mailtest.Message, _ mailtest.Received) *mailtest.Message { return m }

var formTokens = regexp.MustCompile(`value="[A-Za-z0-9_-]{16,}"`)

func stripTokens(s string) string { return formTokens.ReplaceAllString(s, `value=""`) }

// A Host header registered for no council reaches the default council, but
// a link to that host could hand the token to whoever typed it: without a
// trusted base URL nothing is sent.
func TestPasswordResetLinksNeverFollowAnUntrustedHost(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t, "", true, quiet)
	_, email := webtest.CreateMember(t, e.db, e.co, authz.Member, "")
	c := webtest.New(t, e.app)
	c.Host = "pirate.example"
	e.ask(c, email)
	if n := e.settled(); n != 1 || len(e.srv.Messages()) != 0 || e.count("SELECT count(*) FROM account_tokens") != 0 {
		t.Errorf("%d jobs, %d mails sent for an untrusted host", n, len(e.srv.Messages()))
	}
	// Once the host is the council's, the same request is mailed.
	if _, err := e.db.ExecContext(context.Background(), "INSERT INTO council_hosts (host, council_id) VALUES ('cla.dieulefit.test', ?)", e.co); err != nil {
		t.Fatal(err)
	}
	c.Host = "cla.dieulefit.test"
	e.ask(c, email)
	msg := parsed(e.mailed(1))
	if m := resetLink.FindStringSubmatch(msg.Text); m == nil || m[1] != "http://cla.dieulefit.test" {
		t.Errorf("link: %s", msg.Text)
	}
}

func TestPasswordResetRequestsAreLimited(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t, "https://cla.example.org", true, quiet)
	c := webtest.New(t, e.app)
	for i := 0; i < auth.ResetEmailLimit; i++ {
		e.ask(c, "a@example.org")
	}
	resp, body := c.PostForm("/connexion/oubli", url.Values{"email": {"a@example.org"}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "pour cette adresse e-mail") || !strings.Contains(body, "Réessayez dans") {
		t.Errorf("request %d for one address: %d %.300q", auth.ResetEmailLimit+1, resp.StatusCode, body)
	}
	// The same form sent twice (a double click) is one request.
	key := idempotency.NewKey()
	for i := 0; i < 2; i++ {
		if resp, _ := c.PostForm("/connexion/oubli", url.Values{"email": {"b@example.org"}, idempotency.Field: {key}}); resp.StatusCode != 303 {
			t.Fatalf("double submit %d: %d", i, resp.StatusCode)
		}
	}
	if n := e.settled(); n != auth.ResetEmailLimit+1 {
		t.Errorf("%d jobs, want %d (refused and replayed requests enqueue nothing)", n, auth.ResetEmailLimit+1)
	}
	// Per client address: the refused request took no slot.
	for i := auth.ResetEmailLimit + 1; i < auth.ResetIPLimit; i++ {
		e.ask(c, fmt.Sprintf("x%d@example.org", i))
	}
	resp, body = c.PostForm("/connexion/oubli", url.Values{"email": {"y@example.org"}})
	if resp.StatusCode != 429 || !strings.Contains(body, "depuis cette connexion internet") {
		t.Errorf("request %d from one address: %d %.300q", auth.ResetIPLimit+1, resp.StatusCode, body)
	}
}

func TestAnExpiredResetLinkSaysSoAndOffersANewOne(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t, "https://cla.example.org", true, quiet)
	id, email := webtest.CreateMember(t, e.db, e.co, authz.Member, "")
	e.ask(webtest.New(t, e.app), email)
	m := resetLink.FindStringSubmatch(parsed(e.mailed(1)).Text)
	if m == nil {
		t.Fatal("no link")
	}
	// An hour later.
	if _, err := e.db.ExecContext(context.Background(), "UPDATE account_tokens SET created_at = created_at - interval '1 hour', expires_at = expires_at - interval '1 hour' WHERE kind = 'reset'"); err != nil {
		t.Fatal(err)
	}
	c := webtest.New(t, e.app)
	if resp, body := c.Get(m[2]); resp.StatusCode != 410 || !strings.Contains(body, "a expiré") || !strings.Contains(body, `href="/connexion/oubli"`) || strings.Contains(body, `name="password"`) {
		t.Errorf("expired link: %d %.400q", resp.StatusCode, body)
	}
	var before string
	if err := e.db.NewRaw("SELECT password_hash FROM accounts WHERE id = ?", id).Scan(context.Background(), &before); err != nil {
		t.Fatal(err)
	}
	if resp, _ := c.PostForm(m[2], url.Values{"password": {"un mot de passe trop tard"}}); resp.StatusCode != 410 {
		t.Errorf("expired link used: %d", resp.StatusCode)
	}
	if n := e.count("SELECT count(*) FROM accounts WHERE id = ? AND password_hash = ?", id, before); n != 1 {
		t.Error("an expired link changed the password")
	}
	// A new request voids the older link and mails a new one.
	e.ask(webtest.New(t, e.app), email)
	m2 := resetLink.FindStringSubmatch(parsed(e.mailed(2)).Text)
	if m2 == nil || m2[3] == m[3] {
		t.Fatal("no new link")
	}
	if resp, _ := c.Get(m2[2]); resp.StatusCode != 200 {
		t.Errorf("new link: %d", resp.StatusCode)
	}
}

// logLines is a slog handler that keeps the messages it receives.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Level.String()+" "+r.Message)
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }

// Without SMTP the page says the same; the job stores nothing and says it
// once in the log, at info level.
func TestPasswordResetWithoutSMTP(t *testing.T) {
	t.Parallel()
	lines := &logLines{}
	e := newResetEnv(t, "https://cla.example.org", false, slog.New(lines))
	_, email := webtest.CreateMember(t, e.db, e.co, authz.Member, "")
	e.ask(webtest.New(t, e.app), email)
	e.ask(webtest.New(t, e.app), "personne@example.org")
	if n := e.settled(); n != 2 {
		t.Fatalf("%d jobs", n)
	}
	if n := e.count("SELECT count(*) FROM account_tokens"); n != 0 {
		t.Errorf("%d links stored without SMTP", n)
	}
	lines.mu.Lock()
	defer lines.mu.Unlock()
	if len(lines.lines) != 1 || !strings.HasPrefix(lines.lines[0], "INFO ") || !strings.Contains(lines.lines[0], "no SMTP") {
		t.Errorf("log: %q", lines.lines)
	}
}
