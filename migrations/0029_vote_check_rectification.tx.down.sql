ALTER TABLE agenda_items DROP CONSTRAINT agenda_items_rectification,
    DROP CONSTRAINT agenda_items_rectifies_fkey,
    DROP COLUMN rectify_reason,
    DROP COLUMN rectify_status,
    DROP COLUMN rectifies_id,
    DROP CONSTRAINT agenda_items_kind_check,
    ADD CONSTRAINT agenda_items_kind_check CHECK (kind IN ('proposal', 'debate', 'free'));

ALTER TABLE votes DROP CONSTRAINT votes_counted_has_tally,
    DROP CONSTRAINT votes_outcome_when_closed,
    ADD CONSTRAINT votes_check1 CHECK (state = 'ouvert' OR outcome <> ''),
    DROP CONSTRAINT votes_state_check,
    ADD CONSTRAINT votes_state_check CHECK (state IN ('ouvert', 'clos'));
