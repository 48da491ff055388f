package notify_test

import (
	"context"
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
