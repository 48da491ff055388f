package auth

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/authz"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestPasswordHashing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := HashPassword(ctx, "un long mot de passe")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: not argon2id at the OWASP minimum", h)
	}
	h2, _ := HashPassword(ctx, "un long mot de passe")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		hash, password string
		want           bool
	}{
		{h, "un long mot de passe", true},
		{h, "un long mot de passE", false},
		{h, "", false},
		{"", "", false},
		{"", "cla-dummy-password-for-timing", false}, // the dummy hash never signs anyone in
		{"$argon2id$nonsense", "x", false},
		{"$bcrypt$v=19$m=1,t=1,p=1$AAAA$AAAA", "x", false},
	} {
		got, err := VerifyPassword(ctx, tc.hash, tc.password)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(%.20q, %q) = %v, %v; want %v", tc.hash, tc.password, got, err, tc.want)
		}
	}
}

func TestConcurrentHashesAreCappedAtTheCoreCount(t *testing.T) {
	// Not parallel: it holds every hashing slot of the process.
	if MaxConcurrentHashes() != runtime.NumCPU() {
		t.Fatalf("cap %d, want %d", MaxConcurrentHashes(), runtime.NumCPU())
	}
	for i := 0; i < cap(hashSlots); i++ {
		hashSlots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := HashPassword(ctx, "un long mot de passe")
	cancel()
	for i := 0; i < cap(hashSlots); i++ {
		<-hashSlots
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hash ran while every slot was taken: %v", err)
	}
}

func TestCheckPasswordEmailAndName(t *testing.T) {
	t.Parallel()
	for pw, want := range map[string]string{
		"court":                      "au moins 10",
		"123456789":                  "au moins 10",
		"AZERTYUIOP":                 "trop courant",
		"aaaaaaaaaaaaaa":             "trop courant",
		strings.Repeat("ab", 101):    "dépasser 200",
		"des tomates de Dieulefit":   "",
		"éééééééééè":                 "",
		"mot de passe assez long 1!": "",
	} {
		if got := CheckPassword(pw); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("CheckPassword(%.20q) = %q, want %q", pw, got, want)
		}
	}
	for email, ok := range map[string]bool{
		"claude@example.org": true, "a.b+c@sous.domaine.fr": true,
		"": false, "claude": false, "claude@exemple": false, "Claude <c@example.org>": false,
		"c@@example.org": false, strings.Repeat("a", 250) + "@ex.fr": false,
	} {
		if got := CheckEmail(NormalizeEmail(email)) == ""; got != ok {
			t.Errorf("CheckEmail(%.30q) ok = %v, want %v", email, got, ok)
		}
	}
	if CleanName("  Claude   Vial ") != "Claude Vial" || CheckName("") == "" || CheckName(strings.Repeat("é", 101)) == "" || CheckName(strings.Repeat("é", 100)) != "" {
		t.Error("display names are not cleaned and limited to 100 characters")
	}
}

func TestRateCountersAreSharedAndWindowed(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := RateHit(ctx, db, "k1", "k2"); err != nil {
			t.Fatal(err)
		}
	}
	if err := RateHit(ctx, db, "k1"); err != nil {
		t.Fatal(err)
	}
	if n, err := RateCount(ctx, db, "k1", time.Minute); err != nil || n != 4 {
		t.Errorf("k1: %d, %v; want 4", n, err)
	}
	if n, _ := RateCount(ctx, db, "k2", time.Minute); n != 3 {
		t.Errorf("k2: %d, want 3", n)
	}
	// Old buckets fall out of the window.
	if _, err := db.ExecContext(ctx, "UPDATE rate_limits SET bucket = bucket - interval '2 minutes' WHERE key = 'k1'"); err != nil {
		t.Fatal(err)
	}
	if n, _ := RateCount(ctx, db, "k1", time.Minute); n != 0 {
		t.Errorf("k1 after two minutes: %d, want 0", n)
	}
	if n, _ := RateCount(ctx, db, "k1", 15*time.Minute); n != 4 {
		t.Errorf("k1 over 15 minutes: %d, want 4", n)
	}
}

func TestTokensAndSafeNext(t *testing.T) {
	t.Parallel()
	a, b := NewToken(), NewToken()
	if a == b || !wellFormed(a) || len(a) != 43 || wellFormed(a[:42]) || wellFormed(a[:42]+"!") {
		t.Errorf("tokens %q %q", a, b)
	}
	for in, want := range map[string]string{
		"/compte": "/compte", "/gestion/membres?x=1": "/gestion/membres?x=1",
		"": "/", "https://evil.example": "/", "//evil.example": "/", "/\\evil.example": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExpiredSessionsAreSwept(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	a := &Account{Email: "balai@example.org", Name: "Balai"}
	if err := CreateAccount(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		id, _, err := createSession(ctx, db, a.ID, time.Hour, "192.0.2.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := db.NewRaw("UPDATE sessions SET last_seen_at = now() - interval '2 hours' WHERE id_hash = ?", HashToken(ids[0])).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = ?", HashToken(ids[1])).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := DeleteExpiredSessions(ctx, db, time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("swept %d sessions (%v), want 2", n, err)
	}
	if s, err := loadSession(ctx, db, ids[2], 0, time.Hour); err != nil || s == nil || s.AccountID != a.ID {
		t.Errorf("the live session was swept: %v %v", s, err)
	}
}

func TestLoadingASessionRefreshesItsIdleClockInOneStatement(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	a := &Account{Email: "horloge@example.org", Name: "Horloge"}
	if err := CreateAccount(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	id, _, err := createSession(ctx, db, a.ID, time.Hour, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	seen := func() (stale bool) {
		if err := db.NewRaw("SELECT last_seen_at < now() - interval '4 minutes' FROM sessions WHERE id_hash = ?", HashToken(id)).Scan(ctx, &stale); err != nil {
			t.Fatal(err)
		}
		return stale
	}
	if _, err := db.NewRaw("UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE id_hash = ?", HashToken(id)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := loadSession(ctx, db, id, 0, time.Hour); err != nil || s == nil {
		t.Fatalf("load: %v %v", s, err)
	}
	if seen() {
		t.Error("loading a session five minutes idle did not refresh its idle clock")
	}
	// Idle past the limit: not loaded, and not revived either.
	if _, err := db.NewRaw("UPDATE sessions SET last_seen_at = now() - interval '2 hours' WHERE id_hash = ?", HashToken(id)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := loadSession(ctx, db, id, 0, time.Hour); err != nil || s != nil {
		t.Fatalf("an idle session was loaded: %v %v", s, err)
	}
	if !seen() {
		t.Error("loading an idle session revived it")
	}
}

// One statement loads the sessions of several requests: each gets its own
// account, with its role in its own request's council, and unknown, expired or
// revoked sessions get nothing.
func TestSessionsLoadedTogetherKeepTheirCouncils(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	var councilA, councilB int64
	for slug, id := range map[string]*int64{"lot-a": &councilA, "lot-b": &councilB} {
		if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES (?, ?) RETURNING id", slug, "Conseil "+slug).Scan(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	member := &Account{Email: "lot-membre@example.org", Name: "Membre de A"}
	other := &Account{Email: "lot-autre@example.org", Name: "Animatrice de B"}
	for _, a := range []*Account{member, other} {
		if err := CreateAccount(ctx, db, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO memberships (council_id, account_id, role) VALUES (?, ?, 'member'), (?, ?, 'facilitator')",
		councilA, member.ID, councilB, other.ID); err != nil {
		t.Fatal(err)
	}
	newSession := func(a *Account) string {
		id, _, err := createSession(ctx, db, a.ID, time.Hour, "192.0.2.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	sm, so, revoked := newSession(member), newSession(other), newSession(member)
	if err := deleteSession(ctx, db, HashToken(revoked)); err != nil {
		t.Fatal(err)
	}
	keys := []sessionLookup{
		{HashToken(sm), councilA}, {HashToken(sm), councilB}, {HashToken(so), councilB}, {HashToken(so), councilA},
		{HashToken(revoked), councilA}, {HashToken(NewToken()), councilA},
	}
	got := loadSessions(ctx, db, keys, time.Hour)
	want := []struct {
		account int64
		role    authz.Role
	}{{member.ID, authz.Member}, {member.ID, ""}, {other.ID, authz.Facilitator}, {other.ID, ""}, {0, ""}, {0, ""}}
	for i, w := range want {
		r := got[i]
		switch {
		case r.Err != nil:
			t.Errorf("key %d: %v", i, r.Err)
		case w.account == 0 && r.Value != nil:
			t.Errorf("key %d: a session was loaded: %+v", i, r.Value)
		case w.account != 0 && (r.Value == nil || r.Value.AccountID != w.account || r.Value.Role != w.role):
			t.Errorf("key %d: %+v, want account %d with role %q", i, r.Value, w.account, w.role)
		}
	}
}

// loadSession loads one session as the middleware does (through loadSessions),
// or nil when the id is malformed, unknown, expired or idle too long.
func loadSession(ctx context.Context, db *bun.DB, id string, councilID int64, idle time.Duration) (*Session, error) {
	if !wellFormed(id) {
		return nil, nil
	}
	r := loadSessions(ctx, db, []sessionLookup{{idHash: HashToken(id), councilID: councilID}}, idle)[0]
	return r.Value, r.Err
}
