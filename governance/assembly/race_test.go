package assembly_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"cla/demo"
	"cla/governance/assembly"
	"cla/internal/apperr"
	"cla/internal/testdb"
)

// Two facilitators close the same online vote on a proposal at once, then two
// publish the same checked show of hands at once: each time exactly one
// wins, the other gets the conflict, and one decision and one register
// version are recorded. The HTTP side (the refusal re-showing the vote page)
// is TestConcurrentInRoomCloses. Run with -race.
func TestConcurrentClosesRecordOneDecision(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := newMeetingFixtureIn(t, db, co.ID, 5)
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 3}); err != nil {
		t.Fatal(err)
	}
	other := f.facilitator
	other.Name = "Second animateur"

	// race runs fn twice at once and returns the two errors.
	race := func(fn func(i int) error) [2]error {
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = fn(i)
			}()
		}
		close(start)
		wg.Wait()
		return errs
	}
	oneWins := func(what string, errs [2]error) {
		t.Helper()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case apperr.CodeOf(err) != apperr.Conflict:
				t.Fatalf("%s: %v, want a conflict", what, err)
			}
		}
		if won != 1 {
			t.Fatalf("%s: %v, want exactly one success", what, errs)
		}
	}
	decisionsOf := func(voteID int64) (n int) {
		if err := db.NewRaw("SELECT count(*) FROM decisions WHERE vote_id = ?", voteID).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// An online vote: two closes.
	v0 := registerVersion(t, f)
	item, _ := f.proposalItem(t, "item_status", "kombucha", "conventionne", "")
	v := f.openVote(t, item, &assembly.Vote{Question: "Conventionner le kombucha ?", Method: assembly.MethodMajority})
	for _, m := range f.members[:3] {
		if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, m, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
			t.Fatal(err)
		}
	}
	oneWins("two closes", race(func(i int) error {
		actor := f.facilitator
		if i == 1 {
			actor = other
		}
		_, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, actor, assembly.CloseInput{})
		return err
	}))
	if n := decisionsOf(v.ID); n != 1 {
		t.Fatalf("two closes recorded %d decisions", n)
	}
	if got := registerVersion(t, f); got != v0+1 {
		t.Fatalf("two closes: register version %d, want %d", got, v0+1)
	}
	// Two facilitators ask at once to rectify the decision by a vote: one
	// item on the agenda, the other told it is already there.
	var decided int64
	if err := db.NewRaw("SELECT id FROM decisions WHERE vote_id = ?", v.ID).Scan(ctx, &decided); err != nil {
		t.Fatal(err)
	}
	oneWins("two rectifications", race(func(int) error {
		_, err := assembly.ScheduleRectification(ctx, db, f.facilitator, f.councilID, f.meeting.ID,
			&assembly.VotedRectification{DecisionID: decided, Status: "non_conventionne", Reason: "Décompte faux", Minutes: 5})
		return err
	}))
	var items int
	if err := db.NewRaw("SELECT count(*) FROM agenda_items WHERE rectifies_id = ?", decided).Scan(ctx, &items); err != nil || items != 1 {
		t.Fatalf("%d rectification items (%v), want 1", items, err)
	}

	// A show of hands: the same counts entered twice, then two publications.
	item, _ = f.proposalItem(t, "item_status", "riz-de-camargue", "conventionne", "")
	v = f.openVote(t, item, &assembly.Vote{Question: "Conventionner le riz ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	counts := assembly.CloseInput{Room: &assembly.RoomCounts{For: 4, Against: 1}}
	oneWins("counts entered twice", race(func(int) error {
		in := counts
		rc := *counts.Room
		in.Room = &rc
		_, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, in)
		return err
	}))
	got, err := assembly.GetVote(ctx, db, f.councilID, v.ID)
	if err != nil || got.State != assembly.VoteCounted || got.Tally.For != 4 || got.Tally.Ballots != 5 || len(got.Tally.Corrections) != 0 {
		t.Fatalf("after the counts entered twice: %v %+v", err, got)
	}
	oneWins("two publications", race(func(int) error {
		_, _, err := assembly.PublishVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
		return err
	}))
	if n := decisionsOf(v.ID); n != 1 {
		t.Fatalf("two publications recorded %d decisions", n)
	}
	if got := registerVersion(t, f); got != v0+2 {
		t.Fatalf("two publications: register version %d, want %d", got, v0+2)
	}
	var entries int
	if err := db.NewRaw("SELECT count(*) FROM audit_log WHERE action IN ('vote.count', 'vote.close') AND object_id = ?", strconv.FormatInt(v.ID, 10)).
		Scan(ctx, &entries); err != nil || entries != 2 {
		t.Fatalf("%d count and close entries (%v), want 2", entries, err)
	}
}
