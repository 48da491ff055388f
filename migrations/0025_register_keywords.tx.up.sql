-- Issue 20: the words eaters type ("poisson", "gibier", "lait") that name a
-- register item without being in its name, comma-separated; the lookup
-- /puis-je-acheter matches them on French stems (catalog/match.go).
ALTER TABLE register_items ADD COLUMN keywords text NOT NULL DEFAULT ''
    CHECK (char_length(keywords) <= 2000);

-- The public explanation a proposal gives the register item it would change
-- (markdown): it becomes the item's explanation when the proposal is adopted;
-- without it, the decision's motivation does (governance/assembly).
ALTER TABLE proposals ADD COLUMN register_explanation_md text NOT NULL DEFAULT ''
    CHECK (char_length(register_explanation_md) <= 20000);

-- Why the council refused a shop's application, shown on the shop's
-- follow-up page: a refusal by hand requires it (governance/application).
ALTER TABLE shop_applications ADD COLUMN refusal_reason text NOT NULL DEFAULT ''
    CHECK (char_length(refusal_reason) <= 2000);

-- An explanation written for another status is never shown beside the new
-- one: from now on catalog.ApplyChange replaces or clears it with the status.
-- Items whose status changed since they were created still carry the
-- explanation written for their first status; clear it (the history and the
-- published versions keep it).
UPDATE register_items AS i SET explanation_md = '', explanation_html = ''
WHERE i.explanation_md <> '' AND i.status <> (
    SELECT h.status FROM register_item_history AS h
    WHERE h.item_id = i.id AND h.council_id = i.council_id
    ORDER BY h.version_number, h.id LIMIT 1);
