-- Accounts, memberships, sessions, single-use tokens (invitations, password
-- resets) and the sign-in rate-limit counters. All state lives here so that
-- several app instances share it.

-- An account is global; a membership gives it a role in one council.
CREATE TABLE accounts (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash text NOT NULL DEFAULT '', -- argon2id PHC string; '' = no password set yet
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);

CREATE TABLE memberships (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL REFERENCES councils (id),
    account_id  bigint NOT NULL REFERENCES accounts (id),
    role        text NOT NULL CHECK (role IN ('member', 'facilitator', 'admin')),
    disabled_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, account_id),
    UNIQUE (id, council_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

-- Sessions: only a SHA-256 of the session id is stored. The CSRF token of a
-- signed-in browser is bound to its session.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL CHECK (length(csrf_token) >= 22),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    client_ip    text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300)
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Single-use links: invitations to a council and password (re)set links. Only
-- a SHA-256 of the token is stored.
CREATE TABLE account_tokens (
    id          bigserial PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    kind        text NOT NULL CHECK (kind IN ('invitation', 'password')),
    council_id  bigint REFERENCES councils (id),
    account_id  bigint REFERENCES accounts (id),
    email       text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    role        text NOT NULL DEFAULT '' CHECK (role IN ('', 'member', 'facilitator', 'admin')),
    created_by  bigint REFERENCES accounts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CHECK (kind <> 'invitation' OR (council_id IS NOT NULL AND email <> '' AND role <> '')),
    CHECK (kind <> 'password' OR account_id IS NOT NULL)
);
CREATE INDEX account_tokens_pending ON account_tokens (council_id, kind) WHERE used_at IS NULL;

-- Rate-limit counters in small time buckets, shared by every instance.
CREATE TABLE rate_limits (
    key    text NOT NULL CHECK (length(key) <= 300),
    bucket timestamptz NOT NULL,
    hits   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (key, bucket)
);
CREATE INDEX rate_limits_bucket ON rate_limits (bucket);
