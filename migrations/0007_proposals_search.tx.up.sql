-- Search over proposals (public ones only: drafts stay their author's), and the
-- foreign key of debate_proposals now that the proposals table exists (0005).

CREATE INDEX proposals_fulltext ON proposals USING gin (council_id,
    (to_tsvector('fr_unaccent', title || ' ' || item_name || ' ' || outcome || ' ' || reason || ' ' || conditions || ' ' || rationale_md)))
    WHERE state <> 'brouillon';

ALTER TABLE debate_proposals
    ADD CONSTRAINT debate_proposals_proposal FOREIGN KEY (proposal_id, council_id) REFERENCES proposals (id, council_id) ON DELETE CASCADE;
