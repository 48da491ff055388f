package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/notify"
	"cla/internal/authz"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
	"cla/internal/web"
	"cla/internal/webtest"
)

var confirmLink = regexp.MustCompile(`https://cla\.example\.org(/abonnement/confirmer/[A-Za-z0-9_-]+)`)

// A citizen subscribes without an account: the form answers the same for a
// new, pending or confirmed address and refuses hostile input in French; a
// confirmation mail carries a single-use link, which expires; once
// confirmed, the weekly public digest tells the decisions and the next
// meeting and carries a one-click leave that deletes the address.
func TestCitizenSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org", TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ws := jobs.NewWorkers()
	notify.Register(ws, &notify.Service{DB: db, Sender: sender, From: "cla@example.org", BaseURL: "https://cla.example.org"})
	r, err := jobs.Start(ctx, db, jobs.Config{Workers: ws, PollInterval: 50 * time.Millisecond,
		Backoff: jobs.Backoff{First: 200 * time.Millisecond, Max: time.Second}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	site := apptest.New(t, db, app.Config{BaseURL: "https://cla.example.org"})
	c := webtest.New(t, site)
	mailsTo := func(addr string) []*mailtest.Message {
		var out []*mailtest.Message
		for _, m := range srv.Messages() {
			if m.To[0] == addr {
				out = append(out, mailtest.Parse(t, m.Data))
			}
		}
		return out
	}
	waitMails := func(addr string, n int) []*mailtest.Message {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for len(mailsTo(addr)) < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		got := mailsTo(addr)
		if len(got) < n {
			t.Fatalf("%d mails to %s, want %d", len(got), addr, n)
		}
		return got
	}
	// The home page and /decisions carry the form.
	for _, p := range []string{"/", "/decisions"} {
		if _, body := c.Get(p); !strings.Contains(body, `action="/abonnement"`) {
			t.Errorf("%s has no subscription form", p)
		}
	}
	_, body := c.Get("/abonnement?email=citoyenne%40example.org")
	if !strings.Contains(body, `value="citoyenne@example.org"`) {
		t.Errorf("the address typed on the home page is not kept")
	}
	// Hostile or wrong input: refused beside the field, input kept.
	for _, bad := range []string{"pas-une-adresse", "x@example.org\r\nBcc: pirate@example.org", "Nom <x@example.org>", strings.Repeat("a", 250) + "@example.org", ""} {
		resp, body := c.PostForm("/abonnement", url.Values{"email": {bad}})
		if resp.StatusCode != 422 || !strings.Contains(body, `id="email-error"`) {
			t.Errorf("%q: %d", bad, resp.StatusCode)
		}
	}
	subscribe := func(addr string) string {
		t.Helper()
		resp, _ := c.PostForm("/abonnement", url.Values{"email": {addr}})
		if resp.StatusCode != 303 {
			t.Fatalf("subscribe %s: %d", addr, resp.StatusCode)
		}
		_, body := c.Get(resp.Header.Get("Location"))
		i := strings.Index(body, "Merci !")
		if i < 0 {
			t.Fatalf("no confirmation on the page for %s", addr)
		}
		return body[i : i+80]
	}
	answer := subscribe("Citoyenne@Example.org")
	confirm := waitMails("citoyenne@example.org", 1)[0]
	m := confirmLink.FindStringSubmatch(confirm.Text)
	if m == nil || !strings.HasPrefix(confirm.Get("Subject"), "Confirmez votre abonnement") || confirm.Get("List-Unsubscribe") != "" {
		t.Fatalf("confirmation %q:\n%s", confirm.Get("Subject"), confirm.Text)
	}
	// Pending: the same answer and a new link (the first one dies).
	if again := subscribe("citoyenne@example.org"); again != answer {
		t.Errorf("answers differ: %q vs %q", answer, again)
	}
	second := waitMails("citoyenne@example.org", 2)[1]
	m2 := confirmLink.FindStringSubmatch(second.Text)
	if resp, _ := c.Get(m[1]); resp.StatusCode != 404 {
		t.Errorf("the first link still works after a new one: %d", resp.StatusCode)
	}
	if resp, body := c.Get(m2[1]); resp.StatusCode != 200 || !strings.Contains(body, "Confirmer mon abonnement") {
		t.Fatalf("confirm form: %d", resp.StatusCode)
	}
	if resp, body := c.PostForm(m2[1], nil); resp.StatusCode != 200 || !strings.Contains(body, "C'est fait") {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if resp, _ := c.PostForm(m2[1], nil); resp.StatusCode != 404 {
		t.Errorf("the link works twice: %d", resp.StatusCode)
	}
	// Confirmed: the same answer, no mail.
	if again := subscribe("citoyenne@example.org"); again != answer {
		t.Errorf("answers differ once confirmed: %q", again)
	}
	// An expired link is refused.
	subscribe("tardif@example.org")
	late := waitMails("tardif@example.org", 1)[0]
	if _, err := db.ExecContext(ctx, "UPDATE subscribers SET confirm_until = now() - interval '1 second' WHERE email = 'tardif@example.org'"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := c.Get(confirmLink.FindStringSubmatch(late.Text)[1]); resp.StatusCode != 404 {
		t.Errorf("an expired link: %d", resp.StatusCode)
	}
	time.Sleep(time.Second)
	if n := len(mailsTo("citoyenne@example.org")); n != 2 {
		t.Errorf("%d mails to the confirmed address, want 2", n)
	}

	// The public digest: a decision this week, on the council's day.
	var meetingID, itemID int64
	if err := db.NewRaw(`INSERT INTO meetings (council_id, title, starts_at, ends_at, state, opened_at, closed_at)
		VALUES (?, 'Séance extraordinaire', now() - interval '3 days', now() - interval '3 days' + interval '2 hours', 'close', now() - interval '3 days', now() - interval '3 days')
		RETURNING id`, co.ID).Scan(ctx, &meetingID); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO agenda_items (council_id, meeting_id, position, kind, title) VALUES (?, ?, 1, 'free', 'Le riz') RETURNING id`,
		co.ID, meetingID).Scan(ctx, &itemID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO decisions (council_id, meeting_id, agenda_item_id, outcome, title, motivation_md, motivation_html, decided_at)
		VALUES (?, ?, ?, 'ajournee', 'Le riz de Camargue attendra', 'Plus d''informations.', '<p>x</p>', now() - interval '2 days')`, co.ID, meetingID, itemID); err != nil {
		t.Fatal(err)
	}
	day := int(time.Now().In(web.Paris()).Weekday())
	if day == 0 {
		day = 7
	}
	if err := notify.SaveDigestWeekday(ctx, db, co.ID, day); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Enqueue(ctx, db, notify.DigestSweep{}, nil); err != nil {
		t.Fatal(err)
	}
	digest := waitMails("citoyenne@example.org", 3)[2]
	if !strings.HasPrefix(digest.Get("Subject"), "Les nouvelles de la semaine") || !strings.Contains(digest.Text, "Décision — Le riz de Camargue attendra (") {
		t.Errorf("public digest %q:\n%s", digest.Get("Subject"), digest.Text)
	}
	if n := len(mailsTo("tardif@example.org")); n != 1 {
		t.Errorf("an unconfirmed address got %d mails", n)
	}
	// The facilitators' delivery log shows the mails, not the addresses.
	fc, _ := webtest.SignIn(t, site, db, co.ID, authz.Facilitator)
	if _, log := fc.Get("/gestion/notifications"); strings.Contains(log, "citoyenne@example.org") || !strings.Contains(log, "Abonné·e au résumé public") {
		t.Errorf("the delivery log shows a subscriber's address, or not the row")
	}
	lu := regexp.MustCompile(`<https://cla\.example\.org(/desabonnement/[^>]+)>`).FindStringSubmatch(digest.Get("List-Unsubscribe"))
	if lu == nil || digest.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q", digest.Get("List-Unsubscribe"))
	}
	if resp, _ := webtest.New(t, site).PostFormRaw(lu[1], url.Values{"List-Unsubscribe": {"One-Click"}}); resp.StatusCode != 200 {
		t.Fatalf("one-click leave: %d", resp.StatusCode)
	}
	var left int
	if err := db.NewRaw("SELECT count(*) FROM subscribers WHERE email = 'citoyenne@example.org'").Scan(ctx, &left); err != nil || left != 0 {
		t.Errorf("the address is kept after leaving: %d %v", left, err)
	}
}
