-- Proposals put to the council, their timeline, and the members' scores against
-- the boussole.

CREATE TABLE proposals (
    id               bigserial PRIMARY KEY,
    council_id       bigint NOT NULL REFERENCES councils (id),
    kind             text NOT NULL CHECK (kind IN ('item_new', 'item_status', 'shop_adhesion', 'shop_suspension',
                                                   'shop_withdrawal', 'criteria', 'boussole')),
    state            text NOT NULL DEFAULT 'brouillon' CHECK (state IN ('brouillon', 'ouverte', 'inscrite', 'en_vote',
                                                   'adoptee', 'rejetee', 'ajournee', 'appliquee', 'retiree')),
    title            text NOT NULL CHECK (length(title) BETWEEN 3 AND 200),
    target_item_id   bigint, -- the item whose status changes, or the parent of a new item
    target_shop_id   bigint,
    item_name        text NOT NULL DEFAULT '' CHECK (length(item_name) <= 200), -- the new item's name
    proposed_status  text NOT NULL DEFAULT '' CHECK (proposed_status IN ('', 'conventionne', 'sous_conditions',
                                                   'non_conventionne', 'debat_souhaite')),
    conditions       text NOT NULL DEFAULT '' CHECK (length(conditions) <= 2000),
    reason           text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    outcome          text NOT NULL CHECK (length(outcome) BETWEEN 1 AND 2000),
    rationale_md     text NOT NULL DEFAULT '' CHECK (length(rationale_md) <= 20000),
    rationale_html   text NOT NULL DEFAULT '',
    sources          text NOT NULL DEFAULT '' CHECK (length(sources) <= 5000),
    author_id        bigint REFERENCES accounts (id), -- NULL for demo proposals
    author_name      text NOT NULL CHECK (length(author_name) BETWEEN 1 AND 100),
    demo_key         text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, council_id),
    UNIQUE (council_id, demo_key),
    FOREIGN KEY (target_item_id, council_id) REFERENCES register_items (id, council_id),
    FOREIGN KEY (target_shop_id, council_id) REFERENCES shops (id, council_id),
    CHECK (kind <> 'item_new' OR (item_name <> '' AND proposed_status <> '')),
    CHECK (kind <> 'item_status' OR (target_item_id IS NOT NULL AND proposed_status <> '')),
    CHECK (kind NOT IN ('shop_adhesion', 'shop_suspension', 'shop_withdrawal') OR target_shop_id IS NOT NULL),
    CHECK (kind NOT IN ('criteria', 'boussole') OR (target_item_id IS NULL AND target_shop_id IS NULL)),
    CHECK (proposed_status <> 'sous_conditions' OR conditions <> ''),
    CHECK (proposed_status <> 'non_conventionne' OR reason <> '')
);
CREATE INDEX proposals_state ON proposals (council_id, state, updated_at DESC);

-- The timeline: one row per transition (the creation included), append-only.
CREATE TABLE proposal_events (
    id          bigserial PRIMARY KEY,
    council_id  bigint NOT NULL,
    proposal_id bigint NOT NULL,
    from_state  text NOT NULL DEFAULT '',
    to_state    text NOT NULL,
    actor_id    bigint REFERENCES accounts (id),
    actor_name  text NOT NULL,
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (proposal_id, council_id) REFERENCES proposals (id, council_id)
);
CREATE INDEX proposal_events_proposal ON proposal_events (proposal_id, id);

-- A score names its criterion and the boussole version of that criterion.
ALTER TABLE criteria ADD CONSTRAINT criteria_id_version_key UNIQUE (id, boussole_version_id);

-- One grade per (proposal, member, criterion); 0 is "sans avis", 1 "à rejeter"
-- … 7 "excellent".
CREATE TABLE proposal_scores (
    id                  bigserial PRIMARY KEY,
    council_id          bigint NOT NULL,
    proposal_id         bigint NOT NULL,
    account_id          bigint NOT NULL REFERENCES accounts (id),
    criterion_id        bigint NOT NULL,
    boussole_version_id bigint NOT NULL,
    grade               smallint NOT NULL CHECK (grade BETWEEN 0 AND 7),
    comment             text NOT NULL DEFAULT '' CHECK (length(comment) <= 500),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (proposal_id, account_id, criterion_id),
    FOREIGN KEY (proposal_id, council_id) REFERENCES proposals (id, council_id),
    FOREIGN KEY (boussole_version_id, council_id) REFERENCES boussole_versions (id, council_id),
    FOREIGN KEY (criterion_id, boussole_version_id) REFERENCES criteria (id, boussole_version_id)
);
CREATE INDEX proposal_scores_account ON proposal_scores (council_id, account_id);
