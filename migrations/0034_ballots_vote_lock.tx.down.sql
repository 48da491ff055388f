DROP TRIGGER ballots_votes_open_update ON ballots;
DROP TRIGGER ballots_votes_open_insert ON ballots;
DROP FUNCTION ballots_votes_open();

CREATE FUNCTION ballots_vote_open() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    SELECT state INTO st FROM votes WHERE id = NEW.vote_id FOR SHARE;
    IF st IS DISTINCT FROM 'ouvert' THEN
        RAISE EXCEPTION 'vote % is closed: ballot refused', NEW.vote_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER ballots_vote_open BEFORE INSERT OR UPDATE ON ballots
    FOR EACH ROW EXECUTE FUNCTION ballots_vote_open();
