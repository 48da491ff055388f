-- Meetings (séances), their ordered agenda, attendance and the council's quorum
-- rule; votes with their options and ballots; decisions; minutes.

-- Each council's quorum rule: a number of present members, or a share (percent)
-- of the active members; and whether a vote may open without quorum.
CREATE TABLE meeting_rules (
    council_id          bigint PRIMARY KEY REFERENCES councils (id),
    quorum_kind         text NOT NULL DEFAULT 'share' CHECK (quorum_kind IN ('count', 'share')),
    quorum_count        integer NOT NULL DEFAULT 0 CHECK (quorum_count BETWEEN 0 AND 10000),
    quorum_percent      integer NOT NULL DEFAULT 50 CHECK (quorum_percent BETWEEN 0 AND 100),
    vote_without_quorum boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meetings (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL REFERENCES councils (id),
    uid         uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE, -- stable iCalendar UID
    sequence    integer NOT NULL DEFAULT 0 CHECK (sequence >= 0), -- iCalendar SEQUENCE
    title       text NOT NULL CHECK (length(title) BETWEEN 3 AND 200),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    place       text NOT NULL DEFAULT '' CHECK (length(place) <= 300),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    state       text NOT NULL DEFAULT 'prevue' CHECK (state IN ('prevue', 'en_cours', 'close')),
    opened_at   timestamptz,
    closed_at   timestamptz,
    demo_key    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, council_id),
    UNIQUE (council_id, demo_key),
    CHECK (ends_at > starts_at),
    CHECK (state = 'prevue' OR opened_at IS NOT NULL),
    CHECK ((state = 'close') = (closed_at IS NOT NULL))
);
CREATE INDEX meetings_council_start ON meetings (council_id, starts_at);

-- The ordered agenda: proposals, debates and free items.
CREATE TABLE agenda_items (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL,
    meeting_id  bigint NOT NULL,
    position    integer NOT NULL CHECK (position > 0),
    kind        text NOT NULL CHECK (kind IN ('proposal', 'debate', 'free')),
    proposal_id bigint,
    debate_id   bigint,
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    notes       text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    minutes     integer NOT NULL DEFAULT 0 CHECK (minutes BETWEEN 0 AND 600), -- planned duration
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, position) DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (id, council_id),
    UNIQUE (id, meeting_id),
    FOREIGN KEY (meeting_id, council_id) REFERENCES meetings (id, council_id) ON DELETE CASCADE,
    FOREIGN KEY (debate_id, council_id) REFERENCES debates (id, council_id),
    FOREIGN KEY (proposal_id, council_id) REFERENCES proposals (id, council_id),
    CHECK ((kind = 'proposal') = (proposal_id IS NOT NULL)),
    CHECK ((kind = 'debate') = (debate_id IS NOT NULL))
);

-- The roll: one row per member and meeting (member_id is an account id).
CREATE TABLE attendances (
    council_id  bigint NOT NULL,
    meeting_id  bigint NOT NULL,
    member_id   bigint NOT NULL REFERENCES accounts (id),
    status      text NOT NULL CHECK (status IN ('present', 'excuse', 'absent')),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, member_id),
    FOREIGN KEY (meeting_id, council_id) REFERENCES meetings (id, council_id) ON DELETE CASCADE
);

-- A vote on an agenda item. The tally is computed and stored by the close, in
-- the transaction that sets state = 'clos'.
CREATE TABLE votes (
    id             bigserial PRIMARY KEY,
    council_id     bigint NOT NULL,
    meeting_id     bigint NOT NULL,
    agenda_item_id bigint NOT NULL,
    question       text NOT NULL CHECK (length(question) BETWEEN 3 AND 300),
    method         text NOT NULL CHECK (method IN ('majorite', 'consentement', 'jugement')),
    mode           text NOT NULL CHECK (mode IN ('en_ligne', 'en_salle')),
    secrecy        text NOT NULL CHECK (secrecy IN ('nominatif', 'anonyme')),
    threshold      text NOT NULL DEFAULT 'exprimes' CHECK (threshold IN ('exprimes', 'deux_tiers', 'presents')),
    state          text NOT NULL DEFAULT 'ouvert' CHECK (state IN ('ouvert', 'clos')),
    opened_at      timestamptz NOT NULL DEFAULT now(),
    closes_at      timestamptz, -- end of an online time window, if any
    closed_at      timestamptz,
    tally          jsonb,
    ballot_count   integer CHECK (ballot_count >= 0),
    outcome        text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'adopte', 'rejete')),
    winner_option  integer, -- majority judgment: the winning option's position
    demo_key       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, council_id),
    UNIQUE (council_id, demo_key),
    FOREIGN KEY (meeting_id, council_id) REFERENCES meetings (id, council_id),
    FOREIGN KEY (agenda_item_id, meeting_id) REFERENCES agenda_items (id, meeting_id),
    CHECK ((state = 'clos') = (closed_at IS NOT NULL AND tally IS NOT NULL AND ballot_count IS NOT NULL)),
    CHECK (state = 'ouvert' OR outcome <> ''),
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);
CREATE INDEX votes_meeting ON votes (council_id, meeting_id);

-- Majority judgment: the options graded (e.g. conventionner / sous conditions /
-- ne pas conventionner). effect names the register status an option stands for.
CREATE TABLE vote_options (
    council_id bigint NOT NULL,
    vote_id    bigint NOT NULL,
    position   integer NOT NULL CHECK (position BETWEEN 1 AND 20),
    label      text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    effect     text NOT NULL DEFAULT '' CHECK (effect IN ('', 'conventionne', 'sous_conditions', 'non_conventionne', 'debat_souhaite', 'ajourner')),
    PRIMARY KEY (vote_id, position),
    FOREIGN KEY (vote_id, council_id) REFERENCES votes (id, council_id) ON DELETE CASCADE
);

-- One ballot per member and vote; changeable until the close. For an anonymous
-- vote member_id only enforces "one ballot per member" and is never shown.
CREATE TABLE ballots (
    id         bigserial PRIMARY KEY,
    council_id bigint NOT NULL,
    vote_id    bigint NOT NULL,
    member_id  bigint NOT NULL REFERENCES accounts (id),
    choice     text NOT NULL DEFAULT '' CHECK (choice IN ('', 'pour', 'contre', 'abstention', 'consentement', 'objection')),
    reason     text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    grades     smallint[] NOT NULL DEFAULT '{}', -- majority judgment: one grade (1–7) per option, by position
    cast_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    changes    integer NOT NULL DEFAULT 0 CHECK (changes >= 0),
    UNIQUE (vote_id, member_id),
    FOREIGN KEY (vote_id, council_id) REFERENCES votes (id, council_id),
    CHECK (choice <> 'objection' OR length(btrim(reason)) > 0),
    CHECK ((choice = '') = (cardinality(grades) > 0)),
    CHECK (array_position(grades, NULL) IS NULL AND 1 <= ALL (grades) AND 7 >= ALL (grades))
);

-- No ballot is written once its vote is closed, whatever the code path.
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

CREATE FUNCTION meetings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;
-- Ballots of a closed vote are history.
CREATE FUNCTION ballots_keep_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM votes WHERE id = OLD.vote_id AND state = 'clos') THEN
        RAISE EXCEPTION 'vote % is closed: ballots are kept', OLD.vote_id;
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER ballots_keep_closed BEFORE DELETE ON ballots
    FOR EACH ROW EXECUTE FUNCTION ballots_keep_closed();

-- A closed vote never changes.
CREATE FUNCTION votes_closed_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'clos' THEN
        RAISE EXCEPTION 'vote % is closed: it cannot change', OLD.id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER votes_closed_frozen BEFORE UPDATE ON votes
    FOR EACH ROW EXECUTE FUNCTION votes_closed_frozen();

-- A decision of the council: recorded when a vote on a proposal closes, append-only.
CREATE TABLE decisions (
    id               bigserial PRIMARY KEY,
    council_id       bigint NOT NULL,
    meeting_id       bigint NOT NULL,
    vote_id          bigint UNIQUE,
    agenda_item_id   bigint NOT NULL,
    proposal_id      bigint,
    outcome          text NOT NULL CHECK (outcome IN ('adoptee', 'rejetee', 'ajournee')),
    title            text NOT NULL CHECK (length(title) BETWEEN 3 AND 300),
    motivation_md    text NOT NULL CHECK (length(motivation_md) BETWEEN 1 AND 20000),
    motivation_html  text NOT NULL,
    register_version integer, -- the version the decision created (adopted register changes)
    decided_at       timestamptz NOT NULL,
    effective_on     date,
    actor_id         bigint REFERENCES accounts (id),
    actor_name       text NOT NULL DEFAULT '' CHECK (length(actor_name) <= 100),
    demo_key         text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, council_id),
    UNIQUE (council_id, demo_key),
    UNIQUE (council_id, register_version),
    FOREIGN KEY (meeting_id, council_id) REFERENCES meetings (id, council_id),
    FOREIGN KEY (vote_id, council_id) REFERENCES votes (id, council_id),
    FOREIGN KEY (agenda_item_id, meeting_id) REFERENCES agenda_items (id, meeting_id),
    FOREIGN KEY (council_id, register_version) REFERENCES register_versions (council_id, number),
    FOREIGN KEY (proposal_id, council_id) REFERENCES proposals (id, council_id),
    CHECK (outcome = 'adoptee' OR register_version IS NULL)
);
CREATE INDEX decisions_council ON decisions (council_id, decided_at DESC);
CREATE INDEX decisions_proposal ON decisions (council_id, proposal_id);
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION meetings_append_only();

-- Minutes (compte rendu): drafted from the meeting, edited by the facilitator,
-- approved at a later meeting, public once approved.
CREATE TABLE minutes (
    council_id       bigint NOT NULL,
    meeting_id       bigint PRIMARY KEY,
    body_md          text NOT NULL CHECK (length(body_md) <= 100000),
    body_html        text NOT NULL,
    state            text NOT NULL DEFAULT 'brouillon' CHECK (state IN ('brouillon', 'approuve')),
    approved_at      timestamptz,
    approved_in_id   bigint, -- the meeting that approved them
    edited_by_name   text NOT NULL DEFAULT '' CHECK (length(edited_by_name) <= 100),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (meeting_id, council_id) REFERENCES meetings (id, council_id) ON DELETE CASCADE,
    FOREIGN KEY (approved_in_id, council_id) REFERENCES meetings (id, council_id),
    CHECK ((state = 'approuve') = (approved_at IS NOT NULL AND approved_in_id IS NOT NULL)),
    CHECK (approved_in_id IS NULL OR approved_in_id <> meeting_id)
);
