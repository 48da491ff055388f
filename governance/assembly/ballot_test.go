package assembly_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"cla/governance/assembly"
	"cla/internal/apperr"
	"cla/internal/batch"
	"cla/internal/testdb"
)

// Casts that arrive together are written by one statement, and each member
// hears the outcome of their own ballot: written, invalid, not present, in
// room, closed vote or unknown vote. A member's second cast wins over the first.
func TestBallotWriterBatchesAndAnswersEachCast(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 8)
	ctx := context.Background()
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{f.members[7]: assembly.Absent}); err != nil {
		t.Fatal(err)
	}
	maj := f.openVote(t, f.freeItem(t, "Majorité"), &assembly.Vote{Question: "Adopter ?", Method: assembly.MethodMajority})
	jug := f.openVote(t, f.freeItem(t, "Jugement"), &assembly.Vote{Question: "Quel statut ?", Method: assembly.MethodJudgment,
		Options: []assembly.VoteOption{{Label: "Conventionner"}, {Label: "Ne pas conventionner"}}})
	room := f.openVote(t, f.freeItem(t, "En salle"), &assembly.Vote{Question: "À main levée ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	closed := f.openVote(t, f.freeItem(t, "Clos"), &assembly.Vote{Question: "Déjà clos ?", Method: assembly.MethodConsent})
	if _, _, err := assembly.CloseVote(ctx, db, f.councilID, closed.ID, f.facilitator, assembly.CloseInput{}); err != nil {
		t.Fatal(err)
	}

	w := assembly.NewBallotWriter(db)
	var mu sync.Mutex
	var sizes []int
	run := assembly.BatchOf(w).Run
	started, release := make(chan struct{}), make(chan struct{})
	assembly.BatchOf(w).Run = func(ctx context.Context, reqs []*assembly.CastRequest) []batch.Result[struct{}] {
		mu.Lock()
		sizes = append(sizes, len(reqs))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			close(started)
			<-release // the other casts queue meanwhile: they make one batch
		}
		return run(ctx, reqs)
	}
	firstErr := make(chan error, 1)
	go func() {
		firstErr <- w.Cast(ctx, f.councilID, maj.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceAbstain})
	}()
	<-started

	type cast struct {
		name   string
		vote   int64
		member int
		b      assembly.Ballot
		want   apperr.Code // "" for written
		field  string      // for apperr.Invalid
	}
	casts := []cast{
		{"valid majority", maj.ID, 1, assembly.Ballot{Choice: assembly.ChoiceFor}, "", ""},
		{"valid judgment", jug.ID, 1, assembly.Ballot{Grades: []int16{7, 2}}, "", ""},
		{"judgment missing a grade", jug.ID, 2, assembly.Ballot{Grades: []int16{7}}, apperr.Invalid, "grades"},
		{"consent choice in a majority vote", maj.ID, 3, assembly.Ballot{Choice: assembly.ChoiceConsent}, apperr.Invalid, "choice"},
		{"reason too long", maj.ID, 4, assembly.Ballot{Choice: assembly.ChoiceFor, Reason: strings.Repeat("é", 1001)}, apperr.Invalid, "reason"},
		{"absent member", maj.ID, 7, assembly.Ballot{Choice: assembly.ChoiceFor}, apperr.Forbidden, ""},
		{"vote in the room", room.ID, 5, assembly.Ballot{Choice: assembly.ChoiceFor}, apperr.Conflict, ""},
		{"closed vote", closed.ID, 5, assembly.Ballot{Choice: assembly.ChoiceConsent}, apperr.Conflict, ""},
		{"unknown vote", maj.ID + 10000, 5, assembly.Ballot{Choice: assembly.ChoiceFor}, apperr.NotFound, ""},
		{"hostile reason", maj.ID, 6, assembly.Ballot{Choice: assembly.ChoiceAgainst, Reason: `<script>alert("x")</script>'); DROP TABLE ballots; --`}, "", ""},
	}
	errs := make([]error, len(casts))
	var wg sync.WaitGroup
	for i, c := range casts {
		wg.Add(1)
		go func(i int, c cast) {
			defer wg.Done()
			b := c.b
			errs[i] = w.Cast(ctx, f.councilID, c.vote, f.members[c.member], &b)
		}(i, c)
	}
	// The first member changes their mind while their first ballot is being written.
	second := make(chan error, 1)
	go func() {
		second <- w.Cast(ctx, f.councilID, maj.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceAgainst})
	}()
	for assembly.BatchOf(w).Pending() < len(casts)+1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-firstErr; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	for i, c := range casts {
		err := errs[i]
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && apperr.CodeOf(err) != c.want:
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		case c.field != "" && apperr.FieldsOf(err)[c.field] == "":
			t.Errorf("%s: %v, want a message for %s", c.name, err, c.field)
		}
	}
	mu.Lock()
	// The first cast alone, then every other cast: the first member's second
	// cast goes after their first, which was already written.
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != len(casts)+1 {
		t.Errorf("batch sizes %v", sizes)
	}
	mu.Unlock()

	var stored []assembly.Ballot
	if err := db.NewSelect().Model(&stored).Where("council_id = ?", f.councilID).Order("vote_id", "member_id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[[2]int64]assembly.Ballot{}
	for _, b := range stored {
		got[[2]int64{b.VoteID, b.MemberID}] = b
	}
	if len(got) != 4 {
		t.Fatalf("%d ballots stored, want 4: %+v", len(got), stored)
	}
	if b := got[[2]int64{maj.ID, f.members[0]}]; b.Choice != assembly.ChoiceAgainst || b.Changes != 1 {
		t.Errorf("changed ballot: %+v", b)
	}
	if b := got[[2]int64{jug.ID, f.members[1]}]; b.Choice != "" || len(b.Grades) != 2 || b.Grades[0] != 7 || b.Grades[1] != 2 {
		t.Errorf("judgment ballot: %+v", b)
	}
	if b := got[[2]int64{maj.ID, f.members[6]}]; !strings.HasPrefix(b.Reason, "<script>") {
		t.Errorf("hostile reason not kept as text: %+v", b)
	}
}
