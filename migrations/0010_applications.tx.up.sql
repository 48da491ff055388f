-- Shops apply to become points de vente (issue 8): the council's versioned
-- charte d'engagement, the convention settings, applications with their private
-- follow-up token (only its hash is stored) and the messages around them.

CREATE TABLE charters (
    id         bigserial PRIMARY KEY,
    council_id bigint NOT NULL REFERENCES councils (id),
    version    integer NOT NULL CHECK (version >= 1),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body_md    text NOT NULL CHECK (length(body_md) BETWEEN 1 AND 20000),
    body_html  text NOT NULL,
    author_id  bigint REFERENCES accounts (id),
    author_name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, version),
    UNIQUE (id, council_id)
);

-- Per-council convention settings; no row means the defaults.
CREATE TABLE convention_settings (
    council_id     bigint PRIMARY KEY REFERENCES councils (id),
    renewal_months integer NOT NULL DEFAULT 12 CHECK (renewal_months BETWEEN 1 AND 60),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shop_applications (
    id                  bigserial PRIMARY KEY,
    council_id          bigint NOT NULL REFERENCES councils (id),
    token_hash          bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    state               text NOT NULL DEFAULT 'nouvelle'
                        CHECK (state IN ('nouvelle', 'en_examen', 'a_completer', 'proposee', 'acceptee', 'refusee')),
    shop_name           text NOT NULL CHECK (length(shop_name) BETWEEN 1 AND 200),
    kind                text NOT NULL CHECK (kind IN ('marche', 'epicerie', 'producteur', 'boulangerie', 'supermarche', 'magasin_franchise', 'autre')),
    siret               text NOT NULL DEFAULT '' CHECK (siret = '' OR siret ~ '^[0-9]{14}$'),
    address             text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    commune             text NOT NULL CHECK (length(commune) BETWEEN 1 AND 120),
    contact_name        text NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 200),
    email               text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    phone               text NOT NULL DEFAULT '' CHECK (length(phone) <= 30),
    website             text NOT NULL DEFAULT '' CHECK (length(website) <= 300),
    network             text NOT NULL DEFAULT '' CHECK (length(network) <= 200),
    categories          text[] NOT NULL DEFAULT '{}',
    local_share         smallint NOT NULL CHECK (local_share BETWEEN 0 AND 100),
    organic_share       smallint NOT NULL CHECK (organic_share BETWEEN 0 AND 100),
    seasonality         text NOT NULL DEFAULT '' CHECK (length(seasonality) <= 2000),
    message             text NOT NULL DEFAULT '' CHECK (length(message) <= 5000),
    charter_id          bigint NOT NULL,
    charter_version     integer NOT NULL,
    charter_accepted_at timestamptz NOT NULL,
    duplicate_of        bigint,
    proposal_id         bigint,
    shop_id             bigint,
    demo_key            text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, council_id),
    UNIQUE (council_id, demo_key),
    FOREIGN KEY (charter_id, council_id) REFERENCES charters (id, council_id),
    FOREIGN KEY (proposal_id, council_id) REFERENCES proposals (id, council_id),
    FOREIGN KEY (shop_id, council_id) REFERENCES shops (id, council_id),
    FOREIGN KEY (duplicate_of, council_id) REFERENCES shop_applications (id, council_id),
    CHECK (state <> 'proposee' OR proposal_id IS NOT NULL)
);
CREATE INDEX shop_applications_list ON shop_applications (council_id, state, created_at DESC);
CREATE INDEX shop_applications_siret ON shop_applications (council_id, siret) WHERE siret <> '';
CREATE INDEX shop_applications_name ON shop_applications (council_id, lower(shop_name), lower(commune));

-- Questions from the council, answers from the shop, internal comments (never
-- shown to the shop). Append-only.
CREATE TABLE application_messages (
    id             bigserial PRIMARY KEY,
    council_id     bigint NOT NULL,
    application_id bigint NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('question', 'reponse', 'commentaire')),
    body           text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    author_id      bigint REFERENCES accounts (id),
    author_name    text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (application_id, council_id) REFERENCES shop_applications (id, council_id) ON DELETE CASCADE
);
CREATE INDEX application_messages_thread ON application_messages (council_id, application_id, id);
