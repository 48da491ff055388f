ALTER TABLE debate_proposals DROP CONSTRAINT IF EXISTS debate_proposals_proposal;
DROP INDEX IF EXISTS proposals_fulltext;
