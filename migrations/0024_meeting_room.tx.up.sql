-- Issue 19, points 7–10: proxies, paper ballots by name, corrections in the
-- open, minutes amended by attendees then frozen.

-- How many proxies one member may hold at a meeting, and whether the members
-- represented count towards the quorum.
ALTER TABLE meeting_rules
    ADD COLUMN proxies_per_holder integer NOT NULL DEFAULT 1 CHECK (proxies_per_holder BETWEEN 0 AND 10),
    ADD COLUMN proxies_in_quorum  boolean NOT NULL DEFAULT true;

-- A proxy (procuration): a member who cannot come lets another member vote
-- for them at one meeting. Revoked by its giver (or the facilitator) until
-- the roll; it falls when its giver is marked present. History is kept: an
-- ended proxy keeps its row.
CREATE TABLE proxies (
    id             bigserial PRIMARY KEY,
    council_id     bigint NOT NULL,
    meeting_id     bigint NOT NULL,
    giver_id       bigint NOT NULL REFERENCES accounts (id),
    holder_id      bigint NOT NULL REFERENCES accounts (id),
    source         text NOT NULL CHECK (source IN ('site', 'papier')), -- given on the site, or recorded from a signed paper
    recorded_by_id bigint REFERENCES accounts (id),
    state          text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoquee', 'tombee')),
    given_at       timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,
    CHECK (giver_id <> holder_id),
    CHECK ((state = 'active') = (ended_at IS NULL)),
    FOREIGN KEY (meeting_id, council_id) REFERENCES meetings (id, council_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX proxies_one_active ON proxies (meeting_id, giver_id) WHERE state = 'active';
CREATE INDEX proxies_holder ON proxies (meeting_id, holder_id) WHERE state = 'active';

-- Who entered a ballot when it was not its member: the holder of their proxy
-- ('procuration') or the facilitator from a paper ballot ('papier').
ALTER TABLE ballots
    ADD COLUMN via        text NOT NULL DEFAULT '' CHECK (via IN ('', 'procuration', 'papier')),
    ADD COLUMN cast_by_id bigint REFERENCES accounts (id),
    ADD CONSTRAINT ballots_via_cast_by CHECK ((via = '') = (cast_by_id IS NULL));

-- A rectifying decision supersedes a published one, which is never edited.
ALTER TABLE decisions
    ADD COLUMN supersedes_id        bigint UNIQUE,
    ADD COLUMN rectification_reason text NOT NULL DEFAULT '' CHECK (length(rectification_reason) <= 2000),
    ADD CONSTRAINT decisions_supersedes FOREIGN KEY (supersedes_id, council_id) REFERENCES decisions (id, council_id),
    ADD CONSTRAINT decisions_rectification_reason CHECK (supersedes_id IS NULL OR length(btrim(rectification_reason)) > 0);

-- Minutes: the SHA-256 of the approved text, and no change once approved.
-- Minutes approved before this migration get the hash of their text as it is.
ALTER TABLE minutes ADD COLUMN body_sha256 text CHECK (body_sha256 IS NULL OR body_sha256 ~ '^[0-9a-f]{64}$');
UPDATE minutes SET body_sha256 = encode(sha256(convert_to(body_md, 'UTF8')), 'hex') WHERE state = 'approuve';
ALTER TABLE minutes ADD CONSTRAINT minutes_approved_hash CHECK (state <> 'approuve' OR body_sha256 IS NOT NULL);
CREATE FUNCTION minutes_approved_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'approuve' THEN
        RAISE EXCEPTION 'minutes of meeting % are approved: they cannot change', OLD.meeting_id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER minutes_approved_frozen BEFORE UPDATE ON minutes
    FOR EACH ROW EXECUTE FUNCTION minutes_approved_frozen();

-- An amendment a member present at the meeting suggests to its draft minutes:
-- replace a passage by another; the facilitator accepts it (the draft
-- changes) or refuses it, with a reason.
CREATE TABLE minutes_amendments (
    id            bigserial PRIMARY KEY,
    council_id    bigint NOT NULL,
    meeting_id    bigint NOT NULL REFERENCES minutes (meeting_id) ON DELETE CASCADE,
    author_id     bigint NOT NULL REFERENCES accounts (id),
    passage       text NOT NULL CHECK (length(passage) BETWEEN 1 AND 5000),
    replacement   text NOT NULL CHECK (length(replacement) <= 5000),
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    state         text NOT NULL DEFAULT 'propose' CHECK (state IN ('propose', 'accepte', 'refuse')),
    answer        text NOT NULL DEFAULT '' CHECK (length(answer) <= 2000),
    answered_by_id bigint REFERENCES accounts (id),
    answered_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'propose') = (answered_at IS NULL)),
    CHECK (state <> 'refuse' OR length(btrim(answer)) > 0),
    FOREIGN KEY (meeting_id, council_id) REFERENCES meetings (id, council_id) ON DELETE CASCADE
);
CREATE INDEX minutes_amendments_meeting ON minutes_amendments (meeting_id, id);
