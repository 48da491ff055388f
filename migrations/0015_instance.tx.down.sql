DROP TABLE proposal_register_changes;
DELETE FROM proposals WHERE kind = 'register_initial';
ALTER TABLE proposals DROP CONSTRAINT proposals_kind_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_kind_check CHECK (kind IN ('item_new', 'item_status', 'shop_adhesion',
    'shop_suspension', 'shop_withdrawal', 'criteria', 'boussole'));
ALTER TABLE councils
    DROP COLUMN commune, DROP COLUMN contact_email, DROP COLUMN timezone, DROP COLUMN state,
    DROP COLUMN presentation_md, DROP COLUMN presentation_html, DROP COLUMN register_public;
DROP TABLE operators;
