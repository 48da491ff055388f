package demo

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	ics "github.com/arran4/golang-ical"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/assembly"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// The demo has a past meeting with approved minutes and the decisions behind
// the March 2025 register, and a next meeting with a draft agenda; loading it
// twice duplicates nothing.
func TestDemoMeetings(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	ms, err := assembly.Meetings(ctx, db, co.ID)
	if err != nil || len(ms) != 3 {
		t.Fatalf("meetings: %d %v", len(ms), err)
	}
	next := ms[0]
	if next.State != assembly.MeetingPlanned || next.Title != "Prochaine séance du Conseil" {
		t.Fatalf("next meeting: %+v", next)
	}
	agenda, err := assembly.Agenda(ctx, db, co.ID, next.ID)
	if err != nil || len(agenda) < 3 {
		t.Fatalf("next agenda: %d %v", len(agenda), err)
	}
	ds, err := assembly.Decisions(ctx, db, co.ID, 0)
	if err != nil || len(ds) != 3 {
		t.Fatalf("decisions: %d %v", len(ds), err)
	}
	var withVersion int
	for _, d := range ds {
		if d.RegisterVersion != nil && *d.RegisterVersion == 1 {
			withVersion++
		}
	}
	if withVersion != 1 {
		t.Fatalf("%d decisions publish register version 1", withVersion)
	}
	feb := ms[2]
	votes, err := assembly.MeetingVotes(ctx, db, co.ID, feb.ID)
	if err != nil || len(votes) != 3 {
		t.Fatalf("february votes: %d %v", len(votes), err)
	}
	for _, v := range votes {
		if v.Count() > v.Tally.Present || v.Count() != v.Tally.For+v.Tally.Against+v.Tally.Abstain {
			t.Fatalf("demo vote %q: %d hands, %d present, tally %+v", v.Question, v.Count(), v.Tally.Present, v.Tally)
		}
	}
	app := apptest.New(t, db, app.Config{})
	anon := webtest.New(t, app)
	res, body := anon.Get(assembly.MeetingPath(feb.ID) + "/compte-rendu")
	if res.StatusCode != http.StatusOK || !(strings.Contains(body, "Approuvé le") && strings.Contains(body, "Adoptée : liste de conventionnement de mars 2025") && strings.Contains(body, "Registre version 1")) {
		t.Fatalf("february minutes: %d %.3000s", res.StatusCode, body)
	}
	if res, _ := anon.Get(assembly.MeetingPath(ms[1].ID) + "/compte-rendu"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("march draft minutes are public: %d", res.StatusCode)
	}
	for _, path := range []string{"/seances", assembly.MeetingPath(next.ID), assembly.MeetingPath(next.ID) + "/convocation", assembly.MeetingPath(next.ID) + "/dossier",
		"/decisions", ds[0].Path(), "/votes/" + strconv.FormatInt(*ds[0].VoteID, 10)} {
		res, body := anon.Get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %.1500s", path, res.StatusCode, body)
		}
	}
	_, body = anon.Get(assembly.MeetingPath(next.ID) + "/dossier")
	if !strings.Contains(body, "<svg") || !strings.Contains(body, "Profil des scores") {
		t.Fatalf("pack without radar or profile: %.3000s", body)
	}
	_, body = anon.Get("/meetings.ics")
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil || len(cal.Events()) != 3 {
		t.Fatalf("ics: %v", err)
	}
	uids := map[string]bool{}
	for _, ev := range cal.Events() {
		uids[ev.Id()] = true
	}
	_, body2 := anon.Get("/meetings.ics")
	cal2, _ := ics.ParseCalendar(strings.NewReader(body2))
	for _, ev := range cal2.Events() {
		if !uids[ev.Id()] {
			t.Fatalf("UID %s changed between two reads", ev.Id())
		}
	}
	_, body = anon.Get("/decisions.atom")
	if strings.Count(body, "<entry>") != 3 {
		t.Fatalf("atom: %.2000s", body)
	}
}

// The demo holds a closed majority-judgment vote (March meeting) whose page
// shows the merit table: the gates check its layout (issue 20, point 9) at
// the URL gateSeeds names.
func TestDemoJudgmentVote(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := assembly.Meetings(ctx, db, co.ID)
	if err != nil || len(ms) != 3 {
		t.Fatalf("meetings: %d %v", len(ms), err)
	}
	votes, err := assembly.MeetingVotes(ctx, db, co.ID, ms[1].ID)
	if err != nil || len(votes) != 1 || votes[0].Method != assembly.MethodJudgment || votes[0].Tally == nil || len(votes[0].Tally.Ranking) != 4 {
		t.Fatalf("march votes: %+v %v", votes, err)
	}
	if path := "/votes/" + strconv.FormatInt(votes[0].ID, 10); path != DemoJudgmentVotePath {
		t.Fatalf("the judgment vote is at %s, not %s (gateSeeds)", path, DemoJudgmentVotePath)
	}
	anon := webtest.New(t, apptest.New(t, db, app.Config{}))
	res, body := anon.Get(DemoJudgmentVotePath)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `<table class="merit">`) || !strings.Contains(body, "La viande de chasse et le gibier") {
		t.Fatalf("judgment vote page: %d %.2000s", res.StatusCode, body)
	}
}
