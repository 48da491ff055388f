package assembly_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/assembly"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// The forms the demo never shows (a running meeting with its roll, open votes of
// each method for a member, in-room close forms, a minutes draft being edited)
// are valid HTML for the Nu HTML Checker.
func TestMeetingFormsAreValidHTML(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 2)
	if _, err := db.ExecContext(ctx, "INSERT INTO council_hosts (host, council_id) VALUES ('h.test', ?)", f.councilID); err != nil {
		t.Fatal(err)
	}
	app := apptest.New(t, db, app.Config{})
	fac, facID := webtest.SignIn(t, app, db, f.councilID, authz.Facilitator)
	member, memberID := webtest.SignIn(t, app, db, f.councilID, authz.Member)
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{facID: assembly.Present, memberID: assembly.Present}); err != nil {
		t.Fatal(err)
	}
	item := f.freeItem(t, "Point à voter")
	var paths []string
	for _, v := range []*assembly.Vote{
		{Question: "Majorité ?", Method: assembly.MethodMajority},
		{Question: "Consentement ?", Method: assembly.MethodConsent},
		{Question: "Jugement ?", Method: assembly.MethodJudgment, Options: []assembly.VoteOption{{Label: "Oui"}, {Label: "Non"}}},
		{Question: "Jugement en salle ?", Method: assembly.MethodJudgment, Mode: assembly.ModeInRoom, Options: []assembly.VoteOption{{Label: "Oui"}, {Label: "Non"}}},
		{Question: "Consentement en salle ?", Method: assembly.MethodConsent, Mode: assembly.ModeInRoom},
	} {
		f.openVote(t, item, v)
		paths = append(paths, "/votes/"+strconv.FormatInt(v.ID, 10))
	}
	closed := &assembly.Meeting{CouncilID: f.councilID, Title: "Séance passée", StartsAt: f.meeting.StartsAt.AddDate(0, -1, 0), EndsAt: f.meeting.EndsAt.AddDate(0, -1, 0)}
	if err := assembly.CreateMeeting(ctx, db, closed); err != nil {
		t.Fatal(err)
	}
	for _, to := range []assembly.MeetingState{assembly.MeetingOpen, assembly.MeetingClosed} {
		if err := assembly.SetMeetingState(ctx, db, f.councilID, closed.ID, to); err != nil {
			t.Fatal(err)
		}
	}
	var docs []browsertest.Document
	get := func(c *webtest.Client, who, path string) {
		t.Helper()
		res, body := c.Get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s as %s: %d", path, who, res.StatusCode)
		}
		docs = append(docs, browsertest.Document{Name: who + " " + path, HTML: []byte(body)})
	}
	for _, p := range append(paths, assembly.MeetingPath(f.meeting.ID), assembly.MeetingPath(closed.ID)+"/compte-rendu", "/seances", "/seances/regles") {
		if p == "/seances/regles" {
			continue // admins only
		}
		get(fac, "facilitator", p)
	}
	for _, p := range paths[:3] {
		get(member, "member", p)
	}
	admin, _ := webtest.SignIn(t, app, db, f.councilID, authz.Admin)
	get(admin, "admin", "/seances/regles")
	// A ballot refused for a missing reason re-renders the form with its message.
	res, body := member.PostForm(paths[1]+"/bulletin", map[string][]string{"choice": {"objection"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Une objection doit être motivée") {
		t.Fatalf("objection without reason: %d", res.StatusCode)
	}
	docs = append(docs, browsertest.Document{Name: "member objection without reason", HTML: []byte(body)})
	errs, err := browsertest.ValidateHTML(docs)
	if err != nil {
		t.Fatal(err)
	}
	for name, msgs := range errs {
		for _, m := range msgs {
			t.Errorf("%s: %s", name, m)
		}
	}
}
