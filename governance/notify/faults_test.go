package notify_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/notify"
	"cla/internal/authz"
	"cla/internal/jobs"
	"cla/internal/web"
	"cla/internal/webtest"
)

// A recipient the server refuses (550) is marked failed with the server's
// answer and not retried; a server down is retried with backoff and the mail
// arrives once it is back, nothing lost; the facilitators' page shows each
// state and re-sends a failed mail on request.
func TestRefusedAndServerDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Buis", "Refusée", "Paul")
	f.srv.Refuse(f.emails[f.members[0]])
	f.srv.Down()
	f.meeting(2*24*time.Hour, "Salle")
	f.run()
	time.Sleep(1500 * time.Millisecond)
	queued := f.waitRows(notify.KindConvocation, 3, notify.Queued)
	for _, n := range queued {
		if n.Answer == "" {
			t.Errorf("a failed attempt left no answer: %+v", n)
		}
	}
	f.srv.Up(t)
	f.srv.Wait(t, 2)
	failed := f.waitRows(notify.KindConvocation, 1, notify.Failed)
	if failed[0].Email != f.emails[f.members[0]] || !strings.Contains(failed[0].Answer, "550") {
		t.Errorf("failed row %+v", failed[0])
	}
	sent := f.waitRows(notify.KindConvocation, 2, notify.Sent)
	if sent[0].Attempts < 2 {
		t.Errorf("attempts %d: the server was down at first", sent[0].Attempts)
	}
	attempts := f.srv.Attempts()
	time.Sleep(2 * time.Second)
	if f.srv.Attempts() != attempts {
		t.Errorf("a refused recipient is retried: %d then %d attempts", attempts, f.srv.Attempts())
	}
	if row, err := jobs.Get(ctx, f.db, *failed[0].JobID); err != nil || row.State != jobs.StateCancelled {
		t.Errorf("job of a refused mail: %v %v", row, err)
	}

	// The facilitators' page, and a re-send once the address is fixed.
	web := apptest.New(t, f.db, app.Config{BaseURL: "https://cla.example.org"})
	fc, _ := webtest.SignIn(t, web, f.db, f.councilID, authz.Facilitator)
	resp, body := fc.Get("/gestion/notifications")
	if resp.StatusCode != 200 || !strings.Contains(body, "Échec") || !strings.Contains(body, "550") || !strings.Contains(body, "Envoyé") {
		t.Fatalf("delivery log: %d\n%s", resp.StatusCode, body)
	}
	f.srv.Unrefuse(f.emails[f.members[0]])
	// The server is down while the button is clicked twice: the message
	// stays queued, so the second click is refused and nothing is sent twice.
	f.srv.Down()
	resend := fmt.Sprintf("/gestion/notifications/%d/renvoyer", failed[0].ID)
	resp, body = fc.PostForm(resend, url.Values{})
	if resp.StatusCode != 303 {
		t.Fatalf("re-send: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := fc.PostForm(resend, url.Values{}); resp.StatusCode != 409 || !strings.Contains(body, "Seul un message envoyé ou en échec peut être renvoyé") {
		t.Errorf("second click on re-send: %d", resp.StatusCode)
	}
	f.srv.Up(t)
	got := f.srv.Wait(t, 3)
	if got[2].To[0] != f.emails[f.members[0]] {
		t.Errorf("re-sent to %v", got[2].To)
	}
	f.waitRows(notify.KindConvocation, 3, notify.Sent)
}

// Without SMTP, messages are recorded and shown to the member on
// /compte/notifications; the member's choices are kept there, a convocation
// address can be given but convocations cannot be turned off, and a bad
// address is refused beside its field. Another council's members see none
// of it.
func TestNoSMTPRecordsAndMemberPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Taulignan", "Jeanne")
	f.svc.Sender = nil
	web := apptest.New(t, f.db, app.Config{})
	mc, me := webtest.SignIn(t, web, f.db, f.councilID, authz.Member)
	f.meeting(2*24*time.Hour, "Salle", "Point unique")
	f.run()
	rows := f.waitRows(notify.KindConvocation, 3, notify.Recorded)
	if len(f.srv.Messages()) != 0 || rows[0].BodyText == "" {
		t.Fatalf("without SMTP: %d mails, row %+v", len(f.srv.Messages()), rows[0])
	}
	resp, body := mc.Get("/compte/notifications")
	if resp.StatusCode != 200 || !strings.Contains(body, "Convocation : Séance de printemps") || !strings.Contains(body, "pas d&#39;envoi configuré") ||
		strings.Contains(body, f.emails[f.members[0]]) {
		t.Fatalf("/compte/notifications: %d\n%s", resp.StatusCode, body)
	}
	resp, body = mc.PostForm("/compte/notifications", url.Values{"address": {"pas une adresse"}, "delivery_results": {"never"}})
	if resp.StatusCode != 422 || !strings.Contains(body, `id="address-error"`) || !strings.Contains(body, `value="pas une adresse"`) {
		t.Fatalf("bad address: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = mc.PostForm("/compte/notifications", url.Values{"address": {"Autre@Example.org"}, "delivery_results": {"never"}, "delivery_convocation": {"never"}, "delivery_vote_opened": {"digest"}, "delivery_vote_closing": {"immediate"}})
	if resp.StatusCode != 303 {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	p, _ := notify.Prefs(ctx, f.db, f.councilID, me)
	if p[notify.KindConvocation].Delivery != notify.Immediate || p[notify.KindConvocation].Address != "autre@example.org" ||
		p[notify.KindResults].Delivery != notify.Never || p[notify.KindVoteOpened].Delivery != notify.Digest {
		t.Errorf("prefs %+v", p)
	}
}

// The batch path (digests, shops, citizens: send jobs of many mails) keeps
// the same promises: a server down is retried with backoff and nothing is
// lost; an address refused is failed with the server's answer and not
// retried, the others of its batch are sent; a re-send sends that one only.
func TestBatchRefusedAndServerDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Vaison", "Refusée", "Paul")
	if _, err := f.db.ExecContext(ctx, `INSERT INTO debates (council_id, slug, theme, title) VALUES (?, 'les-semences', 'produits', 'Les plants potagers')`, f.councilID); err != nil {
		t.Fatal(err)
	}
	day := int(time.Now().In(web.Paris()).Weekday())
	if day == 0 {
		day = 7
	}
	if err := notify.SaveDigestWeekday(ctx, f.db, f.councilID, day); err != nil {
		t.Fatal(err)
	}
	f.srv.Refuse(f.emails[f.members[0]])
	f.srv.Down()
	f.run()
	if _, err := jobs.Enqueue(ctx, f.db, notify.DigestSweep{}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	for _, n := range f.waitRows(notify.KindDigest, 3, notify.Queued) {
		if n.Answer == "" {
			t.Errorf("a failed attempt left no answer: %+v", n)
		}
	}
	f.srv.Up(t)
	f.srv.Wait(t, 2)
	failed := f.waitRows(notify.KindDigest, 1, notify.Failed)
	if failed[0].Email != f.emails[f.members[0]] || !strings.Contains(failed[0].Answer, "550") {
		t.Errorf("failed row %+v", failed[0])
	}
	if sent := f.waitRows(notify.KindDigest, 2, notify.Sent); sent[0].Attempts < 2 {
		t.Errorf("attempts %d: the server was down at first", sent[0].Attempts)
	}
	attempts := f.srv.Attempts()
	time.Sleep(2 * time.Second)
	if f.srv.Attempts() != attempts {
		t.Errorf("a refused recipient is retried: %d then %d attempts", attempts, f.srv.Attempts())
	}
	site := apptest.New(t, f.db, app.Config{BaseURL: "https://cla.example.org"})
	fc, _ := webtest.SignIn(t, site, f.db, f.councilID, authz.Facilitator)
	f.srv.Unrefuse(f.emails[f.members[0]])
	if resp, _ := fc.PostForm(fmt.Sprintf("/gestion/notifications/%d/renvoyer", failed[0].ID), url.Values{}); resp.StatusCode != 303 {
		t.Fatalf("re-send: %d", resp.StatusCode)
	}
	got := f.srv.Wait(t, 3)
	if got[2].To[0] != f.emails[f.members[0]] {
		t.Errorf("re-sent to %v", got[2].To)
	}
	f.waitRows(notify.KindDigest, 3, notify.Sent)
	time.Sleep(time.Second)
	if n := len(f.srv.Messages()); n != 3 {
		t.Errorf("%d mails, want 3 (the re-send sends the failed one only)", n)
	}
}
