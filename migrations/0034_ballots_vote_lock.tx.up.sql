-- Issue 22, point 4: ballots_vote_open (0008) ran once per ballot row, twice
-- for a changed ballot (BEFORE INSERT, then BEFORE UPDATE of the conflicting
-- row), each time a query taking the vote row FOR SHARE: 64 lock queries for a
-- batch of 32 changed ballots. The check now runs once per statement, over the
-- rows it wrote (transition tables), and locks each vote of the statement once.
--
-- The invariant is unchanged: no ballot is written to a vote that is not open,
-- whatever the code path. The close takes the vote row FOR UPDATE
-- (assembly.lockVote) and counts the ballots in the same transaction. A
-- statement writing ballots takes the rows of their votes FOR SHARE before it
-- ends, in vote id order: if the close holds the row, the lock waits for the
-- close to commit, then reads the vote as the close left it (READ COMMITTED
-- follows the updated row) and fails the whole statement; if the ballots'
-- transaction holds it, the close waits for it to commit, then counts its
-- ballots. The rows are written before the lock is taken, which changes
-- nothing: nobody sees them before the commit, and the statement that wrote
-- them fails if the vote is closed.
DROP TRIGGER ballots_vote_open ON ballots;
DROP FUNCTION ballots_vote_open();

CREATE FUNCTION ballots_votes_open() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    vote record;
BEGIN
    -- The lock's query filters on the ids only: a condition on the state here
    -- would be checked on the version the statement's snapshot sees, before
    -- the lock, and skip the row (a subquery's outer condition is pushed down
    -- below the lock too). The loop reads the state of the row it locked,
    -- which is the close's once the close has committed.
    FOR vote IN
        SELECT v.id, v.state FROM votes v
        WHERE v.id = ANY (ARRAY(SELECT DISTINCT w.vote_id FROM written w))
        ORDER BY v.id
        FOR SHARE
    LOOP
        IF vote.state IS DISTINCT FROM 'ouvert' THEN
            RAISE EXCEPTION 'vote % is closed: ballot refused', vote.id USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
-- A trigger with transition tables has one event: one for the new ballots,
-- one for the changed ones (INSERT … ON CONFLICT DO UPDATE fires both).
CREATE TRIGGER ballots_votes_open_insert AFTER INSERT ON ballots
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION ballots_votes_open();
CREATE TRIGGER ballots_votes_open_update AFTER UPDATE ON ballots
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION ballots_votes_open();
