CREATE INDEX proposals_fulltext ON proposals USING gin (council_id,
    (to_tsvector('fr_unaccent', title || ' ' || item_name || ' ' || outcome || ' ' || reason || ' ' || conditions || ' ' || rationale_md)))
    WHERE state <> 'brouillon';
DROP INDEX proposals_search_doc;
ALTER TABLE proposals DROP COLUMN search_doc;

CREATE INDEX register_items_fulltext ON register_items USING gin (council_id,
    (to_tsvector('fr_unaccent', name || ' ' || conditions || ' ' || reason || ' ' || explanation_md)));
DROP INDEX register_items_search_doc;
ALTER TABLE register_items DROP COLUMN search_doc;
