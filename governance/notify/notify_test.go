package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/assembly"
	"cla/governance/notify"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

var seq atomic.Int64

// fixture is a council with a facilitator and members, and a notify
// service over a test SMTP server.
type fixture struct {
	t         *testing.T
	db        *bun.DB
	councilID int64
	fac       audit.Actor
	members   []int64
	emails    map[int64]string
	srv       *mailtest.Server
	svc       *notify.Service
}

func newFixture(t *testing.T, councilName string, names ...string) *fixture {
	t.Helper()
	ctx := context.Background()
	db := testdb.New(t)
	f := &fixture{t: t, db: db, emails: map[int64]string{}}
	n := seq.Add(1)
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES (?, ?) RETURNING id", fmt.Sprintf("notif-%d", n), councilName).Scan(ctx, &f.councilID); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, role authz.Role) int64 {
		var id int64
		email := fmt.Sprintf("p%d-%d@example.org", n, seq.Add(1))
		if err := db.NewRaw("INSERT INTO accounts (email, name) VALUES (?, ?) RETURNING id", email, name).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO memberships (council_id, account_id, role) VALUES (?, ?, ?)", f.councilID, id, string(role)); err != nil {
			t.Fatal(err)
		}
		f.emails[id] = email
		return id
	}
	f.fac = audit.Actor{AccountID: mk("Animatrice", authz.Facilitator), Name: "Animatrice", Role: authz.Facilitator}
	for _, name := range names {
		f.members = append(f.members, mk(name, authz.Member))
	}
	f.srv = mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{Addr: f.srv.Addr, From: "cla@example.org", TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = &notify.Service{DB: db, Sender: sender, From: "cla@example.org", BaseURL: "https://cla.example.org"}
	return f
}

// run starts a job runner with notify's workers until the test ends.
func (f *fixture) run() *jobs.Runner {
	f.t.Helper()
	ws := jobs.NewWorkers()
	notify.Register(ws, f.svc)
	r, err := jobs.Start(context.Background(), f.db, jobs.Config{Workers: ws, PollInterval: 50 * time.Millisecond,
		Backoff: jobs.Backoff{First: 200 * time.Millisecond, Max: time.Second},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = r.Stop(context.Background()) })
	return r
}

// waitState waits until the event's notifications reach want, n of them.
func (f *fixture) waitRows(kind notify.Kind, n int, states ...notify.State) []notify.Notification {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ns []notify.Notification
		if err := f.db.NewSelect().Model(&ns).Where("council_id = ? AND kind = ?", f.councilID, kind).Where("state IN (?)", bun.List(states)).Order("id").Scan(context.Background()); err != nil {
			f.t.Fatal(err)
		}
		if len(ns) >= n {
			return ns
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%d %s notifications in %v, want %d", len(ns), kind, states, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *fixture) meeting(in time.Duration, place string, agenda ...string) *assembly.Meeting {
	f.t.Helper()
	ctx := context.Background()
	start := time.Now().Add(in).Truncate(time.Minute)
	m := &assembly.Meeting{CouncilID: f.councilID, Title: "Séance de printemps", StartsAt: start, EndsAt: start.Add(2 * time.Hour), Place: place}
	if err := assembly.CreateMeeting(ctx, f.db, m); err != nil {
		f.t.Fatal(err)
	}
	for _, title := range agenda {
		if err := assembly.AddAgendaItem(ctx, f.db, f.fac, &assembly.AgendaItem{CouncilID: f.councilID, MeetingID: m.ID, Kind: assembly.AgendaFree, Title: title}); err != nil {
			f.t.Fatal(err)
		}
	}
	return m
}

// The convocation goes out N days before: to every active member, from the
// council's name, with the date, place, agenda, a link to the meeting pack,
// the meeting as an .ics invitation, a Message-ID per recipient and event,
// and no unsubscribe header (a seated member cannot leave convocations).
// Names carrying line breaks inject no header. A disabled member gets
// nothing; a meeting beyond N days is not convened yet.
func TestConvocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Dieulefit\r\nBcc: pirate@example.org", "Jeanne\r\nX-Injected: oui", "Paul", "Désactivé")
	if _, err := f.db.ExecContext(ctx, "UPDATE memberships SET disabled_at = now() WHERE council_id = ? AND account_id = ?", f.councilID, f.members[2]); err != nil {
		t.Fatal(err)
	}
	later := f.meeting(20*24*time.Hour, "Mairie") // beyond the 7 days
	m := f.meeting(3*24*time.Hour, "Salle des fêtes", "Budget 2027", "Nouveaux produits")
	f.run()
	got := f.srv.Wait(t, 3) // facilitator and two members
	time.Sleep(500 * time.Millisecond)
	if n := len(f.srv.Messages()); n != 3 {
		t.Fatalf("%d mails, want 3 (the disabled member gets none, nor the later meeting)", n)
	}
	seenIDs := map[string]bool{}
	for _, r := range got {
		msg := mailtest.Parse(t, r.Data)
		if r.To[0] == f.emails[f.members[2]] {
			t.Errorf("a disabled member was convened")
		}
		if !strings.HasPrefix(msg.Get("Subject"), "Convocation : Séance de printemps le ") {
			t.Errorf("subject %q", msg.Get("Subject"))
		}
		if from := msg.Get("From"); !strings.Contains(from, "CLA de Dieulefit") || !strings.Contains(from, "cla@example.org") {
			t.Errorf("From %q", from)
		}
		for _, h := range []string{"Bcc", "X-Injected"} {
			if msg.Header.Get(h) != "" {
				t.Errorf("header %s injected: %q", h, msg.Header.Get(h))
			}
		}
		if len(r.To) != 1 {
			t.Errorf("recipients %v", r.To)
		}
		if msg.Get("List-Unsubscribe") != "" {
			t.Errorf("a convocation carries List-Unsubscribe %q", msg.Get("List-Unsubscribe"))
		}
		id := msg.Get("Message-Id")
		if id == "" || seenIDs[id] {
			t.Errorf("Message-ID %q not one per recipient", id)
		}
		seenIDs[id] = true
		for _, want := range []string{"Salle des fêtes", "1. Budget 2027", "2. Nouveaux produits", fmt.Sprintf("https://cla.example.org/seances/%d/dossier", m.ID)} {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, msg.Text)
			}
		}
		if !strings.Contains(msg.HTML, "<li>Budget 2027</li>") {
			t.Errorf("HTML lacks the agenda:\n%s", msg.HTML)
		}
		if len(msg.Attachments) != 1 {
			t.Fatalf("attachments %v", msg.Attachments)
		}
		ics := string(msg.Attachments[0].Data)
		if !strings.HasPrefix(msg.Attachments[0].ContentType, "text/calendar") || !strings.Contains(ics, "METHOD:REQUEST") || strings.Contains(ics, "\r\nBcc") ||
			!strings.Contains(ics, "UID:"+m.UID+"@") || !strings.Contains(ics, "LOCATION:Salle des fêtes") {
			t.Errorf(".ics %s:\n%s", msg.Attachments[0].ContentType, ics)
		}
	}
	rows := f.waitRows(notify.KindConvocation, 3, notify.Sent)
	for _, n := range rows {
		if !strings.Contains(n.EventKey, fmt.Sprint(m.ID)) || n.Attempts != 1 || n.SentAt == nil {
			t.Errorf("row %+v", n)
		}
	}
	_ = later
}

// A convocation changed after it went out (place, agenda) is sent again,
// marked as a change, once; a cancelled meeting sends a cancellation with
// an .ics CANCEL.
func TestConvocationChangeAndCancellation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Crest", "Jeanne")
	m := f.meeting(2*24*time.Hour, "Salle A", "Point 1")
	f.run()
	f.srv.Wait(t, 2)
	f.waitRows(notify.KindConvocation, 2, notify.Sent)
	if err := assembly.AddAgendaItem(ctx, f.db, f.fac, &assembly.AgendaItem{CouncilID: f.councilID, MeetingID: m.ID, Kind: assembly.AgendaFree, Title: "Point ajouté"}); err != nil {
		t.Fatal(err)
	}
	got := f.srv.Wait(t, 4)
	changed := mailtest.Parse(t, got[3].Data)
	if !strings.HasPrefix(changed.Get("Subject"), "Modification : ") || !strings.Contains(changed.Text, "Point ajouté") {
		t.Errorf("change: %q\n%s", changed.Get("Subject"), changed.Text)
	}
	if err := assembly.SetMeetingState(ctx, f.db, f.councilID, m.ID, assembly.MeetingCancelled); err != nil {
		t.Fatal(err)
	}
	got = f.srv.Wait(t, 6)
	cancel := mailtest.Parse(t, got[5].Data)
	if !strings.HasPrefix(cancel.Get("Subject"), "Annulation : ") || len(cancel.Attachments) != 1 ||
		!strings.Contains(string(cancel.Attachments[0].Data), "METHOD:CANCEL") || !strings.Contains(string(cancel.Attachments[0].Data), "STATUS:CANCELLED") {
		t.Errorf("cancellation: %q %v", cancel.Get("Subject"), cancel.Attachments)
	}
	time.Sleep(time.Second)
	if n := len(f.srv.Messages()); n != 6 {
		t.Errorf("%d mails, want 6", n)
	}
}

// The convocation period is a meeting rule: with 14 days, a meeting in ten
// days is convened; a rule out of range is refused beside its field.
func TestConvocationDaysRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Grignan")
	bad := &assembly.MeetingRules{CouncilID: f.councilID, QuorumKind: assembly.QuorumCount, ConvocationDays: 61}
	if err := assembly.SaveRules(ctx, f.db, bad); apperr.FieldsOf(err)["convocation_days"] == "" {
		t.Fatalf("61 days: %v", err)
	}
	if err := assembly.SaveRules(ctx, f.db, &assembly.MeetingRules{CouncilID: f.councilID, QuorumKind: assembly.QuorumCount, ConvocationDays: 14}); err != nil {
		t.Fatal(err)
	}
	f.meeting(10*24*time.Hour, "Château")
	f.run()
	f.srv.Wait(t, 1)
	f.waitRows(notify.KindConvocation, 1, notify.Sent)
}
