DROP TRIGGER register_items_count_updated ON register_items;
DROP TRIGGER register_items_count_deleted ON register_items;
DROP TRIGGER register_items_count_inserted ON register_items;
DROP FUNCTION register_items_count_products();
DROP INDEX register_items_outline;
ALTER TABLE register_items DROP COLUMN product_count;
DROP INDEX proposal_scores_proposal;
