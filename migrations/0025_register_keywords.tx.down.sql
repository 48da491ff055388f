ALTER TABLE shop_applications DROP COLUMN refusal_reason;
ALTER TABLE proposals DROP COLUMN register_explanation_md;
ALTER TABLE register_items DROP COLUMN keywords;
