DROP TABLE minutes_amendments;
DROP TRIGGER minutes_approved_frozen ON minutes;
DROP FUNCTION minutes_approved_frozen();
ALTER TABLE minutes DROP CONSTRAINT minutes_approved_hash, DROP COLUMN body_sha256;
ALTER TABLE decisions DROP CONSTRAINT decisions_rectification_reason, DROP CONSTRAINT decisions_supersedes,
    DROP COLUMN rectification_reason, DROP COLUMN supersedes_id;
ALTER TABLE ballots DROP CONSTRAINT ballots_via_cast_by, DROP COLUMN cast_by_id, DROP COLUMN via;
DROP TABLE proxies;
ALTER TABLE meeting_rules DROP COLUMN proxies_in_quorum, DROP COLUMN proxies_per_holder;
