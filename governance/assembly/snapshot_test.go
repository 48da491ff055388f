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
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// A closed meeting never changes: after a member joins and the quorum rule
// changes, its page, its minutes and its votes' pages and tallies are the
// same bytes as before.
func TestClosedMeetingIgnoresLaterMembersAndRules(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 5) // 6 members, all present
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator) // a 7th member, not at the meeting
	item := f.freeItem(t, "Un point")
	online := f.openVote(t, item, &assembly.Vote{Question: "Adopter en ligne ?", Method: assembly.MethodMajority, Threshold: assembly.ThresholdOfPresents})
	for _, id := range f.members[:4] {
		if err := assembly.CastBallot(ctx, db, f.councilID, online.ID, id, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := assembly.CloseVote(ctx, db, f.councilID, online.ID, f.facilitator, assembly.CloseInput{}); err != nil {
		t.Fatal(err)
	}
	room := f.openVote(t, item, &assembly.Vote{Question: "Adopter à main levée ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	if _, _, err := closeAndPublish(ctx, db, f.councilID, room.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{For: 2, Against: 2, Abstain: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := assembly.SetMeetingState(ctx, db, f.councilID, f.meeting.ID, assembly.MeetingClosed); err != nil {
		t.Fatal(err)
	}

	paths := []string{assembly.MeetingPath(f.meeting.ID), assembly.MeetingPath(f.meeting.ID) + "/compte-rendu",
		"/votes/" + strconv.FormatInt(online.ID, 10), "/votes/" + strconv.FormatInt(room.ID, 10)}
	snapshot := func() (map[string]string, string) {
		pages := map[string]string{}
		for _, p := range paths {
			res, body := fac.Get(p)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", p, res.StatusCode)
			}
			pages[p] = body
		}
		var tallies string
		if err := db.NewRaw("SELECT string_agg(tally::text, '|' ORDER BY id) FROM votes WHERE meeting_id = ?", f.meeting.ID).Scan(ctx, &tallies); err != nil {
			t.Fatal(err)
		}
		return pages, tallies
	}
	before, tallies := snapshot()
	if !strings.Contains(before[paths[0]], "sur 7 membres") || !strings.Contains(before[paths[0]], "Quorum requis : 4") {
		t.Fatalf("the closed meeting's quorum: %.4000s", before[paths[0]])
	}
	if !strings.Contains(before[paths[1]], "6 présent·es pour 4 requis·es") {
		t.Fatalf("the minutes' quorum: %.4000s", before[paths[1]])
	}

	// A member joins; the council asks for 80 % from now on.
	webtest.CreateMember(t, db, f.councilID, authz.Member, "Nouvelle venue")
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: f.councilID, QuorumKind: "share", QuorumPercent: 80}); err != nil {
		t.Fatal(err)
	}
	// Regenerating the draft reads the stored numbers too.
	res, body := fac.PostForm(assembly.MeetingPath(f.meeting.ID)+"/compte-rendu/regenerer", nil)
	fac.Get(location(t, res, body)) // shows, and so drops, the flash
	after, tallies2 := snapshot()
	for _, p := range paths {
		if before[p] != after[p] {
			t.Errorf("%s changed after a member joined:\nbefore: %.3000s\nafter:  %.3000s", p, firstDiff(before[p], after[p]), firstDiff(after[p], before[p]))
		}
	}
	if tallies != tallies2 {
		t.Errorf("tallies changed: %s / %s", tallies, tallies2)
	}
}

// firstDiff is s from a little before where it first differs from o.
func firstDiff(s, o string) string {
	i := 0
	for i < len(s) && i < len(o) && s[i] == o[i] {
		i++
	}
	return s[max(0, i-200):]
}
