DROP TABLE webhook_attempts, webhook_deliveries, webhook_endpoints;
ALTER TABLE register_items DROP COLUMN off_category, DROP COLUMN gpc_brick;
