package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/assembly"
	"cla/governance/notify"
	"cla/internal/mail/mailtest"
	"cla/internal/webtest"
)

// runningMeeting opens a meeting where everyone is present and returns it
// with a free agenda item to vote on.
func (f *fixture) runningMeeting() (*assembly.Meeting, func(q string, closes *time.Time) *assembly.Vote) {
	f.t.Helper()
	ctx := context.Background()
	m := f.meeting(-time.Hour, "Salle")
	if err := assembly.SetMeetingState(ctx, f.db, f.councilID, m.ID, assembly.MeetingOpen); err != nil {
		f.t.Fatal(err)
	}
	roll := map[int64]assembly.AttendanceStatus{f.fac.AccountID: assembly.Present}
	for _, id := range f.members {
		roll[id] = assembly.Present
	}
	if err := assembly.RecordAttendance(ctx, f.db, f.councilID, m.ID, roll); err != nil {
		f.t.Fatal(err)
	}
	open := func(q string, closes *time.Time) *assembly.Vote {
		it := &assembly.AgendaItem{CouncilID: f.councilID, MeetingID: m.ID, Kind: assembly.AgendaFree, Title: q}
		if err := assembly.AddAgendaItem(ctx, f.db, f.fac, it); err != nil {
			f.t.Fatal(err)
		}
		v := &assembly.Vote{CouncilID: f.councilID, MeetingID: m.ID, AgendaItemID: it.ID, Question: q, Method: assembly.MethodMajority,
			Mode: assembly.ModeOnline, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast, ClosesAt: closes}
		if err := assembly.OpenVote(ctx, f.db, f.fac, v); err != nil {
			f.t.Fatal(err)
		}
		return v
	}
	return m, open
}

// A vote that opens is announced to those who may vote, with a one-click
// unsubscribe (RFC 8058): the link's GET asks for confirmation, its POST
// (no session, no CSRF token, as a mail client sends it) unsubscribes that
// member from that kind only. A forged token is refused. Once every vote of
// the meeting is closed, the results go to every member.
func TestVoteOpenedUnsubscribeAndResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Nyons", "Jeanne", "Paul")
	host := webtest.HostFor(t, f.db, f.councilID)
	web := apptest.New(t, f.db, app.Config{BaseURL: "https://cla.example.org"})
	_, open := f.runningMeeting()
	f.run()
	first := open("Adopter le budget ?", nil)
	got := f.srv.Wait(t, 3)
	var link string
	for _, r := range got {
		msg := mailtest.Parse(t, r.Data)
		if !strings.HasPrefix(msg.Get("Subject"), "Vote ouvert : Adopter le budget ?") {
			t.Errorf("subject %q", msg.Get("Subject"))
		}
		lu := msg.Get("List-Unsubscribe")
		if !strings.HasPrefix(lu, "<https://"+host+"/desabonnement/") || msg.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("unsubscribe headers %q %q", lu, msg.Get("List-Unsubscribe-Post"))
		}
		if !strings.Contains(msg.Text, strings.Trim(lu, "<>")) || !strings.Contains(msg.Text, "/votes/") {
			t.Errorf("text lacks the links:\n%s", msg.Text)
		}
		if r.To[0] == f.emails[f.members[0]] {
			link = strings.Trim(lu, "<>")
		}
	}
	u, _ := url.Parse(link)
	req := httptest.NewRequest(http.MethodGet, u.Path, nil)
	req.Host = host
	resp, err := web.Test(req, -1)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET unsubscribe: %v %v", resp, err)
	}
	if p, _ := notify.Prefs(ctx, f.db, f.councilID, f.members[0]); p[notify.KindVoteOpened].Delivery != notify.Immediate {
		t.Fatal("a GET unsubscribed")
	}
	req = httptest.NewRequest(http.MethodPost, u.Path, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := web.Test(req, -1); err != nil || resp.StatusCode != 200 {
		t.Fatalf("one-click POST: %v %v", resp, err)
	}
	p, _ := notify.Prefs(ctx, f.db, f.councilID, f.members[0])
	if p[notify.KindVoteOpened].Delivery != notify.Never || p[notify.KindResults].Delivery != notify.Immediate {
		t.Errorf("prefs after unsubscribing: %+v", p)
	}
	forged := httptest.NewRequest(http.MethodPost, u.Path[:len(u.Path)-3]+"xyz", nil)
	forged.Host = host
	if resp, _ := web.Test(forged, -1); resp.StatusCode != 404 {
		t.Errorf("forged token: %d", resp.StatusCode)
	}

	second := open("Adopter les statuts ?", nil)
	got = f.srv.Wait(t, 5)
	for _, r := range got[3:] {
		if r.To[0] == f.emails[f.members[0]] {
			t.Errorf("an unsubscribed member was told of a vote")
		}
	}
	for _, v := range []*assembly.Vote{first, second} {
		if _, _, err := assembly.CloseVote(ctx, f.db, f.councilID, v.ID, f.fac, assembly.CloseInput{}); err != nil {
			t.Fatal(err)
		}
	}
	got = f.srv.Wait(t, 8)
	res := mailtest.Parse(t, got[7].Data)
	if !strings.HasPrefix(res.Get("Subject"), "Résultats : ") || !strings.Contains(res.Text, "Adopter le budget ?") || !strings.Contains(res.Text, "Adopter les statuts ?") {
		t.Errorf("results: %q\n%s", res.Get("Subject"), res.Text)
	}
	time.Sleep(time.Second)
	if n := len(f.srv.Messages()); n != 8 {
		t.Errorf("%d mails, want 8 (results once, after the last vote)", n)
	}
}

// A vote whose window ends within 24 hours reminds who has not voted, once.
func TestVoteClosingReminder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "CLA de Die", "Jeanne", "Paul")
	if _, err := f.db.ExecContext(ctx, "INSERT INTO notification_prefs (council_id, account_id, kind, delivery) VALUES (?, ?, 'vote_opened', 'never')", f.councilID, f.fac.AccountID); err != nil {
		t.Fatal(err)
	}
	for _, id := range f.members {
		if _, err := f.db.ExecContext(ctx, "INSERT INTO notification_prefs (council_id, account_id, kind, delivery) VALUES (?, ?, 'vote_opened', 'never')", f.councilID, id); err != nil {
			t.Fatal(err)
		}
	}
	_, open := f.runningMeeting()
	closes := time.Now().Add(20 * time.Hour)
	v := open("Choisir le fournisseur ?", &closes)
	if err := assembly.CastBallot(ctx, f.db, f.councilID, v.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
		t.Fatal(err)
	}
	f.run() // the hourly sweep runs when the leader starts
	got := f.srv.Wait(t, 2)
	time.Sleep(time.Second)
	if n := len(f.srv.Messages()); n != 2 {
		t.Fatalf("%d reminders, want 2", n)
	}
	for _, r := range got {
		if r.To[0] == f.emails[f.members[0]] {
			t.Error("a member who voted was reminded")
		}
		if msg := mailtest.Parse(t, r.Data); !strings.HasPrefix(msg.Get("Subject"), "Rappel : ") {
			t.Errorf("subject %q", msg.Get("Subject"))
		}
	}
}
