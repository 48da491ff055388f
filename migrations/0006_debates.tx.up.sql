-- The debate record: debates with context, synthesis and conclusion, their links
-- to register items and proposals, arguments with one level of replies and an
-- edit history, the backlog of requested debates (public suggestions and member
-- supports) and full-text search (French, accents ignored).

CREATE EXTENSION IF NOT EXISTS btree_gin;

ALTER TABLE debates
    ADD COLUMN context_md        text NOT NULL DEFAULT '' CHECK (length(context_md) <= 20000),
    ADD COLUMN context_html      text NOT NULL DEFAULT '',
    ADD COLUMN synthesis_md      text NOT NULL DEFAULT '' CHECK (length(synthesis_md) <= 20000),
    ADD COLUMN synthesis_html    text NOT NULL DEFAULT '',
    ADD COLUMN synthesis_by_id   bigint REFERENCES accounts (id),
    ADD COLUMN synthesis_by_name text NOT NULL DEFAULT '' CHECK (length(synthesis_by_name) <= 100),
    ADD COLUMN synthesis_at      timestamptz,
    ADD COLUMN conclusion_md     text NOT NULL DEFAULT '' CHECK (length(conclusion_md) <= 20000),
    ADD COLUMN conclusion_html   text NOT NULL DEFAULT '',
    ADD COLUMN opened_at         timestamptz,
    ADD COLUMN closed_at         timestamptz,
    ADD CONSTRAINT debates_closed_has_conclusion CHECK (state <> 'clos' OR (conclusion_md <> '' AND closed_at IS NOT NULL)),
    -- Searchable text: title first, then the question, then the context.
    ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('fr_unaccent', title), 'A') ||
        setweight(to_tsvector('fr_unaccent', question), 'B') ||
        setweight(to_tsvector('fr_unaccent', context_md || ' ' || synthesis_md || ' ' || conclusion_md), 'C')) STORED;
CREATE INDEX debates_search ON debates USING gin (council_id, search_doc);

-- Register items a debate bears on.
CREATE TABLE debate_register_items (
    council_id       bigint NOT NULL,
    debate_id        bigint NOT NULL,
    register_item_id bigint NOT NULL,
    PRIMARY KEY (debate_id, register_item_id),
    FOREIGN KEY (debate_id, council_id) REFERENCES debates (id, council_id) ON DELETE CASCADE,
    FOREIGN KEY (register_item_id, council_id) REFERENCES register_items (id, council_id)
);

-- Proposals a debate bears on. The foreign key to proposals is added by a later
-- migration once the proposals table exists.
CREATE TABLE debate_proposals (
    council_id  bigint NOT NULL,
    debate_id   bigint NOT NULL,
    proposal_id bigint NOT NULL,
    PRIMARY KEY (debate_id, proposal_id),
    FOREIGN KEY (debate_id, council_id) REFERENCES debates (id, council_id) ON DELETE CASCADE
);

-- Arguments. A reply points at a top-level argument of the same debate: the
-- foreign key on (parent_id, debate_id, parent_is_reply) with parent_is_reply
-- always false makes "one level of replies" a schema invariant.
CREATE TABLE arguments (
    id              bigserial PRIMARY KEY,
    council_id      bigint NOT NULL,
    debate_id       bigint NOT NULL,
    parent_id       bigint,
    is_reply        boolean GENERATED ALWAYS AS (parent_id IS NOT NULL) STORED,
    parent_is_reply boolean NOT NULL DEFAULT false CHECK (NOT parent_is_reply),
    stance          text NOT NULL CHECK (stance IN ('pour', 'contre', 'nuance', 'question', 'fait_source')),
    criterion_id    bigint REFERENCES criteria (id),
    body_md         text NOT NULL CHECK (length(body_md) BETWEEN 1 AND 10000),
    body_html       text NOT NULL,
    body_text       text NOT NULL DEFAULT '',
    -- Demo arguments have no account: author_id is NULL and author_name shows.
    author_id       bigint REFERENCES accounts (id),
    author_name     text NOT NULL CHECK (length(author_name) BETWEEN 1 AND 100),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    edited_at       timestamptz,
    hidden_at       timestamptz,
    hidden_by_id    bigint REFERENCES accounts (id),
    hidden_by_name  text NOT NULL DEFAULT '' CHECK (length(hidden_by_name) <= 100),
    hidden_reason   text NOT NULL DEFAULT '' CHECK (length(hidden_reason) <= 500),
    is_demo         boolean NOT NULL DEFAULT false,
    search_doc      tsvector GENERATED ALWAYS AS (to_tsvector('fr_unaccent', body_text)) STORED,
    UNIQUE (id, council_id),
    UNIQUE (id, debate_id, is_reply),
    FOREIGN KEY (debate_id, council_id) REFERENCES debates (id, council_id) ON DELETE CASCADE,
    FOREIGN KEY (parent_id, debate_id, parent_is_reply) REFERENCES arguments (id, debate_id, is_reply),
    CHECK ((hidden_at IS NULL) = (hidden_reason = '')),
    CHECK (author_id IS NOT NULL OR is_demo)
);
CREATE INDEX arguments_debate ON arguments (debate_id, created_at, id);
-- One council's arguments, for search plans that intersect it with the text index.
CREATE INDEX arguments_council ON arguments (council_id);
CREATE INDEX arguments_search ON arguments USING gin (council_id, search_doc) WHERE hidden_at IS NULL;

-- Earlier versions of an argument, one row per edit: the text before the edit.
CREATE TABLE argument_revisions (
    id           bigserial PRIMARY KEY,
    council_id   bigint NOT NULL,
    argument_id  bigint NOT NULL,
    stance       text NOT NULL,
    criterion_id bigint,
    body_md      text NOT NULL,
    body_html    text NOT NULL,
    written_at   timestamptz NOT NULL, -- when this earlier text was written
    replaced_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (argument_id, council_id) REFERENCES arguments (id, council_id) ON DELETE CASCADE
);
CREATE INDEX argument_revisions_argument ON argument_revisions (argument_id, id);

-- One support per member per requested debate.
CREATE TABLE debate_supports (
    council_id bigint NOT NULL,
    debate_id  bigint NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (debate_id, account_id),
    FOREIGN KEY (debate_id, council_id) REFERENCES debates (id, council_id) ON DELETE CASCADE
);
CREATE INDEX debate_supports_council ON debate_supports (council_id, debate_id);

-- Topics suggested by anyone through the public form, waiting for a facilitator.
CREATE TABLE debate_suggestions (
    id             bigserial PRIMARY KEY,
    council_id     bigint NOT NULL REFERENCES councils (id),
    title          text NOT NULL CHECK (length(title) BETWEEN 3 AND 200),
    question       text NOT NULL DEFAULT '' CHECK (length(question) <= 2000),
    theme          text NOT NULL CHECK (theme IN ('criteres', 'produits', 'points_de_vente', 'societe', 'transmission')),
    author_name    text NOT NULL DEFAULT '' CHECK (length(author_name) <= 100),
    status         text NOT NULL DEFAULT 'en_attente' CHECK (status IN ('en_attente', 'acceptee', 'refusee')),
    debate_id      bigint,
    reviewed_by_id bigint REFERENCES accounts (id),
    reviewed_at    timestamptz,
    review_note    text NOT NULL DEFAULT '' CHECK (length(review_note) <= 500),
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (debate_id, council_id) REFERENCES debates (id, council_id),
    CHECK ((status = 'acceptee') = (debate_id IS NOT NULL)),
    CHECK ((status = 'en_attente') = (reviewed_at IS NULL))
);
CREATE INDEX debate_suggestions_pending ON debate_suggestions (council_id, created_at) WHERE status = 'en_attente';

-- Search over the register's items: name, reasons, conditions and explanation.
CREATE INDEX register_items_fulltext ON register_items USING gin (council_id,
    (to_tsvector('fr_unaccent', name || ' ' || conditions || ' ' || reason || ' ' || explanation_md)));
