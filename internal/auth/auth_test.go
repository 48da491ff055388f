package auth

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
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

func TestRateSlotsAreTakenWithinTheLimitAndSlideWithTheWindow(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	take := func(key string, limit int) Slot {
		t.Helper()
		s, err := TakeSlot(ctx, db, key, limit, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var slots []Slot
	for i := 0; i < 3; i++ {
		if s := take("k1", 3); !s.Taken || s.At.IsZero() {
			t.Fatalf("slot %d of 3 refused: %+v", i+1, s)
		} else {
			slots = append(slots, s)
		}
	}
	if s := take("k1", 3); s.Taken || s.Wait <= 0 || s.Wait > time.Minute {
		t.Errorf("a fourth slot of 3: %+v", s)
	}
	if s := take("k2", 3); !s.Taken {
		t.Error("another key is limited by k1")
	}
	// A slot given back can be taken again, once.
	if err := GiveBack(ctx, db, "k1", slots[1]); err != nil {
		t.Fatal(err)
	}
	if !take("k1", 3).Taken || take("k1", 3).Taken {
		t.Error("the slot given back was not available exactly once")
	}
	// Hits older than the window no longer count.
	if _, err := db.ExecContext(ctx, "UPDATE rate_slots SET hits = ARRAY(SELECT h - interval '61 seconds' FROM unnest(hits) AS h) WHERE key = 'k1'"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if !take("k1", 3).Taken {
			t.Fatalf("slot %d refused after the window slid", i+1)
		}
	}
	var n int
	if err := db.NewRaw("SELECT cardinality(hits) FROM rate_slots WHERE key = 'k1'").Scan(ctx, &n); err != nil || n != 3 {
		t.Errorf("k1 keeps %d hits (%v), want the 3 inside the window", n, err)
	}
}

// The per-email backoff: free attempts, then waits that double up to a cap; a
// refused attempt neither counts nor lengthens the wait.
func TestSignInBackoffDoublesAndIsCapped(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	key := RateKeyEmail("backoff@example.org")
	wait := func() time.Duration {
		t.Helper()
		var secs float64
		if err := db.NewRaw("SELECT extract(epoch FROM next_at - last_at)::float8 FROM signin_backoff WHERE key = ?", key).Scan(ctx, &secs); err != nil {
			t.Fatal(err)
		}
		// last_at and next_at are read from the clock one after the other.
		return time.Duration(secs * float64(time.Second)).Round(100 * time.Millisecond)
	}
	for i := 1; i <= EmailFreeAttempts; i++ {
		s, err := takeBackoff(ctx, db, key)
		if err != nil || !s.Taken {
			t.Fatalf("attempt %d: %+v %v", i, s, err)
		}
	}
	if got := wait(); got != EmailFirstDelay {
		t.Errorf("wait after %d attempts: %v, want %v", EmailFreeAttempts, got, EmailFirstDelay)
	}
	s, err := takeBackoff(ctx, db, key)
	if err != nil || s.Taken || s.Wait < EmailFirstDelay-2*time.Second || s.Wait > EmailFirstDelay {
		t.Fatalf("attempt during the wait: %+v %v", s, err)
	}
	if got := wait(); got != EmailFirstDelay {
		t.Errorf("a refused attempt changed the wait to %v", got)
	}
	want := EmailFirstDelay
	for i := 0; i < 8; i++ {
		if _, err := db.ExecContext(ctx, "UPDATE signin_backoff SET next_at = now() - interval '1 second', last_at = now() - interval '1 second' WHERE key = ?", key); err != nil {
			t.Fatal(err)
		}
		if s, err := takeBackoff(ctx, db, key); err != nil || !s.Taken {
			t.Fatalf("attempt after the wait: %+v %v", s, err)
		}
		want = min(2*want, EmailMaxDelay)
		if got := wait(); got != want {
			t.Errorf("wait %d: %v, want %v", i, got, want)
		}
	}
	// A day later the series starts again; a success clears it.
	if _, err := db.ExecContext(ctx, "UPDATE signin_backoff SET last_at = now() - interval '25 hours' WHERE key = ?", key); err != nil {
		t.Fatal(err)
	}
	if s, err := takeBackoff(ctx, db, key); err != nil || !s.Taken || wait() != 0 {
		t.Errorf("a series a day old did not start again: %+v %v", s, err)
	}
	if err := clearBackoff(ctx, db, key); err != nil {
		t.Fatal(err)
	}
	if n := 0; db.NewRaw("SELECT count(*) FROM signin_backoff").Scan(ctx, &n) != nil || n != 0 {
		t.Error("clearBackoff left the series")
	}
}

func TestRetryIn(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                       "Réessayez dans 1 seconde.",
		1500 * time.Millisecond: "Réessayez dans 2 secondes.",
		30 * time.Second:        "Réessayez dans 30 secondes.",
		60 * time.Second:        "Réessayez dans 60 secondes.",
		61 * time.Second:        "Réessayez dans 2 minutes.",
		15 * time.Minute:        "Réessayez dans 15 minutes.",
		time.Hour + time.Second: "Réessayez dans 2 heures.",
	} {
		if got := RetryIn(d); got != want {
			t.Errorf("RetryIn(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTokensAndSafeNext(t *testing.T) {
	t.Parallel()
	a, b := NewToken(), NewToken()
	if a == b || !wellFormed(a) || len(a) != 43 || wellFormed(a[:42]) || wellFormed(a[:42]+"!") {
		t.Errorf("tokens %q %q", a, b)
	}
	for _, ok := range []string{"/", "/compte", "/gestion/membres?x=1", "/debats/recherche?q=riz+de+camargue&page=2",
		"/registre/caf%C3%A9", "/propositions/12#resultats", "/registre?q=100%25", "/a/b.c/d", "/un chemin"} {
		if got := SafeNext(ok); got != ok {
			t.Errorf("SafeNext(%q) = %q, want it kept", ok, got)
		}
	}
	for _, hostile := range []string{
		"", "compte", "https://evil.example", "http:/evil.example", "javascript:alert(1)", "//evil.example", "///evil.example",
		"/\\evil.example", "\\/evil.example", "/a\\b", "/a\r\nSet-Cookie: x", "/\t/evil.example", "/\n/evil.example", "/ \t/evil.example",
		"/%2F/evil.example", "/%2f%2fevil.example", "/%252F/evil.example", "/%25252F/evil.example", "/%2525252F/evil.example",
		"/%5C/evil.example", "/%5c%5cevil.example", "/%09/evil.example", "/%0D%0ALocation:%20x", "/%00", "/%E2%80%AE/evil",
		"/\u200b/evil.example", "/\u2028/evil.example", "/\u00a0/x", "/\x7f/x", "/.//evil.example", "/./x", "/a/../x", "/..", "/a/.",
		"/%2E%2E/x", "/%2E/%2Fevil", "/@evil.example\\", "/\xff\xfe", "/" + strings.Repeat("a", 3000),
	} {
		if got := SafeNext(hostile); got != "/" {
			t.Errorf("SafeNext(%q) = %q, want /", hostile, got)
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

func TestLoadingASessionRefreshesItsIdleClockOnceAMinute(t *testing.T) {
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
	// Seen 30 seconds ago: read, not written (most requests write nothing).
	if _, err := db.NewRaw("UPDATE sessions SET last_seen_at = now() - interval '30 seconds' WHERE id_hash = ?", HashToken(id)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := loadSession(ctx, db, id, 0, time.Hour); err != nil || s == nil {
		t.Fatalf("load: %v %v", s, err)
	}
	var untouched bool
	if err := db.NewRaw("SELECT last_seen_at < now() - interval '29 seconds' FROM sessions WHERE id_hash = ?", HashToken(id)).Scan(ctx, &untouched); err != nil || !untouched {
		t.Errorf("a session seen 30 s ago was written again (%v)", err)
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

// Guessing the current password on the account page shares the sign-in
// backoff of the account's email: after the free attempts, even the right
// password waits, and the refusal names the field.
func TestChangePasswordGuessesShareTheSignInBackoff(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	hash, err := HashPassword(ctx, "ancien mot de passe solide")
	if err != nil {
		t.Fatal(err)
	}
	a := &Account{Email: "guess@example.org", Name: "Guess", PasswordHash: hash}
	if err := CreateAccount(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	var councilID int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('test', 'Conseil test') RETURNING id").Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= EmailFreeAttempts; i++ {
		err := ChangePassword(ctx, db, councilID, a.ID, "mauvais", "nouveau mot de passe solide")
		if f := apperr.FieldsOf(err); f["current"] != "Mot de passe actuel incorrect." {
			t.Fatalf("attempt %d: %v %v", i, err, f)
		}
	}
	err = ChangePassword(ctx, db, councilID, a.ID, "ancien mot de passe solide", "nouveau mot de passe solide")
	if f := apperr.FieldsOf(err); !strings.HasPrefix(f["current"], "Trop de tentatives") || !strings.Contains(f["current"], "Réessayez dans") {
		t.Fatalf("attempt beyond the free ones: %v %v", err, f)
	}
	if _, err := db.ExecContext(ctx, "UPDATE signin_backoff SET next_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	if err := ChangePassword(ctx, db, councilID, a.ID, "ancien mot de passe solide", "nouveau mot de passe solide"); err != nil {
		t.Fatalf("right password after the wait: %v", err)
	}
	var left int
	if err := db.NewRaw("SELECT count(*) FROM signin_backoff WHERE key = ?", RateKeyEmail(a.Email)).Scan(ctx, &left); err != nil || left != 0 {
		t.Fatalf("a success must clear the series: %d %v", left, err)
	}
}

// A password link made before the password changed cannot undo the change.
func TestPasswordLinksDieWhenThePasswordChanges(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	a := &Account{Email: "links@example.org", Name: "Links", PasswordHash: "x"}
	if err := CreateAccount(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	token, err := CreatePasswordLink(ctx, db, nil, audit.Actor{}, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetPasswordHash(ctx, db, a.ID, "y"); err != nil {
		t.Fatal(err)
	}
	if _, err := UsePasswordLink(ctx, db, 0, token, "un autre mot de passe solide"); err == nil {
		t.Fatal("a password link made before the change still set the password")
	}
}
