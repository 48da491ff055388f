DROP TABLE IF EXISTS proposal_scores;
ALTER TABLE criteria DROP CONSTRAINT IF EXISTS criteria_id_version_key;
DROP TABLE IF EXISTS proposal_events;
DROP TABLE IF EXISTS proposals;
