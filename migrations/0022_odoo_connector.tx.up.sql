-- Issue 18, the missing points: the Lokavaluto / Odoo connector's links and
-- push state, and the webhook event of a re-evaluated basket.

-- A basket re-evaluated without a new register version (a wording
-- correction) has an event of its own: shop.basket_changed.
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_events_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_events_check CHECK (cardinality(events) > 0 AND events <@ ARRAY[
    'register.version_published', 'shop.changed', 'shop.basket_changed', 'decision.recorded', 'meeting.changed', 'ping']::text[]);

-- A point de vente linked once, by a facilitator, to its partner in the
-- payment tool's Odoo (res.partner id), and what the last push did: the
-- values Odoo held after it, or the error of the last failed attempt. The
-- connector's settings (URL, database, user, API key) are the operator's and
-- live in the environment, never here.
CREATE TABLE odoo_links (
    shop_id       bigint PRIMARY KEY,
    council_id    bigint NOT NULL,
    partner_id    integer NOT NULL CHECK (partner_id > 0),
    partner_name  text NOT NULL DEFAULT '' CHECK (length(partner_name) <= 300),
    linked_at     timestamptz NOT NULL DEFAULT now(),
    pushed_at     timestamptz,
    pushed_values jsonb,
    error         text NOT NULL DEFAULT '' CHECK (length(error) <= 1000),
    failed_at     timestamptz,
    failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    FOREIGN KEY (shop_id, council_id) REFERENCES shops (id, council_id) ON DELETE CASCADE,
    UNIQUE (council_id, partner_id),
    CHECK ((error = '') = (failed_at IS NULL))
);
CREATE INDEX odoo_links_council ON odoo_links (council_id);
