package auth

import (
	"context"
	"testing"
	"time"

	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
)

// A membership from a seat drawn by lot ends with its term (issue 21, point
// 5): read as ended as soon as the term is over, before any job runs (no
// longer counted, no role in its session); the sweep, on a fixed clock,
// then disables it for good with an audit entry naming the member, and
// leaves a term still running alone.
func TestTermsEndByThemselves(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('mandats', 'Conseil des mandats') RETURNING id").Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	drawn := &Account{Email: "tiree@example.org", Name: "Odette Tirée"}
	running := &Account{Email: "encours@example.org", Name: "Marc Encours"}
	for _, a := range []*Account{drawn, running} {
		if err := CreateAccount(ctx, db, a); err != nil {
			t.Fatal(err)
		}
		if err := SetMembership(ctx, db, councilID, a.ID, authz.Member); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	ended, later := now.Add(-time.Hour), now.AddDate(1, 0, 0)
	fac := audit.Actor{Name: "Animatrice"}
	if err := SetTermEnd(ctx, db, councilID, fac, drawn.ID, ended); err != nil {
		t.Fatal(err)
	}
	if err := SetTermEnd(ctx, db, councilID, fac, running.ID, later); err != nil {
		t.Fatal(err)
	}
	session, _, err := createSession(ctx, db, drawn.ID, time.Hour, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	// Read time, no job yet.
	if n, err := CountActiveMembers(ctx, db, councilID); err != nil || n != 1 {
		t.Fatalf("active members with one term over: %d %v", n, err)
	}
	if role, err := ActiveRole(ctx, db, councilID, drawn.ID); err != nil || role != authz.None {
		t.Fatalf("role after the term: %q %v", role, err)
	}
	vals := loadSessions(ctx, db, []sessionLookup{{HashToken(session), councilID}}, time.Hour)
	if len(vals) != 1 || vals[0].Err != nil || vals[0].Value == nil || vals[0].Value.Role != authz.None {
		t.Fatalf("session after the term: %+v", vals)
	}
	m, err := MemberByAccount(ctx, db, councilID, drawn.ID)
	if err != nil || m.Active() || !m.TermEnded(now) {
		t.Fatalf("member after the term: %+v %v", m, err)
	}
	// The sweep, on a fixed clock: before the end it ends nothing.
	if n, err := EndTerms(ctx, db, ended.Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("sweep before the end: %d %v", n, err)
	}
	if n, err := EndTerms(ctx, db, now); err != nil || n != 1 {
		t.Fatalf("sweep: %d ended, %v", n, err)
	}
	if n, err := EndTerms(ctx, db, now); err != nil || n != 0 {
		t.Fatalf("second sweep: %d ended, %v", n, err)
	}
	if m, _ = MemberByAccount(ctx, db, councilID, drawn.ID); m.DisabledAt == nil || !m.DisabledAt.Equal(ended.Truncate(time.Microsecond)) {
		t.Fatalf("disabled at %v, want the term's end %v", m.DisabledAt, ended)
	}
	if m, _ = MemberByAccount(ctx, db, councilID, running.ID); !m.Active() {
		t.Fatal("a running term was ended")
	}
	var live int
	if err := db.NewRaw("SELECT count(*) FROM sessions WHERE account_id = ?", drawn.ID).Scan(ctx, &live); err != nil || live != 0 {
		t.Fatalf("sessions left after the term: %d %v", live, err)
	}
	entries, _, err := audit.List(ctx, db, councilID, audit.Filter{ObjectType: "member"})
	if err != nil || len(entries) == 0 || entries[0].Action != "member.term_end" || entries[0].SubjectName != "Odette Tirée" {
		t.Fatalf("audit of the end: %+v %v", entries, err)
	}
}
