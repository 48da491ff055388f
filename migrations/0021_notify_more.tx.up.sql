-- Notifications, the missing points of issue 17: mails to shop applicants,
-- renewal reminders, and citizens subscribed without an account.

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('convocation', 'vote_opened',
    'vote_closing', 'results', 'digest', 'renewal', 'application', 'public_digest', 'subscription'));
ALTER TABLE notification_prefs DROP CONSTRAINT notification_prefs_kind_check;
ALTER TABLE notification_prefs ADD CONSTRAINT notification_prefs_kind_check CHECK (kind IN ('convocation', 'vote_opened',
    'vote_closing', 'results', 'digest', 'renewal'));
-- The renewal sweep looks for what it already sent by event.
CREATE INDEX notifications_event ON notifications (council_id, event_key);

-- Recipients without an account (a shop applicant 'application:5', a point
-- de vente 'shop:3') who left a kind of mail with its one-click link.
CREATE TABLE notification_optouts (
    council_id bigint NOT NULL REFERENCES councils (id),
    recipient  text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 100),
    kind       text NOT NULL CHECK (kind IN ('renewal', 'application')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, recipient, kind)
);

-- Citizens subscribed to a council's public digest, without an account.
-- Double opt-in: a row is pending until its confirmation link (single use,
-- stored as a hash, expiring) is followed; leaving deletes the address.
CREATE TABLE subscribers (
    id            bigserial PRIMARY KEY,
    council_id    bigint NOT NULL REFERENCES councils (id),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    confirm_hash  bytea CHECK (confirm_hash IS NULL OR length(confirm_hash) = 32),
    confirm_until timestamptz,
    confirmed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, email),
    CHECK ((confirm_hash IS NULL) = (confirm_until IS NULL)),
    CHECK (confirmed_at IS NOT NULL OR confirm_hash IS NOT NULL)
);
CREATE UNIQUE INDEX subscribers_confirm ON subscribers (confirm_hash) WHERE confirm_hash IS NOT NULL;
