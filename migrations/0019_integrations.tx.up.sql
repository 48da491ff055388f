-- Issue 18, points 1 and 3: classification codes on register items, and the
-- signed webhooks that push register, shop and assembly events to the tills
-- and payment tools (endpoints, one delivery per event and endpoint, and the
-- log of every attempt).

-- Codes that point-of-sale systems know: an Open Food Facts category tag
-- ("en:rices") and a GS1 GPC brick (8 digits). '' means none.
ALTER TABLE register_items
    ADD COLUMN off_category text NOT NULL DEFAULT ''
        CHECK (off_category = '' OR (off_category ~ '^[a-z]{2}:[a-z0-9-]+$' AND length(off_category) <= 100)),
    ADD COLUMN gpc_brick text NOT NULL DEFAULT ''
        CHECK (gpc_brick = '' OR gpc_brick ~ '^[0-9]{8}$');

-- An endpoint a facilitator registered. The secret is stored as it is: the
-- platform must compute HMAC-SHA256 with it on every delivery, so a hash
-- would not do (see docs/decisions.md). During a rotation the previous secret
-- also signs until previous_until.
CREATE TABLE webhook_endpoints (
    id              bigserial PRIMARY KEY,
    council_id      bigint NOT NULL REFERENCES councils (id),
    url             text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    events          text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY[
                        'register.version_published', 'shop.changed', 'decision.recorded', 'meeting.changed', 'ping']::text[]),
    secret          text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    previous_secret text CHECK (previous_secret IS NULL OR previous_secret LIKE 'whsec\_%'),
    previous_until  timestamptz,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, council_id),
    CHECK ((previous_secret IS NULL) = (previous_until IS NULL))
);
CREATE INDEX webhook_endpoints_council ON webhook_endpoints (council_id, id);

-- One event for one endpoint. event_key names the event (e.g.
-- "register.version_published:7"), so that an event is queued once per
-- endpoint; message_id is the webhook-id, the same on every attempt.
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    council_id       bigint NOT NULL,
    endpoint_id      bigint NOT NULL,
    event            text NOT NULL,
    event_key        text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 300),
    message_id       text NOT NULL UNIQUE CHECK (message_id ~ '^msg_[a-z0-9]+$'),
    payload          text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status      integer,
    last_answer      text NOT NULL DEFAULT '',
    last_error       text NOT NULL DEFAULT '',
    last_duration_ms integer,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (endpoint_id, council_id) REFERENCES webhook_endpoints (id, council_id) ON DELETE CASCADE,
    UNIQUE (endpoint_id, event_key)
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id DESC);

-- Every attempt, kept for the delivery log.
CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    status      integer,
    answer      text NOT NULL DEFAULT '',
    error       text NOT NULL DEFAULT '',
    duration_ms integer NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
