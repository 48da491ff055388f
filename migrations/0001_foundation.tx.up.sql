-- Foundation: councils, the versioned boussole, the register's items, points de
-- vente and the backlog of requested debates. Later migrations extend these.

CREATE EXTENSION IF NOT EXISTS unaccent;

-- French full-text search that ignores accents and ligatures ("oeufs" finds
-- "Œufs", "peche" finds "pêche"). Use it as to_tsvector('fr_unaccent', …): with a
-- constant configuration that expression is immutable, so it can be indexed.
CREATE TEXT SEARCH CONFIGURATION fr_unaccent (COPY = french);
ALTER TEXT SEARCH CONFIGURATION fr_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;

-- One instance hosts several caisses; every domain row carries council_id.
CREATE TABLE councils (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,59}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    caisse_name text NOT NULL DEFAULT '' CHECK (length(caisse_name) <= 200),
    territory   text NOT NULL DEFAULT '' CHECK (length(territory) <= 200),
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- At most one default council: the one served when no host matches.
CREATE UNIQUE INDEX councils_single_default ON councils (is_default) WHERE is_default;

-- Host names that select a council (lower case, without port).
CREATE TABLE council_hosts (
    host       text PRIMARY KEY CHECK (host = lower(host) AND length(host) BETWEEN 1 AND 253),
    council_id bigint NOT NULL REFERENCES councils (id) ON DELETE CASCADE
);

-- The boussole changes over time; a score always refers to the version it was given against.
CREATE TABLE boussole_versions (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL REFERENCES councils (id),
    number      integer NOT NULL CHECK (number > 0),
    adopted_on  date NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, number),
    UNIQUE (id, council_id)
);

CREATE TABLE criterion_groups (
    id                  bigserial PRIMARY KEY,
    council_id          bigint NOT NULL,
    boussole_version_id bigint NOT NULL,
    position            integer NOT NULL CHECK (position > 0),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    UNIQUE (boussole_version_id, position),
    UNIQUE (id, boussole_version_id),
    FOREIGN KEY (boussole_version_id, council_id) REFERENCES boussole_versions (id, council_id)
);

CREATE TABLE criteria (
    id                  bigserial PRIMARY KEY,
    council_id          bigint NOT NULL,
    boussole_version_id bigint NOT NULL,
    group_id            bigint NOT NULL,
    position            integer NOT NULL CHECK (position > 0),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    UNIQUE (boussole_version_id, position),
    FOREIGN KEY (boussole_version_id, council_id) REFERENCES boussole_versions (id, council_id),
    FOREIGN KEY (group_id, boussole_version_id) REFERENCES criterion_groups (id, boussole_version_id)
);

-- The register: families > categories > products, each with its conventionnement status.
CREATE TABLE register_items (
    id               bigserial PRIMARY KEY,
    council_id       bigint NOT NULL REFERENCES councils (id),
    parent_id        bigint,
    kind             text NOT NULL CHECK (kind IN ('family', 'category', 'product')),
    slug             text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,119}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    position         integer NOT NULL DEFAULT 0,
    status           text NOT NULL CHECK (status IN ('conventionne', 'sous_conditions', 'non_conventionne', 'debat_souhaite')),
    conditions       text NOT NULL DEFAULT '' CHECK (length(conditions) <= 2000),
    review_on        date,
    reason           text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    explanation_md   text NOT NULL DEFAULT '' CHECK (length(explanation_md) <= 20000),
    explanation_html text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, slug),
    UNIQUE (id, council_id),
    FOREIGN KEY (parent_id, council_id) REFERENCES register_items (id, council_id),
    CHECK ((kind = 'family') = (parent_id IS NULL)),
    -- Conditions belong to "sous conditions", a reason to "non conventionné".
    CHECK (status <> 'sous_conditions' OR conditions <> ''),
    CHECK (status <> 'non_conventionne' OR reason <> '')
);
CREATE INDEX register_items_parent ON register_items (council_id, parent_id, position);

-- Points de vente.
CREATE TABLE shops (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL REFERENCES councils (id),
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,119}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('marche', 'epicerie', 'producteur', 'boulangerie', 'supermarche', 'magasin_franchise', 'autre')),
    address     text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    commune     text NOT NULL CHECK (length(commune) BETWEEN 1 AND 120),
    hours       text NOT NULL DEFAULT '' CHECK (length(hours) <= 500),
    status      text NOT NULL CHECK (status IN ('candidat', 'conventionne', 'suspendu', 'retire')),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, slug),
    UNIQUE (id, council_id)
);

-- Debates, starting with those the council asked for but has not held yet.
CREATE TABLE debates (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL REFERENCES councils (id),
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,119}$'),
    theme       text NOT NULL CHECK (theme IN ('criteres', 'produits', 'points_de_vente', 'societe', 'transmission')),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    question    text NOT NULL DEFAULT '' CHECK (length(question) <= 2000),
    state       text NOT NULL DEFAULT 'souhaite' CHECK (state IN ('souhaite', 'ouvert', 'clos')),
    is_demo     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, slug),
    UNIQUE (id, council_id)
);
CREATE INDEX debates_state ON debates (council_id, state);
