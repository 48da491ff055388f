-- The boussole as a living, versioned object, and the exchange format between
-- caisses (issue #16, points 4 and 5).

-- Each criterion asks a question and belongs to one of the three pillars of the
-- boussole. '' stays allowed for criteria of groups written before pillars
-- existed whose name names none of them.
ALTER TABLE criteria
    ADD COLUMN question text NOT NULL DEFAULT '' CHECK (length(question) <= 500),
    ADD COLUMN pillar   text NOT NULL DEFAULT '' CHECK (pillar IN ('', 'consommateurs', 'producteurs', 'systeme'));
UPDATE criteria AS c SET pillar = CASE
        WHEN g.name ILIKE '%consommat%' OR g.name ILIKE '%mangeu%' THEN 'consommateurs'
        WHEN g.name ILIKE '%producteur%' OR g.name ILIKE '%artisan%' THEN 'producteurs'
        WHEN g.name ILIKE '%syst%' THEN 'systeme'
        ELSE '' END
    FROM criterion_groups AS g
    WHERE g.id = c.group_id;

-- Versions and register versions copied from another council's exchange file
-- say where they came from ("importé de <council>, <date>").
ALTER TABLE boussole_versions
    ADD COLUMN imported_from text NOT NULL DEFAULT '' CHECK (length(imported_from) <= 200),
    ADD COLUMN imported_on   date,
    ADD CONSTRAINT boussole_versions_imported CHECK ((imported_from = '') = (imported_on IS NULL));
ALTER TABLE register_versions
    ADD COLUMN imported_from text NOT NULL DEFAULT '' CHECK (length(imported_from) <= 200),
    ADD COLUMN imported_on   date,
    ADD CONSTRAINT register_versions_imported CHECK ((imported_from = '') = (imported_on IS NULL));

-- A proposal of kind boussole carries the proposed criteria, in order.
ALTER TABLE proposals
    ADD COLUMN boussole_payload jsonb,
    ADD CONSTRAINT proposals_boussole_payload CHECK (boussole_payload IS NULL OR
        (kind = 'boussole' AND jsonb_typeof(boussole_payload) = 'array'));

-- proposal_scores.boussole_version_id exists since 0005 (NOT NULL, with its
-- foreign key): every score already records the version it was given under.

-- Decisions of another council, copied by an import: their public text only.
-- They have no meeting here, so they do not live in decisions.
CREATE TABLE imported_decisions (
    id               bigserial PRIMARY KEY,
    council_id       bigint NOT NULL REFERENCES councils (id),
    position         integer NOT NULL CHECK (position > 0),
    ref              text NOT NULL CHECK (length(ref) BETWEEN 1 AND 200),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    outcome          text NOT NULL CHECK (outcome IN ('adoptee', 'rejetee', 'ajournee')),
    decided_on       date NOT NULL,
    motivation_md    text NOT NULL DEFAULT '' CHECK (length(motivation_md) <= 20000),
    register_version integer,
    imported_from    text NOT NULL CHECK (length(imported_from) BETWEEN 1 AND 200),
    imported_on      date NOT NULL,
    UNIQUE (council_id, position),
    UNIQUE (council_id, ref)
);
