DROP TABLE odoo_links;
DELETE FROM webhook_deliveries WHERE event = 'shop.basket_changed';
UPDATE webhook_endpoints SET events = array_remove(events, 'shop.basket_changed');
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_events_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_events_check CHECK (cardinality(events) > 0 AND events <@ ARRAY[
    'register.version_published', 'shop.changed', 'decision.recorded', 'meeting.changed', 'ping']::text[]);
