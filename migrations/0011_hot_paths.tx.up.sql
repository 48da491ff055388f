-- Indexes for the pages measured in docs/perf.md.

-- A proposal's scores within its council: without it the planner ANDs the
-- proposal's index with the council's (tens of thousands of rows at scale).
CREATE INDEX proposal_scores_proposal ON proposal_scores (council_id, proposal_id);

-- The register page counts each category's products and lists the families
-- and categories: an index-only count, and the outline without the products.
CREATE INDEX register_items_products ON register_items (council_id, parent_id) WHERE kind = 'product';
CREATE INDEX register_items_outline ON register_items (council_id, position, id) WHERE kind <> 'product';
