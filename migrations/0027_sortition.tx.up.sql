-- Sortition (issue #21): council seats drawn by lot among volunteers, with a
-- commitment published at closing and a draw anyone can re-run
-- (docs/sortition.md).

-- A draw: what the facilitator prepared (seats, term, strata and quotas, the
-- closing of volunteering, the public randomness fixed in advance), then the
-- commitment (canonical JSON and its SHA-256) and, once entered, the
-- randomness and the result. Once set, the commitment and the randomness
-- never change: the store refuses a second entry and the audit trail holds
-- both.
CREATE TABLE sortition_draws (
    id                bigserial PRIMARY KEY,
    council_id        bigint NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    slug              text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    seats             integer NOT NULL CHECK (seats BETWEEN 1 AND 200),
    reserves          integer NOT NULL CHECK (reserves BETWEEN 0 AND 1000),
    term_months       integer NOT NULL CHECK (term_months BETWEEN 1 AND 120),
    categories        jsonb NOT NULL,
    quotas            jsonb NOT NULL,
    source            jsonb NOT NULL,
    closes_at         timestamptz NOT NULL,
    state             text NOT NULL CHECK (state IN ('open', 'committed', 'drawn')),
    commitment        text,
    commitment_sha256 text CHECK (commitment_sha256 ~ '^[0-9a-f]{64}$'),
    committed_at      timestamptz,
    randomness        text,
    randomness_at     timestamptz,
    result            jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, slug),
    UNIQUE (id, council_id),
    CHECK ((state = 'open') = (commitment IS NULL)),
    CHECK ((commitment IS NULL) = (commitment_sha256 IS NULL) AND (commitment IS NULL) = (committed_at IS NULL)),
    CHECK ((state = 'drawn') = (randomness IS NOT NULL) AND (randomness IS NULL) = (result IS NULL)
           AND (randomness IS NULL) = (randomness_at IS NULL))
);

-- A volunteer for a draw. Name, email and commune are for the facilitators
-- only; the commitment shows only the pseudonym and the strata. The private
-- link's token is stored hashed. confirmed_at is set by the double opt-in;
-- personal fields are blanked (anonymised) once the draw is published and
-- the seats accepted.
CREATE TABLE sortition_volunteers (
    id           bigserial PRIMARY KEY,
    council_id   bigint NOT NULL,
    draw_id      bigint NOT NULL,
    pseudonym    text NOT NULL CHECK (pseudonym ~ '^[A-Z2-7]{4}-[A-Z2-7]{4}$'),
    name         text NOT NULL CHECK (length(name) <= 200),
    email        text NOT NULL CHECK (length(email) <= 320),
    commune      text NOT NULL CHECK (length(commune) <= 200),
    strata       jsonb NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    confirmed_at timestamptz,
    withdrawn_at timestamptz,
    anonymised_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (draw_id, council_id) REFERENCES sortition_draws (id, council_id) ON DELETE CASCADE,
    UNIQUE (draw_id, pseudonym)
);
-- One candidacy per address and draw (anonymised rows have an empty email).
CREATE UNIQUE INDEX sortition_volunteers_email ON sortition_volunteers (draw_id, lower(email)) WHERE email <> '';

-- A seat won by lot: the volunteer is invited to accept it; an accepted seat
-- runs until term_ends_at (the draw's term from acceptance) and ends by
-- itself; a declined seat is offered to the next on the reserve list
-- (replaces names the seat it takes over).
CREATE TABLE sortition_seats (
    id           bigserial PRIMARY KEY,
    council_id   bigint NOT NULL,
    draw_id      bigint NOT NULL,
    pseudonym    text NOT NULL,
    state        text NOT NULL CHECK (state IN ('invited', 'accepted', 'declined')),
    replaces     bigint REFERENCES sortition_seats (id),
    decided_at   timestamptz,
    term_ends_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (draw_id, council_id) REFERENCES sortition_draws (id, council_id) ON DELETE CASCADE,
    FOREIGN KEY (draw_id, pseudonym) REFERENCES sortition_volunteers (draw_id, pseudonym) ON DELETE CASCADE,
    UNIQUE (draw_id, pseudonym),
    CHECK ((state = 'invited') = (decided_at IS NULL)),
    CHECK ((state = 'accepted') = (term_ends_at IS NOT NULL))
);
