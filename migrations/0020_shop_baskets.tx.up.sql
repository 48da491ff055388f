-- The shop's basket (issue #18, point 2): what each point de vente sells, and
-- that list evaluated against the register, kept per register version so that
-- tills can ask for what changed since the version they hold.

-- What a shop sells: a name, an optional GTIN or PLU code (digits as typed, and
-- GS1's comparison key so that one product is not listed twice), and the
-- register item it falls under.
CREATE TABLE shop_products (
    id         bigserial PRIMARY KEY,
    council_id bigint NOT NULL,
    shop_id    bigint NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    code       text NOT NULL DEFAULT '' CHECK (code ~ '^([0-9]{4,5}|[0-9]{8}|[0-9]{12,14})?$'),
    code_key   text NOT NULL DEFAULT '' CHECK ((code = '') = (code_key = '')),
    item_id    bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (shop_id, council_id) REFERENCES shops (id, council_id) ON DELETE CASCADE,
    FOREIGN KEY (item_id, council_id) REFERENCES register_items (id, council_id)
);
CREATE UNIQUE INDEX shop_products_code ON shop_products (shop_id, code_key) WHERE code_key <> '';
CREATE INDEX shop_products_shop ON shop_products (council_id, shop_id);

-- The evaluated basket: one row per product and period during which its
-- evaluation did not change. A row is open while closed_seq is NULL. id and
-- closed_seq come from one sequence, so "changed after mark M" is "id > M or
-- closed_seq > M".
CREATE TABLE shop_basket_rows (
    id           bigserial PRIMARY KEY,
    council_id   bigint NOT NULL,
    shop_id      bigint NOT NULL,
    product_id   bigint NOT NULL, -- no foreign key: the history outlives the product
    code         text NOT NULL,
    name         text NOT NULL,
    item_slug    text NOT NULL,
    basket       text NOT NULL CHECK (basket IN ('conventionne', 'non_conventionne')),
    reason       text NOT NULL,
    from_version integer NOT NULL CHECK (from_version >= 0),
    to_version   integer,
    valid_from   date NOT NULL,
    valid_to     date,
    closed_seq   bigint,
    FOREIGN KEY (shop_id, council_id) REFERENCES shops (id, council_id) ON DELETE CASCADE,
    CHECK ((closed_seq IS NULL) = (to_version IS NULL) AND (closed_seq IS NULL) = (valid_to IS NULL))
);
CREATE UNIQUE INDEX shop_basket_rows_open ON shop_basket_rows (product_id) WHERE closed_seq IS NULL;
CREATE INDEX shop_basket_rows_shop ON shop_basket_rows (council_id, shop_id) WHERE closed_seq IS NULL;
CREATE INDEX shop_basket_rows_closed ON shop_basket_rows (shop_id, closed_seq) WHERE closed_seq IS NOT NULL;

-- The sequence value reached when each register version was published: the
-- ?since=N of the basket API answers the rows changed after version N's mark.
CREATE TABLE shop_basket_marks (
    council_id bigint NOT NULL REFERENCES councils (id),
    version    integer NOT NULL,
    seq        bigint NOT NULL,
    PRIMARY KEY (council_id, version)
);
