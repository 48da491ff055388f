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

-- Recounts the products of the parents a statement gave or took products
-- from (transition tables changed_old / changed_new, as the trigger has them).
CREATE FUNCTION register_items_recount(parents bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE register_items AS p
    SET product_count = (SELECT count(*) FROM register_items AS c WHERE c.parent_id = p.id AND c.kind = 'product')
    WHERE p.id = ANY (parents);
$$;

CREATE FUNCTION register_items_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parents bigint[];
BEGIN
    SELECT array_agg(DISTINCT parent_id) INTO parents FROM changed_new WHERE kind = 'product' AND parent_id IS NOT NULL;
    IF parents IS NOT NULL THEN
        PERFORM register_items_recount(parents);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER register_items_count_inserted AFTER INSERT ON register_items
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION register_items_count_inserted();

CREATE FUNCTION register_items_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parents bigint[];
BEGIN
    SELECT array_agg(DISTINCT parent_id) INTO parents FROM changed_old WHERE kind = 'product' AND parent_id IS NOT NULL;
    IF parents IS NOT NULL THEN
        PERFORM register_items_recount(parents);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER register_items_count_deleted AFTER DELETE ON register_items
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION register_items_count_deleted();

-- An update recounts only when an item moved or changed kind; the recount's
-- own update moves nothing, so it does not recurse.
CREATE FUNCTION register_items_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parents bigint[];
BEGIN
    SELECT array_agg(DISTINCT x) INTO parents FROM (
        SELECT o.parent_id AS x FROM changed_old AS o JOIN changed_new AS n ON n.id = o.id
        WHERE (o.parent_id IS DISTINCT FROM n.parent_id OR o.kind <> n.kind) AND o.kind = 'product'
        UNION
        SELECT n.parent_id FROM changed_old AS o JOIN changed_new AS n ON n.id = o.id
        WHERE (o.parent_id IS DISTINCT FROM n.parent_id OR o.kind <> n.kind) AND n.kind = 'product'
    ) AS moved WHERE x IS NOT NULL;
    IF parents IS NOT NULL THEN
        PERFORM register_items_recount(parents);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER register_items_count_updated AFTER UPDATE ON register_items
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION register_items_count_updated();
