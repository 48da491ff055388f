-- Trust (issue 14): rate limits taken atomically, a slower per-email backoff of
-- sign-in attempts instead of a lockout, and the instance's shared secrets (the
-- key that signs flash messages).

-- A rate limit's recent events, one row per key: hits holds the times of the
-- events still inside the window (at most the limit's size, a few dozen), so
-- that one INSERT … ON CONFLICT DO UPDATE checks and takes a slot under the
-- row's lock (auth.TakeSlot). expires_at is when the newest hit leaves the
-- window: rows past it are swept.
CREATE TABLE rate_slots (
    key        text PRIMARY KEY CHECK (length(key) <= 300),
    hits       timestamptz[] NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX rate_slots_expires ON rate_slots (expires_at);

-- Sign-in attempts per email address (known or not): after a few failures,
-- each attempt must wait longer than the previous one (auth.signInBackoff).
-- A successful sign-in deletes the row.
CREATE TABLE signin_backoff (
    key       text PRIMARY KEY CHECK (length(key) <= 300),
    attempts  integer NOT NULL CHECK (attempts >= 0),
    last_at   timestamptz NOT NULL,
    next_at   timestamptz NOT NULL
);
CREATE INDEX signin_backoff_last ON signin_backoff (last_at);

-- The bucketed counters they replace.
DROP TABLE rate_limits;

-- Secrets shared by every instance, created once by the first instance that
-- needs one (INSERT … ON CONFLICT DO NOTHING, then read back).
CREATE TABLE instance_secrets (
    name       text PRIMARY KEY CHECK (length(name) <= 100),
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
