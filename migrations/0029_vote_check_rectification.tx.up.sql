-- Issue 19, point 9. An in-room vote's counts are checked before they are
-- published: closing a show of hands stores its tally as 'a_verifier' (no
-- outcome yet; ballots refused as for a closed vote); the facilitator may
-- correct the counts with a reason, then publishes, which sets 'clos'.
ALTER TABLE votes DROP CONSTRAINT votes_state_check,
    ADD CONSTRAINT votes_state_check CHECK (state IN ('ouvert', 'a_verifier', 'clos')),
    DROP CONSTRAINT votes_check1,
    ADD CONSTRAINT votes_outcome_when_closed CHECK (state <> 'clos' OR outcome <> ''),
    ADD CONSTRAINT votes_counted_has_tally CHECK (state <> 'a_verifier' OR (tally IS NOT NULL AND outcome = ''));

-- A voted rectification: an agenda item proposing to rectify a published
-- decision, with the register status it would set ('' keeps the status) and
-- why. Adopted, its vote records a decision that supersedes the original.
ALTER TABLE agenda_items DROP CONSTRAINT agenda_items_kind_check,
    ADD CONSTRAINT agenda_items_kind_check CHECK (kind IN ('proposal', 'debate', 'free', 'rectification')),
    ADD COLUMN rectifies_id bigint,
    ADD COLUMN rectify_status text NOT NULL DEFAULT ''
        CHECK (rectify_status IN ('', 'conventionne', 'sous_conditions', 'non_conventionne', 'debat_souhaite')),
    ADD COLUMN rectify_reason text NOT NULL DEFAULT '' CHECK (length(rectify_reason) <= 2000),
    ADD CONSTRAINT agenda_items_rectifies_fkey FOREIGN KEY (rectifies_id, council_id) REFERENCES decisions (id, council_id),
    ADD CONSTRAINT agenda_items_rectification CHECK ((kind = 'rectification') = (rectifies_id IS NOT NULL AND rectify_reason <> ''));
