package assembly_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/assembly"
	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
)

// meetingFixture is a council with members, a facilitator and a running meeting
// where every member is present.
type meetingFixture struct {
	db          *bun.DB
	councilID   int64
	facilitator audit.Actor
	members     []int64
	meeting     *assembly.Meeting
}

var meetingSeq atomic.Int64

func newMeetingFixture(t testing.TB, db *bun.DB, members int) *meetingFixture {
	t.Helper()
	var councilID int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES (?, ?) RETURNING id",
		fmt.Sprintf("seances-%d", meetingSeq.Add(1)), "Conseil de test").Scan(context.Background(), &councilID); err != nil {
		t.Fatal(err)
	}
	return newMeetingFixtureIn(t, db, councilID, members)
}

// newMeetingFixtureIn is newMeetingFixture in an existing council (the demo's,
// for decisions that change its register).
func newMeetingFixtureIn(t testing.TB, db *bun.DB, councilID int64, members int) *meetingFixture {
	t.Helper()
	ctx := context.Background()
	f := &meetingFixture{db: db, councilID: councilID}
	n := meetingSeq.Add(1)
	mk := func(name string, role authz.Role) int64 {
		var id int64
		email := fmt.Sprintf("m%d-%d-%s@example.org", n, meetingSeq.Add(1), role)
		if err := db.NewRaw("INSERT INTO accounts (email, name) VALUES (?, ?) RETURNING id", email, name).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO memberships (council_id, account_id, role) VALUES (?, ?, ?)", f.councilID, id, string(role)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.facilitator = audit.Actor{AccountID: mk("Animatrice", authz.Facilitator), Name: "Animatrice", Role: authz.Facilitator}
	for i := 0; i < members; i++ {
		f.members = append(f.members, mk(fmt.Sprintf("Membre %02d", i+1), authz.Member))
	}
	start := time.Now().Add(-time.Hour)
	f.meeting = &assembly.Meeting{CouncilID: f.councilID, Title: "Séance de test", StartsAt: start, EndsAt: start.Add(3 * time.Hour), Place: "Salle des fêtes"}
	if err := assembly.CreateMeeting(ctx, db, f.meeting); err != nil {
		t.Fatal(err)
	}
	if err := assembly.SetMeetingState(ctx, db, f.councilID, f.meeting.ID, assembly.MeetingOpen); err != nil {
		t.Fatal(err)
	}
	roll := map[int64]assembly.AttendanceStatus{f.facilitator.AccountID: assembly.Present}
	for _, id := range f.members {
		roll[id] = assembly.Present
	}
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, roll); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *meetingFixture) freeItem(t testing.TB, title string) *assembly.AgendaItem {
	t.Helper()
	it := &assembly.AgendaItem{CouncilID: f.councilID, MeetingID: f.meeting.ID, Kind: assembly.AgendaFree, Title: title}
	if err := assembly.AddAgendaItem(context.Background(), f.db, f.facilitator, it); err != nil {
		t.Fatal(err)
	}
	return it
}

func (f *meetingFixture) openVote(t testing.TB, item *assembly.AgendaItem, v *assembly.Vote) *assembly.Vote {
	t.Helper()
	v.CouncilID, v.MeetingID, v.AgendaItemID = f.councilID, f.meeting.ID, item.ID
	if v.Mode == "" {
		v.Mode = assembly.ModeOnline
	}
	if v.Secrecy == "" {
		v.Secrecy = assembly.SecrecyAnonymous
	}
	if v.Threshold == "" {
		v.Threshold = assembly.ThresholdCast
	}
	if err := assembly.OpenVote(context.Background(), f.db, f.facilitator, v); err != nil {
		t.Fatal(err)
	}
	return v
}

// 50 members cast (and re-cast) while the facilitator closes: the stored tally
// always equals the stored ballots, no ballot is dated after the close, and a
// double submission leaves one ballot. Odd rounds cast through a BallotWriter,
// as the handler does, so that batches meet the close. Run it with -race:
//
//	go test -race -run TestCastWhileClosing ./governance/assembly/
func TestCastWhileClosing(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 50)
	ctx := context.Background()
	item := f.freeItem(t, "Point mis au vote")
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	choices := []assembly.Choice{assembly.ChoiceFor, assembly.ChoiceAgainst, assembly.ChoiceAbstain}
	writer := assembly.NewBallotWriter(db)
	for round := 0; round < rounds; round++ {
		cast := func(voteID, memberID int64, b *assembly.Ballot) error {
			return assembly.CastBallot(ctx, db, f.councilID, voteID, memberID, b)
		}
		if round%2 == 1 {
			cast = func(voteID, memberID int64, b *assembly.Ballot) error {
				return writer.Cast(ctx, f.councilID, voteID, memberID, b)
			}
		}
		v := f.openVote(t, item, &assembly.Vote{Question: fmt.Sprintf("Adopter le point (tour %d) ?", round+1), Method: assembly.MethodMajority})
		var wg sync.WaitGroup
		var accepted, refused atomic.Int64
		start := make(chan struct{})
		for i, id := range f.members {
			wg.Add(1)
			go func(i int, id int64) {
				defer wg.Done()
				<-start
				// Each member submits twice (a double click, then a change of mind).
				for k := 0; k < 2; k++ {
					err := cast(v.ID, id, &assembly.Ballot{Choice: choices[(i+k+round)%3]})
					switch {
					case err == nil:
						accepted.Add(1)
					case apperr.CodeOf(err) == apperr.Conflict:
						refused.Add(1)
					default:
						t.Errorf("cast: %v", err)
					}
				}
			}(i, id)
		}
		var closed *assembly.Vote
		var closeErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			time.Sleep(time.Duration(round*3) * time.Millisecond)
			closed, _, closeErr = assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
		}()
		close(start)
		wg.Wait()
		if closeErr != nil {
			t.Fatal(closeErr)
		}
		// A ballot after the close is refused, by the code and by the schema.
		if err := cast(v.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceFor}); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("cast after close: %v", err)
		}
		if _, err := db.ExecContext(ctx, "UPDATE ballots SET choice = 'pour' WHERE vote_id = ?", v.ID); err == nil {
			// Only fails when there is a ballot to update.
			var n int
			_ = db.NewSelect().Table("ballots").ColumnExpr("count(*)").Where("vote_id = ?", v.ID).Scan(ctx, &n)
			if n > 0 {
				t.Fatal("the schema let a ballot of a closed vote change")
			}
		}
		stored, err := assembly.GetVote(ctx, db, f.councilID, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		var counts struct {
			N, For, Against, Abstain, Late, Members int
		}
		if err := db.NewRaw(`SELECT count(*), count(*) FILTER (WHERE choice = 'pour'), count(*) FILTER (WHERE choice = 'contre'),
			count(*) FILTER (WHERE choice = 'abstention'), count(*) FILTER (WHERE b.cast_at > v.closed_at), count(DISTINCT member_id)
			FROM ballots b JOIN votes v ON v.id = b.vote_id WHERE b.vote_id = ?`, v.ID).
			Scan(ctx, &counts.N, &counts.For, &counts.Against, &counts.Abstain, &counts.Late, &counts.Members); err != nil {
			t.Fatal(err)
		}
		tl := stored.Tally
		if tl == nil || *stored.BallotCount != counts.N || tl.Ballots != counts.N || tl.For != counts.For ||
			tl.Against != counts.Against || tl.Abstain != counts.Abstain {
			t.Fatalf("round %d: tally %+v (count %v) but ballots %+v", round, tl, stored.BallotCount, counts)
		}
		if counts.Late != 0 {
			t.Fatalf("round %d: %d ballot(s) dated after the close", round, counts.Late)
		}
		if counts.Members != counts.N || counts.N > len(f.members) {
			t.Fatalf("round %d: %d ballots for %d members", round, counts.N, counts.Members)
		}
		if closed.Outcome == "" || accepted.Load()+refused.Load() != int64(2*len(f.members)) {
			t.Fatalf("round %d: outcome %q, %d accepted, %d refused", round, closed.Outcome, accepted.Load(), refused.Load())
		}
		t.Logf("round %d: %d ballots counted, %d submissions refused after the close", round, counts.N, refused.Load())
	}
}

// The vote's lock decides the race between a ballot's statement and the
// close, whichever comes first (migration 0034: the statement takes its votes
// FOR SHARE once, after writing its rows). A statement that meets a close in
// progress waits for it, then fails whole: no ballot of it is changed, not
// even those of open votes; through the writer, the closed vote's cast is
// refused and the open vote's written. A close that meets ballots being
// written waits for their commit and counts them.
func TestBallotStatementAndCloseOrder(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 3)
	ctx := context.Background()
	item := f.freeItem(t, "Point mis au vote")
	open := func(q string) *assembly.Vote {
		return f.openVote(t, item, &assembly.Vote{Question: q, Method: assembly.MethodMajority})
	}
	// waitForLock returns once a backend of this database waits for a row lock.
	waitForLock := func() {
		t.Helper()
		for i := 0; i < 500; i++ {
			var n int
			if err := db.NewRaw(`SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("nobody waits for the vote's lock")
	}
	ballots := func(voteID int64) int {
		t.Helper()
		var n int
		if err := db.NewRaw("SELECT count(*) FROM ballots WHERE vote_id = ?", voteID).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("the close first", func(t *testing.T) {
		v, other := open("Adopter le premier point ?"), open("Adopter le second point ?")
		for _, id := range []int64{v.ID, other.ID} {
			if err := assembly.CastBallot(ctx, db, f.councilID, id, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
				t.Fatal(err)
			}
		}
		// A close in progress: the vote locked FOR UPDATE and closed, not yet committed.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SELECT 1 FROM votes WHERE id = ? FOR UPDATE", v.ID); err != nil {
			t.Fatal(err)
		}
		// One statement changing two ballots, one in each vote (as a batch of
		// the writer). A change, not a new ballot: a new one would also wait on
		// its foreign key's lock of the vote.
		done := make(chan error, 1)
		go func() {
			_, err := db.ExecContext(ctx, `UPDATE ballots SET choice = 'contre', cast_at = clock_timestamp(), changes = changes + 1
				WHERE vote_id IN (?, ?) AND member_id = ?`, v.ID, other.ID, f.members[0])
			done <- err
		}()
		waitForLock()
		if _, err := tx.ExecContext(ctx, `UPDATE votes SET state = 'clos', outcome = 'rejete', closed_at = clock_timestamp(),
			tally = '{}', ballot_count = 1 WHERE id = ?`, v.ID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err == nil || !strings.Contains(err.Error(), "ballot refused") {
			t.Fatalf("ballots changed while the vote closed: %v", err)
		}
		var changed int
		if err := db.NewRaw("SELECT count(*) FROM ballots WHERE vote_id IN (?, ?) AND choice <> 'pour'", v.ID, other.ID).Scan(ctx, &changed); err != nil {
			t.Fatal(err)
		}
		if changed != 0 {
			t.Fatalf("%d ballot(s) changed: the statement should fail whole", changed)
		}
		// Through the writer: the closed vote's cast is refused with the
		// member's message, the open vote's is written.
		w := assembly.NewBallotWriter(db)
		errs := make(chan error, 2)
		for _, id := range []int64{v.ID, other.ID} {
			go func(id int64) {
				errs <- w.Cast(ctx, f.councilID, id, f.members[2], &assembly.Ballot{Choice: assembly.ChoiceFor})
			}(id)
		}
		var refused int
		for i := 0; i < 2; i++ {
			switch err := <-errs; {
			case apperr.CodeOf(err) == apperr.Conflict:
				refused++
			case err != nil:
				t.Fatal(err)
			}
		}
		if refused != 1 || ballots(other.ID) != 2 || ballots(v.ID) != 1 {
			t.Fatalf("%d cast(s) refused; ballots: %d in the closed vote, %d in the open one", refused, ballots(v.ID), ballots(other.ID))
		}
	})

	t.Run("the ballots first", func(t *testing.T) {
		v := open("Adopter le troisième point ?")
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT INTO ballots (council_id, vote_id, member_id, choice) VALUES (?, ?, ?, 'pour'), (?, ?, ?, 'contre')`,
			f.councilID, v.ID, f.members[0], f.councilID, v.ID, f.members[1]); err != nil {
			t.Fatal(err)
		}
		type closed struct {
			v   *assembly.Vote
			err error
		}
		done := make(chan closed, 1)
		go func() {
			cv, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
			done <- closed{cv, err}
		}()
		waitForLock()
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		c := <-done
		if c.err != nil {
			t.Fatal(c.err)
		}
		if c.v.Tally == nil || c.v.Tally.Ballots != 2 || c.v.Tally.For != 1 || c.v.Tally.Against != 1 {
			t.Fatalf("the close did not count the ballots committed while it waited: %+v", c.v.Tally)
		}
	})
}

func TestVoteMethods(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 6)
	ctx := context.Background()
	item := f.freeItem(t, "Les règles du marché")
	cast := func(v *assembly.Vote, i int, b assembly.Ballot) {
		t.Helper()
		if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[i], &b); err != nil {
			t.Fatal(err)
		}
	}
	closeV := func(v *assembly.Vote) *assembly.Vote {
		t.Helper()
		c, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Two thirds: 4 pour, 2 contre = exactly two thirds, adopted; 3 pour 2 contre is not.
	v := f.openVote(t, item, &assembly.Vote{Question: "Deux tiers ?", Method: assembly.MethodMajority, Threshold: assembly.ThresholdTwoThirds, Secrecy: assembly.SecrecyNominal})
	for i := 0; i < 6; i++ {
		c := assembly.ChoiceFor
		if i >= 4 {
			c = assembly.ChoiceAgainst
		}
		cast(v, i, assembly.Ballot{Choice: assembly.ChoiceAbstain})
		cast(v, i, assembly.Ballot{Choice: c}) // changed before the close
	}
	if c := closeV(v); c.Outcome != "adopte" || c.Tally.For != 4 || c.Tally.Against != 2 || c.Tally.Abstain != 0 {
		t.Fatalf("two thirds: %+v %s", c.Tally, c.Outcome)
	}
	nb, err := assembly.NominalBallots(ctx, db, v)
	if err != nil || len(nb) != 0 { // v is the stale, open copy: nothing shown
		t.Fatalf("nominal ballots of an open vote: %v %v", nb, err)
	}
	closedV, _ := assembly.GetVote(ctx, db, f.councilID, v.ID)
	if nb, _ := assembly.NominalBallots(ctx, db, closedV); len(nb) != 6 {
		t.Fatalf("nominal ballots: %d", len(nb))
	}

	v = f.openVote(t, item, &assembly.Vote{Question: "Deux tiers encore ?", Method: assembly.MethodMajority, Threshold: assembly.ThresholdTwoThirds})
	for i := 0; i < 5; i++ {
		c := assembly.ChoiceFor
		if i >= 3 {
			c = assembly.ChoiceAgainst
		}
		cast(v, i, assembly.Ballot{Choice: c})
	}
	if c := closeV(v); c.Outcome != "rejete" {
		t.Fatalf("3/5 is not two thirds: %s", c.Outcome)
	}
	anon, _ := assembly.GetVote(ctx, db, f.councilID, v.ID)
	if nb, _ := assembly.NominalBallots(ctx, db, anon); nb != nil {
		t.Fatal("an anonymous vote shows names")
	}

	// Majority of the present members: 3 pour of 7 present is not enough.
	v = f.openVote(t, item, &assembly.Vote{Question: "Majorité des présents ?", Method: assembly.MethodMajority, Threshold: assembly.ThresholdOfPresents})
	for i := 0; i < 3; i++ {
		cast(v, i, assembly.Ballot{Choice: assembly.ChoiceFor})
	}
	if c := closeV(v); c.Outcome != "rejete" || c.Tally.Present != 7 {
		t.Fatalf("presents: %+v %s", c.Tally, c.Outcome)
	}

	// Consent: an objection needs a reason and blocks.
	v = f.openVote(t, item, &assembly.Vote{Question: "Consentement ?", Method: assembly.MethodConsent})
	if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceObjection}); apperr.FieldsOf(err)["reason"] == "" {
		t.Fatalf("objection without reason: %v", err)
	}
	cast(v, 0, assembly.Ballot{Choice: assembly.ChoiceConsent})
	cast(v, 1, assembly.Ballot{Choice: assembly.ChoiceObjection, Reason: "Pas assez local"})
	if c := closeV(v); c.Outcome != "rejete" || c.Tally.Objections != 1 || c.Tally.ObjectionReasons[0] != "Pas assez local" {
		t.Fatalf("consent: %+v", c.Tally)
	}

	// Majority judgment with three options.
	v = f.openVote(t, item, &assembly.Vote{Question: "Quel statut ?", Method: assembly.MethodJudgment, Options: []assembly.VoteOption{
		{Label: "Conventionner", Effect: "conventionne"}, {Label: "Sous conditions", Effect: "sous_conditions"}, {Label: "Ne pas conventionner", Effect: "non_conventionne"}}})
	if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[0], &assembly.Ballot{Grades: []int16{7, 3}}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("incomplete grades: %v", err)
	}
	grades := [][]int16{{7, 5, 1}, {6, 6, 2}, {2, 5, 6}, {5, 4, 3}, {3, 5, 2}, {6, 3, 1}}
	for i, g := range grades {
		cast(v, i, assembly.Ballot{Grades: g})
	}
	c := closeV(v)
	// Option 1: 2 3 5 6 6 7 -> lower median 5; option 2: 3 4 5 5 5 6 -> 5; gauges 3 above/2 below vs 1/2.
	if c.Outcome != "adopte" || c.WinnerOption == nil || *c.WinnerOption != 1 || c.Tally.Ranking[0] != 1 {
		t.Fatalf("judgment: %+v winner %v", c.Tally, c.WinnerOption)
	}

	// Quorum: with a count rule above the present members, no vote opens.
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: f.councilID, QuorumKind: assembly.QuorumCount, QuorumCount: 20}); err != nil {
		t.Fatal(err)
	}
	err = assembly.OpenVote(ctx, db, f.facilitator, &assembly.Vote{CouncilID: f.councilID, MeetingID: f.meeting.ID, AgendaItemID: item.ID,
		Question: "Sans quorum ?", Method: assembly.MethodMajority, Mode: assembly.ModeOnline, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast})
	if apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("vote without quorum: %v", err)
	}
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: f.councilID, QuorumKind: assembly.QuorumCount, QuorumCount: 20, VoteWithoutQuorum: true}); err != nil {
		t.Fatal(err)
	}
	v = f.openVote(t, item, &assembly.Vote{Question: "En salle ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceFor}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("online ballot in an in-room vote: %v", err)
	}
	if _, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{For: 5, Against: 3}}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("more hands than present: %v", err)
	}
	c, _, err = closeAndPublish(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{For: 4, Against: 2, Abstain: 1}})
	if err != nil || c.Outcome != "adopte" || *c.BallotCount != 7 {
		t.Fatalf("in room: %v %+v", err, c)
	}
	// A member absent from the roll cannot vote during the meeting.
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{f.members[5]: assembly.Excused}); err != nil {
		t.Fatal(err)
	}
	v = f.openVote(t, item, &assembly.Vote{Question: "Et les excusés ?", Method: assembly.MethodMajority})
	if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[5], &assembly.Ballot{Choice: assembly.ChoiceFor}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("excused member voting: %v", err)
	}
	// The meeting cannot close while a vote is open.
	if err := assembly.SetMeetingState(ctx, db, f.councilID, f.meeting.ID, assembly.MeetingClosed); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("close meeting with open vote: %v", err)
	}
	closeV(v)
	if err := assembly.SetMeetingState(ctx, db, f.councilID, f.meeting.ID, assembly.MeetingClosed); err != nil {
		t.Fatal(err)
	}
	m, err := assembly.GetMinutes(ctx, db, f.councilID, f.meeting.ID)
	if err != nil || m == nil || m.Approved() {
		t.Fatalf("minutes draft: %v %v", m, err)
	}
	if !containsAll(m.BodyMD, "Présent·e (6)", "Excusé·e (1)", "Quel statut ?", "Option retenue : « Conventionner »") {
		t.Fatalf("minutes draft:\n%s", m.BodyMD)
	}
	if err := assembly.ApproveMinutes(ctx, db, f.councilID, f.meeting.ID, f.meeting.ID); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("approve in the same meeting: %v", err)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// A vote with a time window is open to every active member, present or not,
// until it ends; then ballots are refused even before the facilitator closes.
func TestVoteTimeWindow(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 3)
	ctx := context.Background()
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{f.members[2]: assembly.Excused}); err != nil {
		t.Fatal(err)
	}
	item := f.freeItem(t, "Vote à distance")
	ends := time.Now().Add(1500 * time.Millisecond)
	v := f.openVote(t, item, &assembly.Vote{Question: "Voter à distance ?", Method: assembly.MethodConsent, ClosesAt: &ends})
	if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[2], &assembly.Ballot{Choice: assembly.ChoiceConsent}); err != nil {
		t.Fatalf("excused member within the window: %v", err)
	}
	time.Sleep(time.Until(ends) + 100*time.Millisecond)
	if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceConsent}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("ballot after the window: %v", err)
	}
	c, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
	if err != nil || c.Tally.Consent != 1 || c.Outcome != "adopte" {
		t.Fatalf("close: %v %+v", err, c)
	}
}

// In the room the facilitator enters the counts: an objection needs its reason,
// and a majority-judgment profile per option is ranked like online ballots.
func TestInRoomCounts(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 5)
	ctx := context.Background()
	item := f.freeItem(t, "À main levée")
	v := f.openVote(t, item, &assembly.Vote{Question: "Consentez-vous ?", Method: assembly.MethodConsent, Mode: assembly.ModeInRoom})
	if _, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{Objections: 1}}); apperr.FieldsOf(err)["reasons"] == "" {
		t.Fatalf("objection without reason: %v", err)
	}
	c, _, err := closeAndPublish(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{Objections: 1, ObjectionReasons: []string{"Trop cher"}}})
	if err != nil || c.Outcome != "rejete" || c.Tally.Consent != 5 || c.Tally.Objections != 1 {
		t.Fatalf("consent in room: %v %+v", err, c.Tally)
	}
	v = f.openVote(t, item, &assembly.Vote{Question: "Quelle option ?", Method: assembly.MethodJudgment, Mode: assembly.ModeInRoom,
		Options: []assembly.VoteOption{{Label: "A"}, {Label: "B"}}})
	a := assembly.Profile(map[boussole.Grade]int{boussole.Bien: 3, boussole.Passable: 3})
	b := assembly.Profile(map[boussole.Grade]int{boussole.Bien: 3, boussole.AssezBien: 3})
	// Counts that would overflow a sum, or allocate in proportion, are refused
	// before anything is added.
	huge := assembly.Profile(map[boussole.Grade]int{boussole.Excellent: math.MaxInt, boussole.ARejeter: math.MaxInt})
	if _, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{Profiles: []assembly.MeritProfile{huge, b}}}); apperr.FieldsOf(err)["o1g7"] == "" {
		t.Fatalf("huge grade counts: %v", err)
	}
	c, _, err = closeAndPublish(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{Profiles: []assembly.MeritProfile{a, b}}})
	if err != nil || c.WinnerOption == nil || *c.WinnerOption != 2 || *c.BallotCount != 6 {
		t.Fatalf("judgment in room: %v %+v", err, c)
	}
	v = f.openVote(t, item, &assembly.Vote{Question: "Débordement ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	if _, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{Room: &assembly.RoomCounts{For: math.MaxInt, Against: math.MaxInt, Abstain: 2}}); apperr.FieldsOf(err)["pour"] == "" {
		t.Fatalf("counts whose sum overflows: %v", err)
	}
}
