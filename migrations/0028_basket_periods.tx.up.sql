-- Issue 18 follow-up (b18): a register change no longer writes one row per
-- product whose basket moves (300,000 row writes when every category changes
-- in 500 shops × 300 products). A product's basket is a function of its
-- register item and of its shop's status, so the evaluation is kept per item
-- and per shop — tens of rows per decision — and each product's line is
-- joined at read time (catalog/basket.go, docs/perf.md).
--
-- "Since when" is a value of basket_seq, taken once per change: a product's
-- line holds since the latest of its listing, its shop's period and (in a
-- conventionné shop) its item's period; ?since=N answers the lines whose
-- "since" is after version N's mark (shop_basket_marks, kept, same meaning).

CREATE SEQUENCE basket_seq;
-- The marks already written compare with the old rows' ids: continue above.
SELECT setval('basket_seq', (SELECT last_value FROM shop_basket_rows_id_seq));

-- When the product entered the list (for a product listed before this
-- migration: when its evaluation last changed, which the diff reads the same).
ALTER TABLE shop_products
    ADD COLUMN listed_seq bigint,
    ADD COLUMN listed_version integer CHECK (listed_version >= 0),
    ADD COLUMN listed_on date;
UPDATE shop_products p SET listed_seq = r.id, listed_version = r.from_version, listed_on = r.valid_from
    FROM shop_basket_rows r WHERE r.product_id = p.id AND r.closed_seq IS NULL;
UPDATE shop_products p SET listed_seq = nextval('basket_seq'),
    listed_version = coalesce((SELECT h.version FROM register_heads h WHERE h.council_id = p.council_id), 0),
    listed_on = current_date
    WHERE listed_seq IS NULL;
ALTER TABLE shop_products
    ALTER COLUMN listed_seq SET NOT NULL, ALTER COLUMN listed_seq SET DEFAULT nextval('basket_seq'),
    ALTER COLUMN listed_version SET NOT NULL, ALTER COLUMN listed_version SET DEFAULT 0,
    ALTER COLUMN listed_on SET NOT NULL, ALTER COLUMN listed_on SET DEFAULT current_date;
-- The shops selling under an item (the webhooks of a decision).
CREATE INDEX shop_products_item ON shop_products (item_id, shop_id);

-- A product removed from a list, with its last evaluation: ?since= reports
-- it as removed. No foreign key to the product: it is gone.
CREATE TABLE shop_products_removed (
    product_id   bigint PRIMARY KEY,
    council_id   bigint NOT NULL,
    shop_id      bigint NOT NULL,
    code         text NOT NULL,
    name         text NOT NULL,
    item_slug    text NOT NULL,
    basket       text NOT NULL CHECK (basket IN ('conventionne', 'non_conventionne')),
    reason       text NOT NULL,
    since_seq    bigint NOT NULL,
    from_version integer NOT NULL CHECK (from_version >= 0),
    valid_from   date NOT NULL,
    removed_seq  bigint NOT NULL CHECK (removed_seq >= since_seq),
    to_version   integer NOT NULL CHECK (to_version >= 0),
    valid_to     date NOT NULL CHECK (valid_to >= valid_from),
    FOREIGN KEY (shop_id, council_id) REFERENCES shops (id, council_id) ON DELETE CASCADE
);
CREATE INDEX shop_products_removed_shop ON shop_products_removed (shop_id, removed_seq);
INSERT INTO shop_products_removed (product_id, council_id, shop_id, code, name, item_slug, basket, reason,
        since_seq, from_version, valid_from, removed_seq, to_version, valid_to)
    SELECT DISTINCT ON (r.product_id) r.product_id, r.council_id, r.shop_id, r.code, r.name, r.item_slug, r.basket, r.reason,
        r.id, r.from_version, r.valid_from, r.closed_seq, r.to_version, r.valid_to
    FROM shop_basket_rows r
    WHERE r.closed_seq IS NOT NULL AND NOT EXISTS (SELECT 1 FROM shop_products p WHERE p.id = r.product_id)
    ORDER BY r.product_id, r.id DESC;

-- The item's side of the evaluation (what a product under it gets in a
-- conventionné shop), one row per period during which it did not change; a
-- row is open while closed_seq is NULL. An item without a row has had the
-- same evaluation since before baskets were tracked.
CREATE TABLE basket_item_periods (
    id           bigserial PRIMARY KEY,
    council_id   bigint NOT NULL,
    item_id      bigint NOT NULL,
    basket       text NOT NULL CHECK (basket IN ('conventionne', 'non_conventionne')),
    reason       text NOT NULL,
    seq          bigint NOT NULL,
    from_version integer NOT NULL CHECK (from_version >= 0),
    valid_from   date NOT NULL,
    closed_seq   bigint,
    to_version   integer,
    valid_to     date,
    FOREIGN KEY (item_id, council_id) REFERENCES register_items (id, council_id),
    CHECK ((closed_seq IS NULL) = (to_version IS NULL) AND (closed_seq IS NULL) = (valid_to IS NULL))
);
CREATE UNIQUE INDEX basket_item_periods_open ON basket_item_periods (item_id) WHERE closed_seq IS NULL;
CREATE INDEX basket_item_periods_item ON basket_item_periods (council_id, item_id, seq);

-- The shop's side: whether it is conventionné (the allocation pays nothing
-- elsewhere), one row per period, as for items.
CREATE TABLE basket_shop_periods (
    id           bigserial PRIMARY KEY,
    council_id   bigint NOT NULL,
    shop_id      bigint NOT NULL,
    conventionne boolean NOT NULL,
    seq          bigint NOT NULL,
    from_version integer NOT NULL CHECK (from_version >= 0),
    valid_from   date NOT NULL,
    closed_seq   bigint,
    to_version   integer,
    valid_to     date,
    FOREIGN KEY (shop_id, council_id) REFERENCES shops (id, council_id) ON DELETE CASCADE,
    CHECK ((closed_seq IS NULL) = (to_version IS NULL) AND (closed_seq IS NULL) = (valid_to IS NULL))
);
CREATE UNIQUE INDEX basket_shop_periods_open ON basket_shop_periods (shop_id) WHERE closed_seq IS NULL;
CREATE INDEX basket_shop_periods_shop ON basket_shop_periods (council_id, shop_id, seq);

DROP TABLE shop_basket_rows;
