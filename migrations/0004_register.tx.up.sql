-- The convention register, versioned: shop details and the categories each shop
-- carries, numbered immutable register versions, per-item status history, and the
-- per-council head that caches use to know when the register changed.

ALTER TABLE shops
    ADD COLUMN latitude   double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude  double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN contact    text NOT NULL DEFAULT '' CHECK (length(contact) <= 300),
    ADD COLUMN website    text NOT NULL DEFAULT '' CHECK (website = '' OR (website ~ '^https?://' AND length(website) <= 300)),
    -- '' means independent; otherwise the name of the network or franchise.
    ADD COLUMN network    text NOT NULL DEFAULT '' CHECK (length(network) <= 200),
    ADD COLUMN signed_on  date,
    ADD COLUMN renewal_on date,
    ADD CONSTRAINT shops_coordinates_pair CHECK ((latitude IS NULL) = (longitude IS NULL)),
    ADD CONSTRAINT shops_renewal_after_signature CHECK (renewal_on IS NULL OR signed_on IS NULL OR renewal_on >= signed_on);
CREATE INDEX shops_directory ON shops (council_id, status, commune);

-- The register categories (or families, or products) a point de vente carries.
CREATE TABLE shop_categories (
    council_id bigint NOT NULL,
    shop_id    bigint NOT NULL,
    item_id    bigint NOT NULL,
    PRIMARY KEY (shop_id, item_id),
    FOREIGN KEY (shop_id, council_id) REFERENCES shops (id, council_id) ON DELETE CASCADE,
    FOREIGN KEY (item_id, council_id) REFERENCES register_items (id, council_id)
);
CREATE INDEX shop_categories_item ON shop_categories (council_id, item_id);

-- Full-text search over item names ("Puis-je acheter… ?").
CREATE INDEX register_items_search ON register_items USING gin (to_tsvector('fr_unaccent', name));

-- One row per council: the current version number and a generation that also
-- moves on wording corrections. Caches compare generations.
CREATE TABLE register_heads (
    council_id bigint PRIMARY KEY REFERENCES councils (id),
    version    integer NOT NULL DEFAULT 0 CHECK (version >= 0),
    generation bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- Numbered, dated, immutable snapshots of the register.
CREATE TABLE register_versions (
    id             bigserial PRIMARY KEY,
    council_id     bigint NOT NULL REFERENCES councils (id),
    number         integer NOT NULL CHECK (number > 0),
    effective_on   date NOT NULL,
    summary        text NOT NULL CHECK (length(summary) BETWEEN 1 AND 500),
    decision_ref   text NOT NULL DEFAULT '' CHECK (length(decision_ref) <= 200),
    decision_title text NOT NULL DEFAULT '' CHECK (length(decision_title) <= 300),
    decision_url   text NOT NULL DEFAULT '' CHECK (length(decision_url) <= 500),
    changes        jsonb NOT NULL DEFAULT '[]',
    snapshot       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, number)
);

-- A published version never changes; the history is append-only too.
CREATE FUNCTION register_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER register_versions_immutable BEFORE UPDATE OR DELETE ON register_versions
    FOR EACH ROW EXECUTE FUNCTION register_versions_immutable();

-- Each status an item received, with the version and decision that gave it.
CREATE TABLE register_item_history (
    id             bigserial PRIMARY KEY,
    council_id     bigint NOT NULL,
    item_id        bigint NOT NULL,
    version_number integer NOT NULL,
    status         text NOT NULL CHECK (status IN ('conventionne', 'sous_conditions', 'non_conventionne', 'debat_souhaite')),
    conditions     text NOT NULL DEFAULT '',
    review_on      date,
    reason         text NOT NULL DEFAULT '',
    effective_on   date NOT NULL,
    decision_ref   text NOT NULL DEFAULT '',
    decision_title text NOT NULL DEFAULT '',
    decision_url   text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (item_id, version_number),
    FOREIGN KEY (item_id, council_id) REFERENCES register_items (id, council_id),
    FOREIGN KEY (council_id, version_number) REFERENCES register_versions (council_id, number)
);
CREATE INDEX register_item_history_item ON register_item_history (council_id, item_id, version_number);
CREATE TRIGGER register_item_history_immutable BEFORE UPDATE OR DELETE ON register_item_history
    FOR EACH ROW EXECUTE FUNCTION register_versions_immutable();
