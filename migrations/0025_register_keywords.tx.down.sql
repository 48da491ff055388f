ALTER TABLE register_items DROP COLUMN keywords;
