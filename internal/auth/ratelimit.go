package auth

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"
)

// Sign-in limits: failures counted per client address and per email address,
// in PostgreSQL so that every instance sees the same counters.
const (
	IPFailureLimit      = 20
	IPFailureWindow     = time.Minute
	EmailFailureLimit   = 10
	EmailFailureWindow  = 15 * time.Minute
	rateBucketGranule   = "10 seconds"
	rateLimitKeepPeriod = "1 day"
)

// RateKeyIP and RateKeyEmail name the counters of sign-in failures.
func RateKeyIP(ip string) string { return "signin:ip:" + ip }

// RateKeyEmail names the counter of sign-in failures for an email address,
// known or not (so that the limit reveals nothing about accounts).
func RateKeyEmail(email string) string { return "signin:email:" + email }

// RateHit counts one event for each key, in the current 10-second bucket.
func RateHit(ctx context.Context, db bun.IDB, keys ...string) error {
	for _, k := range keys {
		if _, err := db.NewRaw(`INSERT INTO rate_limits (key, bucket, hits)
			VALUES (?, date_bin(?::interval, now(), TIMESTAMPTZ '2000-01-01'), 1)
			ON CONFLICT (key, bucket) DO UPDATE SET hits = rate_limits.hits + 1`, k, rateBucketGranule).Exec(ctx); err != nil {
			return err
		}
	}
	if rand.IntN(50) == 0 {
		_, err := db.NewRaw("DELETE FROM rate_limits WHERE bucket < now() - ?::interval", rateLimitKeepPeriod).Exec(ctx)
		return err
	}
	return nil
}

// RateCount returns how many events key counted during the last window.
func RateCount(ctx context.Context, db bun.IDB, key string, window time.Duration) (int, error) {
	var n int
	err := db.NewRaw(`SELECT coalesce(sum(hits), 0) FROM rate_limits
		WHERE key = ? AND bucket > now() - make_interval(secs => ?)`, key, window.Seconds()).Scan(ctx, &n)
	return n, err
}
