package auth

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Sign-in limits, in PostgreSQL so that every instance sees the same counters.
//
// Per client address: at most IPAttemptLimit attempts in IPAttemptWindow; a
// successful sign-in gives its slot back, so the limit counts failures in
// effect, and a room full of members signing in through one address is not
// refused.
//
// Per email address (known or not, so that the limit reveals nothing): the
// first EmailFreeAttempts attempts are free, then each attempt must wait
// after the previous one EmailFirstDelay, doubled at each attempt up to
// EmailMaxDelay. An attempt refused for waiting costs nothing and does not
// lengthen the wait, so someone who knows a member's address can delay their
// sign-in by at most EmailMaxDelay at a time, not lock them out; a successful
// sign-in clears the series, and a series untouched for EmailBackoffReset
// starts again.
const (
	IPAttemptLimit     = 20
	IPAttemptWindow    = time.Minute
	EmailFreeAttempts  = 5
	EmailFirstDelay    = 30 * time.Second
	EmailMaxDelay      = 15 * time.Minute
	EmailBackoffReset  = 24 * time.Hour
	rateSweepOneIn     = 50
	rateSweepGraceSecs = 60
)

// RateKeyIP names the sign-in limit of a client address.
func RateKeyIP(ip string) string { return "signin:ip:" + ip }

// RateKeyEmail names the sign-in backoff of an email address, known or not.
func RateKeyEmail(email string) string { return "signin:email:" + email }

// Slot is the answer of TakeSlot. When Taken, At is the time the event was
// recorded (GiveBack needs it); otherwise nothing was recorded and Wait is how
// long until a slot frees.
type Slot struct {
	Taken bool
	At    time.Time
	Wait  time.Duration
}

// takeSlotSQL checks and takes a slot in one statement. The upsert holds the
// key's row lock, so concurrent takers are serialised and each one counts the
// hits committed before it: never more than the limit pass, however many
// arrive at once. Hits older than the window are dropped as the row is
// rewritten. The times of the DO UPDATE part are read after the lock is taken
// (clock_timestamp()), so that they follow the order of the takers. When the
// limit is reached, the UPDATE's WHERE leaves the row
// alone, nothing is returned by the upsert, and the second branch computes
// when the oldest hit leaves the window (for the message only).
//
// ?0 key, ?1 window in seconds, ?2 limit.
const takeSlotSQL = `WITH taken AS (
	INSERT INTO rate_slots AS r (key, hits, expires_at)
	VALUES (?0, ARRAY[clock_timestamp()], clock_timestamp() + make_interval(secs => ?1))
	ON CONFLICT (key) DO UPDATE
	SET hits = ARRAY(SELECT h FROM unnest(r.hits) AS h WHERE h > clock_timestamp() - make_interval(secs => ?1) ORDER BY h) || clock_timestamp(),
		expires_at = clock_timestamp() + make_interval(secs => ?1)
	WHERE (SELECT count(*) FROM unnest(r.hits) AS h WHERE h > clock_timestamp() - make_interval(secs => ?1)) < ?2
	RETURNING r.hits[cardinality(r.hits)] AS at)
SELECT true AS taken, at, 0::float8 AS wait FROM taken
UNION ALL
SELECT false, NULL, coalesce((SELECT extract(epoch FROM min(h) + make_interval(secs => ?1) - clock_timestamp())::float8
	FROM rate_slots, unnest(hits) AS h WHERE key = ?0 AND h > clock_timestamp() - make_interval(secs => ?1)), 1)
WHERE NOT EXISTS (SELECT 1 FROM taken)`

// TakeSlot takes one of the limit slots of key over the sliding window, before
// the work the limit guards, in one statement (no check-then-record race).
// Every rate limit of the platform goes through it.
func TakeSlot(ctx context.Context, db bun.IDB, key string, limit int, window time.Duration) (Slot, error) {
	if limit <= 0 {
		return Slot{Wait: window}, nil
	}
	var s Slot
	var at *time.Time
	var wait float64
	if err := db.NewRaw(takeSlotSQL, key, window.Seconds(), limit).Scan(ctx, &s.Taken, &at, &wait); err != nil {
		return Slot{}, err
	}
	if s.Taken && at != nil {
		s.At = *at
	} else {
		s.Wait = max(time.Duration(wait*float64(time.Second)), time.Second)
	}
	sweepRateTables(ctx, db)
	return s, nil
}

// GiveBack returns a slot taken by TakeSlot, for work that turned out not to
// count (a successful sign-in, a submission refused as a duplicate).
func GiveBack(ctx context.Context, db bun.IDB, key string, s Slot) error {
	if !s.Taken {
		return nil
	}
	_, err := db.NewRaw(`UPDATE rate_slots
		SET hits = hits[:array_position(hits, ?1::timestamptz) - 1] || hits[array_position(hits, ?1::timestamptz) + 1:]
		WHERE key = ?0 AND ?1::timestamptz = ANY (hits)`, key, s.At).Exec(ctx)
	return err
}

// sweepRateTables deletes, now and then, the rows that no longer limit
// anything: no background job needed.
func sweepRateTables(ctx context.Context, db bun.IDB) {
	if rand.IntN(rateSweepOneIn) != 0 {
		return
	}
	// Best effort: a failed sweep is retried by a later call.
	_, _ = db.NewRaw("DELETE FROM rate_slots WHERE expires_at < clock_timestamp() - make_interval(secs => ?)", rateSweepGraceSecs).Exec(ctx)
	_, _ = db.NewRaw("DELETE FROM signin_backoff WHERE last_at < clock_timestamp() - make_interval(secs => ?)", EmailBackoffReset.Seconds()).Exec(ctx)
}

// backoffSQL takes an attempt of key's series when its wait is over, in one
// statement under the row's lock, and sets the next wait from the number of
// attempts (?2 free attempts, then ?3 seconds doubled each time, at most ?4).
// A series untouched for ?1 seconds starts again. A refused attempt changes
// nothing; the second branch says how long is left to wait. The times of the
// DO UPDATE part are read after the lock is taken (clock_timestamp()), so
// that concurrent attempts see each other in order.
//
// ?0 key, ?1 reset seconds, ?2 free attempts, ?3 first delay, ?4 max delay.
var backoffSQL = strings.NewReplacer(
	"NEXT_ATTEMPTS", "(CASE WHEN b.last_at < clock_timestamp() - make_interval(secs => ?1) THEN 1 ELSE b.attempts + 1 END)",
).Replace(strings.NewReplacer(
	"DELAY(1)", "make_interval(secs => CASE WHEN 1 < ?2 THEN 0 ELSE ?3 END)",
	"DELAY(NEXT_ATTEMPTS)", "make_interval(secs => CASE WHEN NEXT_ATTEMPTS < ?2 THEN 0 ELSE least(?3 * power(2, least(NEXT_ATTEMPTS - ?2, 30)), ?4) END)",
).Replace(`WITH taken AS (
	INSERT INTO signin_backoff AS b (key, attempts, last_at, next_at)
	VALUES (?0, 1, clock_timestamp(), clock_timestamp() + DELAY(1))
	ON CONFLICT (key) DO UPDATE
	SET attempts = NEXT_ATTEMPTS, last_at = clock_timestamp(), next_at = clock_timestamp() + DELAY(NEXT_ATTEMPTS)
	WHERE b.next_at <= clock_timestamp() OR b.last_at < clock_timestamp() - make_interval(secs => ?1)
	RETURNING b.attempts)
SELECT true AS taken, 0::float8 AS wait FROM taken
UNION ALL
SELECT false, coalesce((SELECT extract(epoch FROM next_at - clock_timestamp())::float8 FROM signin_backoff WHERE key = ?0), 1)
WHERE NOT EXISTS (SELECT 1 FROM taken)`))

// takeBackoff takes an attempt of key's backoff series, or says how long to
// wait for the next one.
func takeBackoff(ctx context.Context, db bun.IDB, key string) (Slot, error) {
	var s Slot
	var wait float64
	if err := db.NewRaw(backoffSQL, key, EmailBackoffReset.Seconds(), EmailFreeAttempts,
		EmailFirstDelay.Seconds(), EmailMaxDelay.Seconds()).Scan(ctx, &s.Taken, &wait); err != nil {
		return Slot{}, err
	}
	if !s.Taken {
		s.Wait = max(time.Duration(wait*float64(time.Second)), time.Second)
	}
	return s, nil
}

// clearBackoff ends key's series (a successful sign-in).
func clearBackoff(ctx context.Context, db bun.IDB, key string) error {
	_, err := db.NewRaw("DELETE FROM signin_backoff WHERE key = ?", key).Exec(ctx)
	return err
}

// RetryIn says in French when to try again: "Réessayez dans 2 minutes.",
// rounded up to the second, minute or hour.
func RetryIn(d time.Duration) string {
	n, unit := int((d+time.Second-1)/time.Second), "seconde"
	switch {
	case d > time.Hour:
		n, unit = int((d+time.Hour-1)/time.Hour), "heure"
	case d > time.Minute:
		n, unit = int((d+time.Minute-1)/time.Minute), "minute"
	}
	n = max(n, 1)
	if n > 1 {
		unit += "s"
	}
	return "Réessayez dans " + strconv.Itoa(n) + " " + unit + "."
}
