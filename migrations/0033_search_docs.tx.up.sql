-- Search (issue 22, point 3): register items and proposals get a stored
-- search_doc, as debates and arguments have had since 0006. Their expression
-- indexes of 0006 and 0007 were not used for one council's few rows: the
-- planner chose the council's btree and computed to_tsvector (unaccent and
-- stemming) for each of its items and proposals on every search, about 8 ms of
-- PostgreSQL CPU per query at clabench's scale 0.2. A stored vector is
-- computed once per write; the GIN indexes on (council_id, search_doc) answer
-- one council's matches. The expressions are those of the indexes they replace.
ALTER TABLE register_items ADD COLUMN search_doc tsvector GENERATED ALWAYS AS
    (to_tsvector('fr_unaccent', name || ' ' || conditions || ' ' || reason || ' ' || explanation_md)) STORED;
CREATE INDEX register_items_search_doc ON register_items USING gin (council_id, search_doc);
DROP INDEX register_items_fulltext;

ALTER TABLE proposals ADD COLUMN search_doc tsvector GENERATED ALWAYS AS
    (to_tsvector('fr_unaccent', title || ' ' || item_name || ' ' || outcome || ' ' || reason || ' ' || conditions || ' ' || rationale_md)) STORED;
-- Drafts stay their author's: never searched.
CREATE INDEX proposals_search_doc ON proposals USING gin (council_id, search_doc) WHERE state <> 'brouillon';
DROP INDEX proposals_fulltext;
