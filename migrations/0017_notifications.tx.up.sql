-- Notifications (issue 17): what the platform sent, or would have sent, to
-- whom; each member's choice per kind; the convocation rule of meetings and
-- cancelled meetings.

-- How many days before a meeting its convocation goes out.
ALTER TABLE meeting_rules ADD COLUMN convocation_days integer NOT NULL DEFAULT 7
    CHECK (convocation_days BETWEEN 1 AND 60);

-- A planned meeting may be cancelled (a cancellation goes to those convened).
ALTER TABLE meetings DROP CONSTRAINT meetings_state_check;
ALTER TABLE meetings ADD CONSTRAINT meetings_state_check
    CHECK (state IN ('prevue', 'en_cours', 'close', 'annulee'));
-- A cancelled meeting never opened (0008 named this check meetings_check1).
ALTER TABLE meetings DROP CONSTRAINT meetings_check1;
ALTER TABLE meetings ADD CONSTRAINT meetings_opened_check
    CHECK (state IN ('prevue', 'annulee') OR opened_at IS NOT NULL);

-- One row per recipient and event: the message as rendered, and where its
-- delivery stands. recipient names who it is for ('account:12'; a citizen
-- subscriber would be 'subscriber:7'), so that one event reaches a person once.
CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL REFERENCES councils (id),
    recipient   text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 100),
    account_id  bigint REFERENCES accounts (id),
    email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    kind        text NOT NULL CHECK (kind IN ('convocation', 'vote_opened', 'vote_closing', 'results', 'digest')),
    event_key   text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 200),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    body_text   text NOT NULL,
    body_html   text NOT NULL DEFAULT '',
    link        text NOT NULL DEFAULT '' CHECK (length(link) <= 500),
    message_id  text NOT NULL DEFAULT '' CHECK (length(message_id) <= 300),
    -- queued: waiting (or being retried after a temporary failure);
    -- sent: accepted by the SMTP server; failed: refused for good (answer);
    -- recorded: no SMTP configured, shown on the site only; digest: kept
    -- for the member's weekly digest.
    state       text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed', 'recorded', 'digest')),
    answer      text NOT NULL DEFAULT '' CHECK (length(answer) <= 1000),
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    job_id      bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    UNIQUE (council_id, recipient, event_key),
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX notifications_account ON notifications (account_id, council_id, created_at DESC);
CREATE INDEX notifications_council ON notifications (council_id, created_at DESC);

-- A member's choice per kind: immediately, in the weekly digest, or never;
-- for convocations, an optional second address instead of the account's.
CREATE TABLE notification_prefs (
    council_id bigint NOT NULL REFERENCES councils (id),
    account_id bigint NOT NULL REFERENCES accounts (id),
    kind       text NOT NULL CHECK (kind IN ('convocation', 'vote_opened', 'vote_closing', 'results', 'digest')),
    delivery   text NOT NULL CHECK (delivery IN ('immediate', 'digest', 'never')),
    address    text NOT NULL DEFAULT '' CHECK (length(address) <= 254),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, account_id, kind),
    CHECK (kind = 'convocation' OR address = '')
);

-- Each council's notification settings: the day its weekly digest goes out
-- (ISO weekday, 1 = Monday).
CREATE TABLE notification_settings (
    council_id     bigint PRIMARY KEY REFERENCES councils (id),
    digest_weekday smallint NOT NULL DEFAULT 1 CHECK (digest_weekday BETWEEN 1 AND 7),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
