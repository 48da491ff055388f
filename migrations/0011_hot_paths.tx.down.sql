DROP INDEX register_items_outline;
DROP INDEX register_items_products;
DROP INDEX proposal_scores_proposal;
