package assembly_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"cla/governance/assembly"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
)

// offRoll removes members from the fixture's roll: they have not answered yet.
func (f *meetingFixture) offRoll(t testing.TB, ids ...int64) {
	t.Helper()
	if _, err := f.db.NewDelete().Table("attendances").Where("meeting_id = ? AND member_id IN (?)", f.meeting.ID, bun.List(ids)).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *meetingFixture) member(i int) audit.Actor {
	return audit.Actor{AccountID: f.members[i], Name: "Membre", Role: authz.Member}
}

func (f *meetingFixture) giveProxy(giver, holder int64) (*assembly.Proxy, error) {
	p := &assembly.Proxy{CouncilID: f.councilID, MeetingID: f.meeting.ID, GiverID: giver, HolderID: holder, Source: assembly.ProxyOnSite}
	return p, assembly.GiveProxy(context.Background(), f.db, audit.Actor{AccountID: giver, Name: "Membre", Role: authz.Member}, p)
}

func ballotOf(t testing.TB, db *bun.DB, voteID, memberID int64) (via string, by int64, ok bool) {
	t.Helper()
	var rows []struct {
		Via string `bun:"via"`
		By  int64  `bun:"by"`
	}
	if err := db.NewRaw("SELECT via, coalesce(cast_by_id, 0) AS by FROM ballots WHERE vote_id = ? AND member_id = ?", voteID, memberID).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return "", 0, false
	}
	return rows[0].Via, rows[0].By, true
}

// A proxy from giving to the tally: the holder's limit, who may give, the
// quorum, two ballots by the holder each marked as whose, a paper ballot,
// revocation until the roll and the proxy falling when its giver comes.
func TestProxyLifecycle(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 6)
	m := f.members
	f.offRoll(t, m[3], m[4], m[5])

	p3, err := f.giveProxy(m[3], m[0])
	if err != nil {
		t.Fatal(err)
	}
	// The default rule: one proxy per holder.
	if _, err := f.giveProxy(m[4], m[0]); apperr.FieldsOf(err)["holder"] == "" {
		t.Fatalf("second proxy to the same holder: %v, want refused on holder", err)
	}
	for name, c := range map[string]struct{ giver, holder int64 }{
		"to oneself":          {m[4], m[4]},
		"giver present":       {m[1], m[2]},
		"giver gives again":   {m[3], m[2]},
		"holder gives":        {m[4], m[3]},
		"giver holds a proxy": {m[0], m[2]},
	} {
		if _, err := f.giveProxy(c.giver, c.holder); apperr.FieldsOf(err) == nil {
			t.Errorf("%s: %v, want a refusal on a field", name, err)
		}
	}
	rules, err := assembly.Rules(ctx, db, f.councilID)
	if err != nil {
		t.Fatal(err)
	}
	rules.ProxiesPerHolder = 2
	if err := assembly.SaveRules(ctx, db, &rules); err != nil {
		t.Fatal(err)
	}
	p4, err := f.giveProxy(m[4], m[0])
	if err != nil {
		t.Fatal(err)
	}
	ps, err := assembly.MeetingProxies(ctx, db, f.councilID, f.meeting.ID)
	if err != nil || len(ps) != 2 || ps[0].HolderName == "" {
		t.Fatalf("proxies = %+v, %v", ps, err)
	}

	w := assembly.NewBallotWriter(db)
	v := f.openVote(t, f.freeItem(t, "Procurations"), &assembly.Vote{Question: "Adopter ?", Method: assembly.MethodMajority})
	for _, c := range []struct {
		member, by int64
		via        assembly.BallotVia
	}{{m[3], m[0], assembly.BallotByProxy}, {m[4], m[0], assembly.BallotByProxy}, {m[1], f.facilitator.AccountID, assembly.BallotOnPaper}} {
		if err := w.CastAs(ctx, f.councilID, v.ID, c.member, c.by, c.via, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
			t.Fatalf("cast for %d by %d (%s): %v", c.member, c.by, c.via, err)
		}
		if via, by, ok := ballotOf(t, db, v.ID, c.member); !ok || via != string(c.via) || by != c.by {
			t.Fatalf("ballot of %d = %q by %d (%v)", c.member, via, by, ok)
		}
	}
	if err := w.Cast(ctx, f.councilID, v.ID, m[0], &assembly.Ballot{Choice: assembly.ChoiceAgainst}); err != nil {
		t.Fatal(err)
	}
	// Only the holder casts by proxy, and a member not on the roll has no
	// paper ballot.
	if err := w.CastAs(ctx, f.councilID, v.ID, m[3], m[2], assembly.BallotByProxy, &assembly.Ballot{Choice: assembly.ChoiceFor}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("cast by a member holding no proxy: %v", err)
	}
	if err := w.CastAs(ctx, f.councilID, v.ID, m[5], f.facilitator.AccountID, assembly.BallotOnPaper, &assembly.Ballot{Choice: assembly.ChoiceFor}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("paper ballot of a member not present: %v", err)
	}

	// Revoked before the roll: its ballot is withdrawn.
	if err := assembly.RevokeProxy(ctx, db, f.member(3), f.councilID, f.meeting.ID, p3.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ballotOf(t, db, v.ID, m[3]); ok {
		t.Fatal("the revoked proxy's ballot is still counted")
	}
	// Another member cannot revoke it; after its giver's answer at the roll,
	// nobody can.
	if err := assembly.RevokeProxy(ctx, db, f.member(5), f.councilID, f.meeting.ID, p4.ID, true); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("revoked by another member: %v", err)
	}
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{m[4]: assembly.Excused}); err != nil {
		t.Fatal(err)
	}
	if err := assembly.RevokeProxy(ctx, db, f.facilitator, f.councilID, f.meeting.ID, p4.ID, false); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("revoked after the roll: %v", err)
	}

	// The quorum counts the member represented (rule by default).
	view := f.meetingQuorum(t)
	if view.Proxies != 1 {
		t.Fatalf("quorum proxies = %d, want 1", view.Proxies)
	}

	// m[3] comes in person: nothing to fall (revoked); give m[5]'s proxy and
	// let m[5] come: it falls and its ballot goes.
	p5, err := f.giveProxy(m[5], m[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CastAs(ctx, f.councilID, v.ID, m[5], m[2], assembly.BallotByProxy, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
		t.Fatal(err)
	}
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{m[5]: assembly.Present}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ballotOf(t, db, v.ID, m[5]); ok {
		t.Fatal("a fallen proxy's ballot is still counted")
	}
	ps, _ = assembly.MeetingProxies(ctx, db, f.councilID, f.meeting.ID)
	for _, p := range ps {
		want := map[int64]assembly.ProxyState{p3.ID: assembly.ProxyRevoked, p4.ID: assembly.ProxyActive, p5.ID: assembly.ProxyFallen}[p.ID]
		if p.State != want {
			t.Errorf("proxy %d is %s, want %s", p.ID, p.State, want)
		}
	}
	var audited []string
	if err := db.NewRaw("SELECT action FROM audit_log WHERE council_id = ? AND action LIKE 'proxy.%' ORDER BY id", f.councilID).Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if strings.Join(audited, " ") != "proxy.give proxy.give proxy.revoke proxy.give" {
		t.Errorf("audit trail: %v", audited)
	}

	closed, _, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
	if err != nil {
		t.Fatal(err)
	}
	if closed.Tally.ByProxy != 1 || closed.Tally.OnPaper != 1 || closed.Tally.Ballots != 3 {
		t.Fatalf("tally = %+v", closed.Tally)
	}
	if line := assembly.TallyLine(closed); !strings.Contains(line, "Dont 1 bulletin par procuration et 1 bulletin papier") {
		t.Errorf("tally line %q says nothing of the proxy", line)
	}
}

// A proxy revoked while its holder votes: the ballot is either refused, or
// written then withdrawn by the revocation; never left counted for a proxy
// that no longer holds. Two proxies given at once to the same holder do not
// both pass the limit.
func TestProxyRevokedWhileHolderVotes(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 3)
	m := f.members
	f.offRoll(t, m[1], m[2])
	w := assembly.NewBallotWriter(db)
	v := f.openVote(t, f.freeItem(t, "Course"), &assembly.Vote{Question: "Adopter ?", Method: assembly.MethodMajority})
	refused, written := 0, 0
	for i := 0; i < 30; i++ {
		p, err := f.giveProxy(m[1], m[0])
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var castErr, revokeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			castErr = w.CastAs(ctx, f.councilID, v.ID, m[1], m[0], assembly.BallotByProxy, &assembly.Ballot{Choice: assembly.ChoiceFor})
		}()
		go func() {
			defer wg.Done()
			revokeErr = assembly.RevokeProxy(ctx, db, f.member(1), f.councilID, f.meeting.ID, p.ID, true)
		}()
		wg.Wait()
		if revokeErr != nil {
			t.Fatalf("revoke: %v", revokeErr)
		}
		switch {
		case castErr == nil:
			written++
		case apperr.CodeOf(castErr) == apperr.Conflict:
			refused++
		default:
			t.Fatalf("cast: %v", castErr)
		}
		if _, _, ok := ballotOf(t, db, v.ID, m[1]); ok {
			t.Fatalf("round %d: a ballot stands for a revoked proxy (cast: %v)", i, castErr)
		}
	}
	t.Logf("written then withdrawn: %d, refused: %d", written, refused)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, giver := range []int64{m[1], m[2]} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.giveProxy(giver, m[0])
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two proxies at once to a holder allowed one: %v, %v", errs[0], errs[1])
	}
}

func (f *meetingFixture) meetingQuorum(t testing.TB) assembly.Quorum {
	t.Helper()
	q, err := assembly.QuorumOf(context.Background(), f.db, f.councilID, f.meeting.ID)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
