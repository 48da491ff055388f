package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"cla/governance/notify"
	"cla/internal/jobs"
	"cla/internal/mail/mailtest"
	"cla/internal/web"
)

// A member who reads votes in the digest gets no mail when a vote opens,
// but the weekly digest lists it, on the council's day; a member with
// nothing new gets no digest; a member who left the digest gets none.
func TestWeeklyDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Valréas", "Lectrice", "Paul", "Sans résumé")
	reader, leaver := f.members[0], f.members[2]
	for _, id := range []int64{reader, leaver} {
		if err := notify.SavePrefs(ctx, f.db, []notify.Pref{{CouncilID: f.councilID, AccountID: id, Kind: notify.KindVoteOpened, Delivery: notify.Digest}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := notify.SavePrefs(ctx, f.db, []notify.Pref{{CouncilID: f.councilID, AccountID: leaver, Kind: notify.KindDigest, Delivery: notify.Never}}); err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(web.Paris()).Weekday()
	day := int(today)
	if day == 0 {
		day = 7
	}
	if err := notify.SaveDigestWeekday(ctx, f.db, f.councilID, day%7+1); err != nil { // not today
		t.Fatal(err)
	}
	_, open := f.runningMeeting()
	f.run()
	open("Changer de fournisseur ?", nil)
	f.srv.Wait(t, 2) // Paul and the facilitator
	held := f.waitRows(notify.KindVoteOpened, 2, notify.InDigest)
	if len(held) != 2 {
		t.Fatalf("held %d", len(held))
	}
	// Not the council's day: nothing.
	if _, err := jobs.Enqueue(ctx, f.db, notify.DigestSweep{}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(f.srv.Messages()); n != 2 {
		t.Fatalf("%d mails before the digest day", n)
	}
	if err := notify.SaveDigestWeekday(ctx, f.db, f.councilID, day); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Enqueue(ctx, f.db, notify.DigestSweep{}, nil); err != nil {
		t.Fatal(err)
	}
	got := f.srv.Wait(t, 3)
	time.Sleep(1500 * time.Millisecond)
	if n := len(f.srv.Messages()); n != 3 {
		t.Fatalf("%d mails, want 3 (one digest, to the reader only)", n)
	}
	d := mailtest.Parse(t, got[2].Data)
	if got[2].To[0] != f.emails[reader] || !strings.HasPrefix(d.Get("Subject"), "Résumé de la semaine") ||
		!strings.Contains(d.Text, "Vote ouvert : Changer de fournisseur ?") || d.Get("List-Unsubscribe") == "" {
		t.Errorf("digest to %v: %q\n%s", got[2].To, d.Get("Subject"), d.Text)
	}
}

// The digest tells what the council did since the last digest: proposals put
// on the table, debates with new arguments, requested debates, decisions,
// and the next meeting — read once for the council, not another council's.
// The next week, with nothing new, nothing is sent.
func TestWeeklyDigestContent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Nyons", "Jeanne")
	var otherID int64
	if err := f.db.NewRaw("INSERT INTO councils (slug, name) VALUES (?, 'CLA d''ailleurs') RETURNING id", fmt.Sprintf("ailleurs-%d", f.councilID)).Scan(ctx, &otherID); err != nil {
		t.Fatal(err)
	}
	exec := func(db interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}, q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	seed := func(councilID int64, tag string) {
		// A proposal opened this week, one still a draft, one opened long ago.
		exec(f.db, `WITH p AS (INSERT INTO proposals (council_id, kind, state, title, outcome, author_name)
			VALUES (?, 'criteria', 'ouverte', ?, 'Conventionner.', 'Jeanne') RETURNING id)
			INSERT INTO proposal_events (council_id, proposal_id, from_state, to_state, actor_name) SELECT ?, id, 'brouillon', 'ouverte', 'Jeanne' FROM p`,
			councilID, "Conventionner le kombucha "+tag, councilID)
		exec(f.db, `INSERT INTO proposals (council_id, kind, state, title, outcome, author_name) VALUES (?, 'criteria', 'brouillon', ?, 'x', 'Jeanne')`,
			councilID, "Brouillon secret "+tag)
		exec(f.db, `WITH p AS (INSERT INTO proposals (council_id, kind, state, title, outcome, author_name)
			VALUES (?, 'criteria', 'ouverte', ?, 'x', 'Jeanne') RETURNING id)
			INSERT INTO proposal_events (council_id, proposal_id, from_state, to_state, actor_name, created_at) SELECT ?, id, 'brouillon', 'ouverte', 'Jeanne', now() - interval '20 days' FROM p`,
			councilID, "Ancienne proposition "+tag, councilID)
		// An open debate with two new arguments (and a hidden one), a
		// requested debate.
		exec(f.db, `WITH d AS (INSERT INTO debates (council_id, slug, theme, title, state, opened_at, created_at)
			VALUES (?, ?, 'produits', ?, 'ouvert', now() - interval '30 days', now() - interval '30 days') RETURNING id)
			INSERT INTO arguments (council_id, debate_id, stance, body_md, body_html, author_name, is_demo, hidden_at, hidden_reason)
			SELECT ?, d.id, 'pour', 'Oui', '<p>Oui</p>', 'Jeanne', true, h, r FROM d,
				(VALUES (NULL::timestamptz, ''), (NULL, ''), (now(), 'Hors sujet')) AS x(h, r)`,
			councilID, "poisson-"+tag, "Le poisson en conserve "+tag, councilID)
		exec(f.db, `INSERT INTO debates (council_id, slug, theme, title) VALUES (?, ?, 'produits', ?)`,
			councilID, "riz-"+tag, "Le riz de Camargue "+tag)
	}
	seed(f.councilID, "ici")
	seed(otherID, "ailleurs")
	// A decision this week (at a past meeting) and the next meeting.
	past := f.meeting(-3*24*time.Hour, "Mairie", "Le kombucha")
	next := f.meeting(12*24*time.Hour, "Salle des fêtes")
	exec(f.db, `INSERT INTO decisions (council_id, meeting_id, agenda_item_id, outcome, title, motivation_md, motivation_html, decided_at)
		SELECT ?, ?, id, 'rejetee', 'Le kombucha reste hors du registre', 'Trop sucré.', '<p>Trop sucré.</p>', now() - interval '2 days'
		FROM agenda_items WHERE meeting_id = ?`, f.councilID, past.ID, past.ID)

	today := time.Now().In(web.Paris()).Weekday()
	day := int(today)
	if day == 0 {
		day = 7
	}
	if err := notify.SaveDigestWeekday(ctx, f.db, f.councilID, day%7+1); err != nil {
		t.Fatal(err)
	}
	f.run()
	if err := notify.SaveDigestWeekday(ctx, f.db, f.councilID, day); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Enqueue(ctx, f.db, notify.DigestSweep{}, nil); err != nil {
		t.Fatal(err)
	}
	got := f.srv.Wait(t, 2) // Jeanne and the facilitator
	rows := f.waitRows(notify.KindDigest, 2, notify.Sent)
	for _, r := range got {
		d := mailtest.Parse(t, r.Data)
		for _, want := range []string{
			"Nouvelle proposition — Conventionner le kombucha ici : https://cla.example.org/propositions/",
			"Débat — Le poisson en conserve ici : 2 nouveaux arguments : https://cla.example.org/debats/poisson-ici",
			"Débat souhaité — Le riz de Camargue ici : https://cla.example.org/debats/riz-ici",
			"Décision — Le kombucha reste hors du registre (",
			"Prochaine séance : « Séance de printemps », le " + web.FrenchDate(next.StartsAt),
			fmt.Sprintf("/seances/%d", next.ID),
		} {
			if !strings.Contains(d.Text, want) {
				t.Errorf("digest lacks %q:\n%s", want, d.Text)
			}
		}
		for _, not := range []string{"Brouillon secret", "Ancienne proposition", "ailleurs"} {
			if strings.Contains(d.Text, not) || strings.Contains(d.HTML, not) {
				t.Errorf("digest tells %q:\n%s", not, d.Text)
			}
		}
		if !strings.HasPrefix(d.Get("List-Unsubscribe"), "<https://cla.example.org/desabonnement/") || d.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("unsubscribe headers %q %q", d.Get("List-Unsubscribe"), d.Get("List-Unsubscribe-Post"))
		}
		if !strings.Contains(d.HTML, "<li>Débat souhaité — Le riz de Camargue ici") {
			t.Errorf("HTML:\n%s", d.HTML)
		}
	}
	if len(rows) != 2 || rows[0].Attempts != 1 || rows[0].JobID == nil {
		t.Errorf("rows %+v", rows)
	}
	// The sweep again the same day sends nothing twice.
	if _, err := jobs.Enqueue(ctx, f.db, notify.DigestSweep{}, nil); err != nil {
		t.Fatal(err)
	}
	// Next week: the digest of this week is the last one; nothing new
	// since, nothing sent.
	f.svc.Now = func() time.Time { return time.Now().AddDate(0, 0, 7) }
	if _, err := jobs.Enqueue(ctx, f.db, notify.DigestSweep{}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	// Next week the next meeting is due for its convocation (the
	// convocation sweep sends it): count the digests only.
	digests := 0
	for _, r := range f.srv.Messages() {
		if strings.HasPrefix(mailtest.Parse(t, r.Data).Get("Subject"), "Résumé de la semaine") {
			digests++
		}
	}
	if digests != 2 {
		t.Errorf("%d digests, want the 2 of this week only", digests)
	}
	var others int
	if err := f.db.NewRaw("SELECT count(*) FROM notifications WHERE council_id = ?", otherID).Scan(ctx, &others); err != nil || others != 0 {
		t.Errorf("the other council (no member) has %d notifications (%v)", others, err)
	}
}
