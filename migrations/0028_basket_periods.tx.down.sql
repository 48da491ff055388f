-- Back to 0020's per-product rows: the open rows are evaluated from the
-- register as it stands (the history of the periods is not carried back),
-- the removed products become closed rows.
CREATE TABLE shop_basket_rows (
    id           bigserial PRIMARY KEY,
    council_id   bigint NOT NULL,
    shop_id      bigint NOT NULL,
    product_id   bigint NOT NULL,
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
SELECT setval('shop_basket_rows_id_seq', (SELECT last_value FROM basket_seq));

INSERT INTO shop_basket_rows (id, council_id, shop_id, product_id, code, name, item_slug, basket, reason,
        from_version, to_version, valid_from, valid_to, closed_seq)
    SELECT since_seq, council_id, shop_id, product_id, code, name, item_slug, basket, reason,
        from_version, to_version, valid_from, valid_to, removed_seq
    FROM shop_products_removed;
INSERT INTO shop_basket_rows (council_id, shop_id, product_id, code, name, item_slug, basket, reason, from_version, valid_from)
    SELECT p.council_id, p.shop_id, p.id, p.code, p.name, i.slug,
        CASE WHEN s.status = 'conventionne' AND i.status IN ('conventionne', 'sous_conditions') THEN 'conventionne' ELSE 'non_conventionne' END,
        CASE WHEN s.status <> 'conventionne' THEN 'Ce point de vente n''est pas conventionné : l''allocation n''y paie rien.'
            WHEN i.status = 'conventionne' THEN 'Conventionné par le Conseil (' || i.name || ').'
            WHEN i.status = 'sous_conditions' THEN 'Conventionné sous conditions (' || i.name || ') : ' || i.conditions
            WHEN i.status = 'non_conventionne' THEN 'Non conventionné (' || i.name || ') : ' || i.reason
            ELSE 'Pas encore conventionné (' || i.name || ') : un débat est demandé au Conseil.' END,
        p.listed_version, p.listed_on
    FROM shop_products p
    JOIN shops s ON s.id = p.shop_id AND s.council_id = p.council_id
    JOIN register_items i ON i.id = p.item_id AND i.council_id = p.council_id;

DROP TABLE basket_shop_periods;
DROP TABLE basket_item_periods;
DROP TABLE shop_products_removed;
DROP INDEX shop_products_item;
ALTER TABLE shop_products DROP COLUMN listed_seq, DROP COLUMN listed_version, DROP COLUMN listed_on;
DROP SEQUENCE basket_seq;
