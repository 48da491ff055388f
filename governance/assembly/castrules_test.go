package assembly_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"

	"cla/governance/assembly"
	"cla/internal/apperr"
	"cla/internal/testdb"
)

// The statement that casts a ballot (castSQL, generated from castRules) and the
// Go model of the rules agree on every case: vote closed, window ended or
// open, online or in the room; member present, excused, absent, not a member,
// membership disabled; each method with every kind of ballot (valid, wrong
// choice, objection without reason, grades missing, extra, out of range,
// reason too long or with a NUL); casts by a proxy's holder (holder present
// or not, no such proxy) and paper ballots entered by the facilitator; and a
// cast again replaces the ballot. The Go
// model is the Vote as loaded (Closed, ClosesAt, InRoom, its options),
// Ballot.ValidateFor and the roll; the statement must refuse by the same rule
// in the same order, answer the same error, write exactly what ValidateFor
// keeps, and leave a refused member's ballot as it was.
func TestCastRulesAgree(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 8)
	ctx := context.Background()

	// The roll: members 0 present, 1 excused, 2 absent, 3 disabled (present
	// on the roll), 4 not a member of the council (present on the roll of no
	// meeting of it: an account of another council); 5 and 6 excused, with
	// proxies to 0 (present) and 1 (excused); 7 present, votes on paper.
	type member struct {
		name   string
		id     int64
		status assembly.AttendanceStatus // the voter's: the holder's for a cast by proxy; "" for none
		active bool                      // an enabled membership of the council
		by     int64                     // who casts, when not the member
		via    assembly.BallotVia
		proxy  bool // an active proxy from the member to by
	}
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{
		f.members[1]: assembly.Excused, f.members[2]: assembly.Absent, f.members[5]: assembly.Excused, f.members[6]: assembly.Excused}); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]int64{{f.members[5], f.members[0]}, {f.members[6], f.members[1]}} {
		if err := assembly.GiveProxy(ctx, db, f.facilitator, &assembly.Proxy{CouncilID: f.councilID, MeetingID: f.meeting.ID,
			GiverID: p[0], HolderID: p[1], Source: assembly.ProxyPaper}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "UPDATE memberships SET disabled_at = now() WHERE council_id = ? AND account_id = ?", f.councilID, f.members[3]); err != nil {
		t.Fatal(err)
	}
	other := newMeetingFixture(t, db, 1)
	members := []member{
		{"présent", f.members[0], assembly.Present, true, 0, "", false},
		{"excusé", f.members[1], assembly.Excused, true, 0, "", false},
		{"absent", f.members[2], assembly.Absent, true, 0, "", false},
		{"désactivé", f.members[3], assembly.Present, false, 0, "", false},
		{"autre conseil", other.members[0], "", false, 0, "", false},
		{"procuration, porteur présent", f.members[5], assembly.Present, true, f.members[0], assembly.BallotByProxy, true},
		{"procuration, porteur excusé", f.members[6], assembly.Excused, true, f.members[1], assembly.BallotByProxy, true},
		{"sans procuration", f.members[2], assembly.Present, true, f.members[0], assembly.BallotByProxy, false},
		{"papier, présent", f.members[7], assembly.Present, true, f.facilitator.AccountID, assembly.BallotOnPaper, false},
		{"papier, absent", f.members[2], assembly.Absent, true, f.facilitator.AccountID, assembly.BallotOnPaper, false},
	}

	// The votes: every method (judgment with 2 and 3 options) × online or in
	// the room × open during the meeting, window open, window ended, closed.
	type state string
	const (
		open, windowOpen, windowEnded, closed state = "ouvert", "fenêtre ouverte", "fenêtre finie", "clos"
	)
	var votes []*assembly.Vote
	var states []state
	shapes := []assembly.Vote{
		{Method: assembly.MethodMajority},
		{Method: assembly.MethodConsent},
		{Method: assembly.MethodJudgment, Options: []assembly.VoteOption{{Label: "A"}, {Label: "B"}}},
		{Method: assembly.MethodJudgment, Options: []assembly.VoteOption{{Label: "A"}, {Label: "B"}, {Label: "C"}}},
	}
	for _, mode := range []string{assembly.ModeOnline, assembly.ModeInRoom} {
		for _, st := range []state{open, windowOpen, windowEnded, closed} {
			for i, shape := range shapes {
				v := shape
				v.Options = slices.Clone(shape.Options)
				v.Question, v.Mode = fmt.Sprintf("Vote %s %s %d ?", mode, st, i), mode
				if st == windowOpen || st == windowEnded {
					ends := time.Now().Add(time.Hour)
					v.ClosesAt = &ends
				}
				votes = append(votes, f.openVote(t, f.freeItem(t, v.Question), &v))
				states = append(states, st)
			}
		}
	}
	// Ended windows and closed votes are set in the database (a close would
	// need a tally; OpenVote refuses a window in the past); the Go model reads
	// them back as they are stored.
	for i, v := range votes {
		switch states[i] {
		case windowEnded:
			_, err := db.ExecContext(ctx, "UPDATE votes SET closes_at = now() - interval '1 minute' WHERE id = ?", v.ID)
			if err != nil {
				t.Fatal(err)
			}
		case closed:
			_, err := db.ExecContext(ctx, "UPDATE votes SET state = ?, closed_at = now(), tally = '{}', ballot_count = 0, outcome = 'rejete' WHERE id = ?", assembly.VoteClosed, v.ID)
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := assembly.GetVote(ctx, db, f.councilID, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		votes[i] = got
	}

	ballots := []assembly.Ballot{
		{Choice: assembly.ChoiceFor},
		{Choice: assembly.ChoiceAgainst, Reason: "  Trop cher  "},
		{Choice: assembly.ChoiceAbstain},
		{Choice: assembly.ChoiceConsent},
		{Choice: assembly.ChoiceObjection},
		{Choice: assembly.ChoiceObjection, Reason: "Pas assez local"},
		{Choice: ""},
		{Choice: "peut-être"},
		{Choice: assembly.ChoiceFor, Grades: []int16{7, 2}},
		{Grades: []int16{7, 2}},
		{Grades: []int16{7, 2, 4}},
		{Grades: []int16{7}},
		{Grades: []int16{0, 3}},
		{Grades: []int16{8, 3, 1}},
		{Grades: []int16{}},
		{Choice: assembly.ChoiceFor, Reason: strings.Repeat("é", 1001)},
		{Choice: assembly.ChoiceObjection, Reason: "Trop\x00cher"},
	}

	// model is the Go side: which rule refuses, in castRules' order.
	model := func(v *assembly.Vote, m member, b assembly.Ballot) (code string, err error) {
		if v.Closed() || (v.ClosesAt != nil && !v.ClosesAt.After(time.Now())) {
			return "closed", nil
		}
		if v.InRoom() {
			return "in_room", nil
		}
		if err := b.ValidateFor(v); err != nil {
			return "ballot", err
		}
		// A proxy holds at a meeting only, while it is active.
		if m.via == assembly.BallotByProxy && (v.ClosesAt != nil || !m.proxy) {
			return "proxy", nil
		}
		// During the meeting the roll decides (a disabled membership has no
		// role, so the route's authz refuses it before the statement); within
		// a window, an enabled membership.
		allowed := m.status == assembly.Present
		if v.ClosesAt != nil {
			allowed = m.active
		}
		if !allowed {
			return "not_allowed", nil
		}
		return "", nil
	}
	if got, want := assembly.CastRuleCodes(), []string{"closed", "in_room", "ballot", "proxy", "not_allowed"}; !slices.Equal(got, want) {
		t.Fatalf("castRules = %v, the model knows %v", got, want)
	}

	type stored struct {
		Choice  string
		Reason  string
		Grades  []int16
		Changes int
		Via     string
	}
	read := func(v *assembly.Vote, m member) *stored {
		var s stored
		err := db.NewRaw("SELECT coalesce(choice, ''), coalesce(reason, ''), coalesce(grades, '{}'), changes, via FROM ballots WHERE vote_id = ? AND member_id = ?",
			v.ID, m.id).Scan(ctx, &s.Choice, &s.Reason, pgdialect.Array(&s.Grades), &s.Changes, &s.Via)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			t.Fatal(err)
		}
		return &s
	}

	seen := map[string]int{}
	for i, v := range votes {
		for _, m := range members {
			for _, b := range ballots {
				name := fmt.Sprintf("%s %s/%s %s/%s %+v", v.Method, v.Mode, states[i], m.name, m.status, b)
				wantCode, wantErr := model(v, m, b)
				before := read(v, m)
				sent := b
				sent.Grades = slices.Clone(b.Grades)
				code, written, err := assembly.CastFactsAs(ctx, db, f.councilID, v.ID, m.id, m.by, m.via, &sent)
				seen[wantCode]++
				if code != wantCode || written != (wantCode == "") {
					t.Errorf("%s: statement refused by %q (written %v), the model by %q", name, code, written, wantCode)
					continue
				}
				after := read(v, m)
				switch wantCode {
				case "":
					if err != nil {
						t.Errorf("%s: written but answered %v", name, err)
						continue
					}
					// What is stored is the ballot as ValidateFor keeps it.
					kept := b
					kept.Grades = slices.Clone(b.Grades)
					if verr := kept.ValidateFor(v); verr != nil {
						t.Fatalf("%s: %v", name, verr)
					}
					want := stored{Choice: string(kept.Choice), Reason: kept.Reason, Grades: kept.Grades, Via: string(m.via)}
					if want.Grades == nil {
						want.Grades = []int16{}
					}
					if before != nil {
						want.Changes = before.Changes + 1
					}
					if after == nil || after.Choice != want.Choice || after.Reason != want.Reason ||
						!slices.Equal(after.Grades, want.Grades) || after.Changes != want.Changes {
						t.Errorf("%s: stored %+v, want %+v", name, after, want)
					}
				case "ballot":
					if wf, gf := apperr.FieldsOf(wantErr), apperr.FieldsOf(err); gf == nil || fmt.Sprint(gf) != fmt.Sprint(wf) {
						t.Errorf("%s: answered %v, ValidateFor says %v", name, err, wantErr)
					}
				case "closed", "in_room", "proxy":
					if apperr.CodeOf(err) != apperr.Conflict {
						t.Errorf("%s: answered %v, want a conflict", name, err)
					}
				case "not_allowed":
					if apperr.CodeOf(err) != apperr.Forbidden {
						t.Errorf("%s: answered %v, want forbidden", name, err)
					}
				}
				if wantCode != "" && fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("%s: refused but the stored ballot changed from %+v to %+v", name, before, after)
				}
			}
		}
	}
	// Every rule was met, and replacing a ballot too.
	for _, code := range append(assembly.CastRuleCodes(), "") {
		if seen[code] == 0 {
			t.Errorf("no case refused by %q", code)
		}
	}
	t.Logf("cases by rule: %v", seen)
}
