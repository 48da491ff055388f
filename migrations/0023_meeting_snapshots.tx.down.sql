ALTER TABLE votes
    DROP CONSTRAINT votes_quorum_snapshot,
    DROP COLUMN quorum_members,
    DROP COLUMN quorum_present,
    DROP COLUMN quorum_required,
    DROP COLUMN quorum_rule;

ALTER TABLE meetings
    DROP CONSTRAINT meetings_quorum_snapshot,
    DROP COLUMN quorum_members,
    DROP COLUMN quorum_required,
    DROP COLUMN quorum_rule,
    DROP COLUMN planned_starts_at;
