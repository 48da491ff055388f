-- Indexes and a counter for the pages measured in docs/perf.md.

-- A proposal's scores within its council: without it the planner ANDs the
-- proposal's index with the council's (tens of thousands of rows at scale).
CREATE INDEX proposal_scores_proposal ON proposal_scores (council_id, proposal_id);

-- The register page lists the families and categories with their number of
-- products, and the products of the small categories only. Counting the
-- products on every request cost as much as the rest of the page: each item
-- keeps the count of its products, maintained by the triggers below whatever
-- writes the register.
ALTER TABLE register_items ADD COLUMN product_count integer NOT NULL DEFAULT 0 CHECK (product_count >= 0);
UPDATE register_items AS p SET product_count = c.n
FROM (SELECT parent_id, count(*) AS n FROM register_items WHERE kind = 'product' GROUP BY parent_id) AS c
WHERE c.parent_id = p.id;
CREATE INDEX register_items_outline ON register_items (council_id, position, id) WHERE kind <> 'product';

-- Recounts the products of the parents that a statement gave products to or
-- took products from: inserted or deleted products, and products moved or
-- changed into or from a product. The recount's own update moves nothing, so
-- it does not recurse. (A transition table is named only for the events that
-- have it: each branch reads its own.)
CREATE FUNCTION register_items_count_products() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parents bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT parent_id) INTO parents FROM changed_new WHERE kind = 'product';
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT parent_id) INTO parents FROM changed_old WHERE kind = 'product';
    ELSE
        SELECT array_agg(DISTINCT p) INTO parents
        FROM changed_old AS o JOIN changed_new AS n ON n.id = o.id,
            LATERAL (VALUES (CASE WHEN o.kind = 'product' THEN o.parent_id END),
                            (CASE WHEN n.kind = 'product' THEN n.parent_id END)) AS moved (p)
        WHERE (o.parent_id IS DISTINCT FROM n.parent_id OR o.kind <> n.kind) AND p IS NOT NULL;
    END IF;
    IF parents IS NOT NULL THEN
        UPDATE register_items AS p
        SET product_count = (SELECT count(*) FROM register_items AS c WHERE c.parent_id = p.id AND c.kind = 'product')
        WHERE p.id = ANY (parents);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER register_items_count_inserted AFTER INSERT ON register_items
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION register_items_count_products();
CREATE TRIGGER register_items_count_deleted AFTER DELETE ON register_items
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION register_items_count_products();
CREATE TRIGGER register_items_count_updated AFTER UPDATE ON register_items
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION register_items_count_products();
