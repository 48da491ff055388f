package catalog

// The shop's basket (issue #18, point 2): each point de vente lists what it
// sells, each product under a register item; the platform evaluates that list
// against the register in force and keeps the result per register version
// (shop_basket_rows), so that a till can fetch the whole basket or only what
// changed since the version it holds.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/gtin"
	"cla/internal/web"
	"cla/internal/webhook"
)

// Basket is the side of the receipt a product goes to.
type Basket string

// The two baskets of a receipt.
const (
	BasketConventionne    Basket = "conventionne"
	BasketNonConventionne Basket = "non_conventionne"
)

// Label is the basket in French, as the cashier reads it.
func (b Basket) Label() string {
	if b == BasketConventionne {
		return "Produit conventionné"
	}
	return "Produit non conventionné"
}

// ProductInput is one product as a shop typed it (a form or a CSV line).
type ProductInput struct {
	Line int    // the CSV line number, 0 for a form
	Name string // the product's name at the till
	Code string // a GTIN or PLU code, or ""
	Item string // the slug of the register item it falls under
}

// shopProduct is a row of shop_products.
type shopProduct struct {
	bun.BaseModel `bun:"table:shop_products"`

	ID        int64  `bun:"id,pk,autoincrement"`
	CouncilID int64  `bun:"council_id"`
	ShopID    int64  `bun:"shop_id"`
	Name      string `bun:"name"`
	Code      string `bun:"code"`
	CodeKey   string `bun:"code_key"`
	ItemID    int64  `bun:"item_id"`
}

// BasketLine is one product of a shop's basket as evaluated against the
// register: the current evaluation, or (in a ?since= diff) a removed product.
type BasketLine struct {
	ProductID   int64      `bun:"product_id"`
	Code        string     `bun:"code"`
	Name        string     `bun:"name"`
	ItemSlug    string     `bun:"item_slug"`
	ItemName    string     `bun:"item_name"`
	Basket      Basket     `bun:"basket"`
	Reason      string     `bun:"reason"`
	FromVersion int        `bun:"from_version"`
	ValidFrom   time.Time  `bun:"valid_from,type:date"`
	ValidTo     *time.Time `bun:"valid_to,type:date"`
	Removed     bool       `bun:"removed"`
}

const maxBasketProducts = 5000

// basketCurrentSQL is the evaluation of the products of one council (and one
// shop when the second argument is not 0), as a CTE named cur. The basket
// follows the register item's status and the shop's own status; the reason is
// the French sentence the cashier reads. Status values come from the typed
// constants.
var basketCurrentSQL = fmt.Sprintf(`WITH cur AS (
	SELECT p.id AS product_id, p.shop_id, p.code, p.name, i.slug AS item_slug,
		CASE WHEN s.status = '%[1]s' AND i.status IN ('%[2]s', '%[3]s') THEN '%[6]s' ELSE '%[7]s' END AS basket,
		CASE WHEN s.status <> '%[1]s' THEN 'Ce point de vente n''est pas conventionné : l''allocation n''y paie rien.'
			WHEN i.status = '%[2]s' THEN 'Conventionné par le Conseil (' || i.name || ').'
			WHEN i.status = '%[3]s' THEN 'Conventionné sous conditions (' || i.name || ') : ' || i.conditions
			WHEN i.status = '%[4]s' THEN 'Non conventionné (' || i.name || ') : ' || i.reason
			ELSE 'Pas encore conventionné (' || i.name || ') : un débat est demandé au Conseil.' END AS reason
	FROM shop_products p
	JOIN shops s ON s.id = p.shop_id AND s.council_id = p.council_id
	JOIN register_items i ON i.id = p.item_id AND i.council_id = p.council_id
	WHERE p.council_id = ?0 AND (?1 = 0 OR p.shop_id = ?1)
	AND (?4 OR p.item_id = ANY(?5::bigint[]) OR p.shop_id = ANY(?6::bigint[])))
`, ShopConventionne, Conventionne, SousConditions, NonConventionne, DebatSouhaite, BasketConventionne, BasketNonConventionne)

// basketScope says which products a re-evaluation looks at: one shop's
// (Shop), or those under the changed items or in the changed shops of a
// register change; All with Shop 0 is every product of the council.
type basketScope struct {
	Shop  int64
	All   bool
	Items []int64
	Shops []int64
}

func (s basketScope) args(councilID int64, version int, day time.Time) []any {
	items, shops := s.Items, s.Shops
	if items == nil {
		items = []int64{}
	}
	if shops == nil {
		shops = []int64{}
	}
	return []any{councilID, s.Shop, version, day, s.All, pgdialect.Array(items), pgdialect.Array(shops)}
}

// evaluateBaskets brings the evaluated rows of the council's baskets within
// scope up to date, set-based: the evaluation goes to an analysed temporary
// table, then one statement closes the open rows whose evaluation changed
// (and, for a shop's own edit, those whose product is gone) and opens a row
// for every product whose row was closed or that has none. version and day
// stamp the change. It returns the ids of the shops whose basket changed, for
// their webhook.
//
// One statement over a CTE instead of the temporary table was measured
// slower (11.1 s against 9.4 s for the worst case, docs/perf.md): the
// planner then probes the open rows once per product instead of hashing.
func evaluateBaskets(ctx context.Context, tx bun.IDB, councilID int64, scope basketScope, version int, day time.Time) ([]int64, error) {
	args := scope.args(councilID, version, day)
	// The joins of 150,000 products sort and hash in memory with 64 MB; the
	// setting lasts until the end of the transaction.
	if _, err := tx.ExecContext(ctx, "SELECT set_config('work_mem', '64MB', true)"); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS basket_cur"); err != nil {
		return nil, err
	}
	if _, err := tx.NewRaw(strings.Replace(basketCurrentSQL, "WITH cur AS (", "CREATE TEMP TABLE basket_cur ON COMMIT DROP AS (", 1), args...).Exec(ctx); err != nil {
		return nil, fmt.Errorf("evaluate baskets: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "ANALYZE basket_cur"); err != nil {
		return nil, err
	}
	gone := "SELECT NULL::bigint AS product_id, NULL::bigint AS shop_id WHERE false"
	if scope.Shop != 0 {
		// Products gone from the list (only a shop's own edit removes any).
		gone = `UPDATE shop_basket_rows r SET closed_seq = nextval('shop_basket_rows_id_seq'), to_version = ?2,
				valid_to = greatest(r.valid_from, ?3::date)
			WHERE r.council_id = ?0 AND r.shop_id = ?1 AND r.closed_seq IS NULL
			AND NOT EXISTS (SELECT 1 FROM shop_products p WHERE p.id = r.product_id)
			RETURNING r.product_id, r.shop_id`
	}
	var shops []int64
	// The open rows as they were before this statement (its snapshot) are
	// those it closes or keeps; a product without one gets its first.
	err := tx.NewRaw(`WITH closed AS (
			UPDATE shop_basket_rows r SET closed_seq = nextval('shop_basket_rows_id_seq'), to_version = ?2,
				valid_to = greatest(r.valid_from, ?3::date)
			FROM basket_cur c WHERE c.product_id = r.product_id AND r.closed_seq IS NULL
			AND (c.code, c.name, c.item_slug, c.basket, c.reason) IS DISTINCT FROM (r.code, r.name, r.item_slug, r.basket, r.reason)
			RETURNING r.product_id, r.shop_id),
		gone AS (`+gone+`),
		opened AS (
			INSERT INTO shop_basket_rows (council_id, shop_id, product_id, code, name, item_slug, basket, reason, from_version, valid_from)
			SELECT ?0, c.shop_id, c.product_id, c.code, c.name, c.item_slug, c.basket, c.reason, ?2, ?3::date
			FROM basket_cur c LEFT JOIN shop_basket_rows o ON o.product_id = c.product_id AND o.closed_seq IS NULL
			-- Reading closed makes its UPDATE run to the end before the
			-- first row it closed is opened again (the open-row index is
			-- unique).
			WHERE o.id IS NULL OR c.product_id IN (SELECT product_id FROM closed)
			RETURNING shop_id)
		SELECT DISTINCT shop_id FROM (SELECT shop_id FROM opened UNION ALL SELECT shop_id FROM gone) s`, args...).Scan(ctx, &shops)
	if err != nil {
		return nil, fmt.Errorf("evaluate baskets: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE basket_cur"); err != nil {
		return nil, err
	}
	return shops, nil
}

// reevaluateBaskets is ApplyChange's step: the products under the items it
// changed, and those of the shops it changed, evaluated against register
// version `version`, effective on day (the others cannot have moved: a
// product's basket depends only on its item and its shop); then the mark that
// ?since=version compares with. The caller holds the register head.
func reevaluateBaskets(ctx context.Context, tx bun.Tx, councilID int64, items, shops []int64, version int, day time.Time) error {
	changed, err := evaluateBaskets(ctx, tx, councilID, basketScope{Items: items, Shops: shops}, version, day)
	if err != nil {
		return err
	}
	var mark int64
	if err := tx.NewRaw(`INSERT INTO shop_basket_marks (council_id, version, seq)
		VALUES (?, ?, nextval('shop_basket_rows_id_seq')) RETURNING seq`, councilID, version).Scan(ctx, &mark); err != nil {
		return fmt.Errorf("basket mark: %w", err)
	}
	return emitBasketChanges(ctx, tx, councilID, changed, version, mark)
}

// BasketChange is the payload of the shop.basket_changed webhook: which
// shop's basket moved, against which register version, and where a till
// fetches it (whole, or since the version it holds). The event is thin on
// purpose: one register change can move 150,000 products, and the till asks
// only for the shops it serves.
type BasketChange struct {
	Shop            string `json:"shop"`
	RegisterVersion int    `json:"register_version"`
	Basket          string `json:"basket"`
}

// emitBasketChanges queues one shop.basket_changed event per shop whose
// basket changed, in the transaction of the change. seq makes the event key
// unique per evaluation, so that a retry of the delivery keeps its id and two
// evaluations are two events. Nothing is read when no endpoint wants it.
func emitBasketChanges(ctx context.Context, tx bun.IDB, councilID int64, shopIDs []int64, version int, seq int64) error {
	if len(shopIDs) == 0 {
		return nil
	}
	if want, err := webhook.Subscribed(ctx, tx, councilID, webhook.ShopBasketChanged); err != nil || !want {
		return err
	}
	var slugs []string
	if err := tx.NewSelect().Table("shops").Column("slug").Where("council_id = ? AND id IN (?)", councilID, bun.List(shopIDs)).
		Order("slug").Scan(ctx, &slugs); err != nil {
		return err
	}
	for _, slug := range slugs {
		ch := BasketChange{Shop: slug, RegisterVersion: version, Basket: "/api/v1/shops/" + slug + "/basket"}
		if err := webhook.Emit(ctx, tx, councilID, webhook.ShopBasketChanged,
			webhook.EventKey(webhook.ShopBasketChanged, slug, seq), ch); err != nil {
			return err
		}
	}
	return nil
}

// ReevaluateItemBaskets re-evaluates, in tx, the baskets of the products
// under one register item after a change that is not a decision (a wording
// correction: the reason the cashier reads names the item), and emits their
// webhook. The register version does not change: the rows are stamped with
// the version in force, so ?since= that version shows them.
func ReevaluateItemBaskets(ctx context.Context, tx bun.Tx, councilID, itemID int64) error {
	version, err := lockRegisterHead(ctx, tx, councilID)
	if err != nil {
		return err
	}
	changed, err := evaluateBaskets(ctx, tx, councilID, basketScope{Items: []int64{itemID}}, version, today())
	if err != nil || len(changed) == 0 {
		return err
	}
	var seq int64
	if err := tx.NewRaw("SELECT nextval('shop_basket_rows_id_seq')").Scan(ctx, &seq); err != nil {
		return err
	}
	return emitBasketChanges(ctx, tx, councilID, changed, version, seq)
}

// lockRegisterHead takes the council's register head for a basket edit and
// returns the version in force: ApplyChange and basket edits then run one after
// the other, so the marks of ?since= never miss an edit. It also tells the
// caches that the council's pages changed (Touch).
func lockRegisterHead(ctx context.Context, tx bun.Tx, councilID int64) (int, error) {
	if err := Touch(ctx, tx, councilID); err != nil {
		return 0, err
	}
	var v int
	err := tx.NewRaw("SELECT version FROM register_heads WHERE council_id = ?", councilID).Scan(ctx, &v)
	return v, err
}

// parseProduct validates one product line against the register items
// (slug → id) and returns the row to insert, or the French message.
func parseProduct(in ProductInput, items map[string]int64) (shopProduct, apperr.Fields) {
	f := apperr.Fields{}
	p := shopProduct{Name: strings.TrimSpace(in.Name)}
	if n := utf8.RuneCountInString(p.Name); n == 0 || n > maxNameLen {
		f.Add("name", "Le nom du produit est obligatoire (200 caractères au plus).")
	}
	if c := strings.TrimSpace(in.Code); c != "" {
		code, err := gtin.Parse(c)
		if err != nil {
			f.Add("code", apperr.MessageOf(err))
		} else if code.Kind != gtin.PLU && code.Kind != gtin.GTIN8 && code.Kind != gtin.GTIN13 {
			f.Add("code", "Indiquez un code EAN-13 ou EAN-8 (13 ou 8 chiffres), ou un code PLU (4 ou 5 chiffres).")
		} else {
			p.Code, p.CodeKey = code.Digits, code.Key()
		}
	}
	slug := strings.TrimSpace(in.Item)
	if id, ok := items[slug]; ok {
		p.ItemID = id
	} else if slug == "" {
		f.Add("item", "Choisissez l'élément du registre dont relève ce produit.")
	} else {
		f.Add("item", "Élément du registre inconnu : "+slug+".")
	}
	return p, f
}

// itemIDs maps the council's register item slugs to their ids.
func itemIDs(ctx context.Context, db bun.IDB, councilID int64) (map[string]int64, error) {
	var rows []struct {
		ID   int64  `bun:"id"`
		Slug string `bun:"slug"`
	}
	if err := db.NewSelect().Table("register_items").Column("id", "slug").Where("council_id = ?", councilID).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	m := make(map[string]int64, len(rows))
	for _, r := range rows {
		m[r.Slug] = r.ID
	}
	return m, nil
}

// LineError is a refused CSV line (or form), with its French reasons.
type LineError struct {
	Line    int
	Name    string
	Reasons []string
}

// CheckProducts validates products to be added to the shop's list without
// writing anything: the rows to insert, and one LineError per refused line
// (a bad code, an unknown item, a code already in the list or twice in the
// input).
func CheckProducts(ctx context.Context, db bun.IDB, councilID, shopID int64, in []ProductInput) ([]shopProduct, []LineError, error) {
	items, err := itemIDs(ctx, db, councilID)
	if err != nil {
		return nil, nil, err
	}
	var keys []string
	if err := db.NewSelect().Table("shop_products").Column("code_key").
		Where("council_id = ? AND shop_id = ?", councilID, shopID).Scan(ctx, &keys); err != nil {
		return nil, nil, err
	}
	count := len(keys)
	seen := map[string]int{} // code key → the input line that has it, 0 when already listed
	for _, k := range keys {
		if k != "" {
			seen[k] = 0
		}
	}
	var out []shopProduct
	var bad []LineError
	for _, l := range in {
		p, f := parseProduct(l, items)
		var reasons []string
		for _, k := range []string{"name", "code", "item"} {
			if m, ok := f[k]; ok {
				reasons = append(reasons, m)
			}
		}
		if p.CodeKey != "" {
			if first, dup := seen[p.CodeKey]; dup {
				if first == 0 {
					reasons = append(reasons, "Le code "+p.Code+" figure déjà dans la liste de ce point de vente.")
				} else {
					reasons = append(reasons, "Le code "+p.Code+" figure déjà ligne "+strconv.Itoa(first)+".")
				}
			} else {
				seen[p.CodeKey] = max(l.Line, 1)
			}
		}
		if len(reasons) > 0 {
			bad = append(bad, LineError{Line: l.Line, Name: l.Name, Reasons: reasons})
			continue
		}
		p.CouncilID, p.ShopID = councilID, shopID
		out = append(out, p)
	}
	if count+len(out) > maxBasketProducts {
		bad = append(bad, LineError{Reasons: []string{fmt.Sprintf("Un point de vente liste au plus %d produits.", maxBasketProducts)}})
	}
	return out, bad, nil
}

// BadLinesError refuses a product list edit: the refused lines with their
// French reasons. Nothing was written (the transaction rolls back).
type BadLinesError struct {
	Lines []LineError
}

func (e *BadLinesError) Error() string { return fmt.Sprintf("%d ligne(s) refusée(s)", len(e.Lines)) }

// auditedProduct is a product as the audit trail keeps it.
type auditedProduct struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
	Code string `json:"code,omitempty"`
	Item int64  `json:"item_id"`
}

func shopLabel(shop *Shop) string {
	if shop.Name != "" {
		return shop.Name
	}
	return "n° " + strconv.FormatInt(shop.ID, 10)
}

// AddProductsTx adds products to the shop's list in tx, all or nothing,
// evaluates them against the register in force, writes the edit to the audit
// trail on behalf of by, and emits the shop's basket webhook. A refused line
// returns a *BadLinesError: the caller rolls back.
func AddProductsTx(ctx context.Context, tx bun.Tx, shop *Shop, in []ProductInput, by audit.Actor) error {
	version, err := lockRegisterHead(ctx, tx, shop.CouncilID)
	if err != nil {
		return err
	}
	rows, bad, err := CheckProducts(ctx, tx, shop.CouncilID, shop.ID, in)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return &BadLinesError{Lines: bad}
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&rows).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert products: %w", err)
	}
	after := make([]auditedProduct, 0, len(rows))
	for _, r := range rows {
		after = append(after, auditedProduct{ID: r.ID, Name: r.Name, Code: r.Code, Item: r.ItemID})
	}
	summary := fmt.Sprintf("Produits ajoutés à la liste de %s : %d", shopLabel(shop), len(rows))
	if len(rows) == 1 {
		summary = "Produit ajouté à la liste de " + shopLabel(shop) + " : " + rows[0].Name
	}
	councilID := shop.CouncilID
	if err := audit.Record(ctx, tx, by.Entry(&councilID, "shop_products.add", "shop", strconv.FormatInt(shop.ID, 10), summary), nil, after); err != nil {
		return err
	}
	return evaluateShopEdit(ctx, tx, shop, version)
}

// evaluateShopEdit re-evaluates the shop's basket after an edit of its list
// and emits its webhook.
func evaluateShopEdit(ctx context.Context, tx bun.Tx, shop *Shop, version int) error {
	changed, err := evaluateBaskets(ctx, tx, shop.CouncilID, basketScope{Shop: shop.ID, All: true}, version, today())
	if err != nil || len(changed) == 0 {
		return err
	}
	var seq int64
	if err := tx.NewRaw("SELECT nextval('shop_basket_rows_id_seq')").Scan(ctx, &seq); err != nil {
		return err
	}
	return emitBasketChanges(ctx, tx, shop.CouncilID, changed, version, seq)
}

// AddProducts is AddProductsTx in a transaction of its own: the refused
// lines are returned, with nothing written.
func AddProducts(ctx context.Context, db *bun.DB, councilID, shopID int64, in []ProductInput, by audit.Actor) ([]LineError, error) {
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return AddProductsTx(ctx, tx, &Shop{ID: shopID, CouncilID: councilID}, in, by)
	})
	var bad *BadLinesError
	if errors.As(err, &bad) {
		return bad.Lines, nil
	}
	return nil, err
}

func today() time.Time {
	y, m, d := time.Now().In(web.Paris()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DeleteProductTx removes a product from the shop's list in tx, closes its
// basket row, and writes the edit to the audit trail on behalf of by. A
// product of another shop (or council) is not found.
func DeleteProductTx(ctx context.Context, tx bun.Tx, shop *Shop, productID int64, by audit.Actor) error {
	version, err := lockRegisterHead(ctx, tx, shop.CouncilID)
	if err != nil {
		return err
	}
	var gone []shopProduct
	if _, err := tx.NewDelete().Model(&gone).Where("id = ? AND shop_id = ? AND council_id = ?", productID, shop.ID, shop.CouncilID).
		Returning("id, name, code, item_id").Exec(ctx); err != nil {
		return err
	}
	if len(gone) == 0 {
		return apperr.New(apperr.NotFound, "Ce produit n'est pas dans la liste de ce point de vente.")
	}
	councilID := shop.CouncilID
	p := gone[0]
	if err := audit.Record(ctx, tx, by.Entry(&councilID, "shop_products.remove", "shop", strconv.FormatInt(shop.ID, 10),
		"Produit retiré de la liste de "+shopLabel(shop)+" : "+p.Name),
		auditedProduct{ID: p.ID, Name: p.Name, Code: p.Code, Item: p.ItemID}, nil); err != nil {
		return err
	}
	return evaluateShopEdit(ctx, tx, shop, version)
}

// basketColumns are the columns of a BasketLine read from shop_basket_rows r
// joined with register_items i.
const basketColumns = `r.product_id, r.code, r.name, r.item_slug, coalesce(i.name, r.item_slug) AS item_name, r.basket, r.reason,
	r.from_version, r.valid_from, r.valid_to`

// ShopBasket returns the shop's evaluated basket, by product name.
func ShopBasket(ctx context.Context, db bun.IDB, councilID, shopID int64) ([]BasketLine, error) {
	var out []BasketLine
	err := db.NewRaw(`SELECT `+basketColumns+`, false AS removed FROM shop_basket_rows r
		LEFT JOIN register_items i ON i.council_id = r.council_id AND i.slug = r.item_slug
		WHERE r.council_id = ? AND r.shop_id = ? AND r.closed_seq IS NULL ORDER BY r.name, r.product_id`, councilID, shopID).Scan(ctx, &out)
	return out, err
}

// BasketSince returns what changed in the shop's basket after register
// version `since` was published: the products whose evaluation is new, and
// the products removed (Removed, with their last evaluation). A version
// published before baskets existed counts as the beginning.
func BasketSince(ctx context.Context, db bun.IDB, councilID, shopID int64, since int) ([]BasketLine, error) {
	var mark int64
	if since > 0 {
		err := db.NewRaw("SELECT seq FROM shop_basket_marks WHERE council_id = ? AND version = ?", councilID, since).Scan(ctx, &mark)
		if err != nil && !isNoRows(err) {
			return nil, err
		}
	}
	var out []BasketLine
	err := db.NewRaw(`SELECT `+basketColumns+`, false AS removed FROM shop_basket_rows r
		LEFT JOIN register_items i ON i.council_id = r.council_id AND i.slug = r.item_slug
		WHERE r.council_id = ?0 AND r.shop_id = ?1 AND r.closed_seq IS NULL AND r.id > ?2
		UNION ALL
		SELECT `+basketColumns+`, true FROM shop_basket_rows r
		LEFT JOIN register_items i ON i.council_id = r.council_id AND i.slug = r.item_slug
		WHERE r.council_id = ?0 AND r.shop_id = ?1 AND r.closed_seq > ?2 AND r.id <= ?2
		AND NOT EXISTS (SELECT 1 FROM shop_basket_rows o WHERE o.product_id = r.product_id AND o.closed_seq IS NULL)
		ORDER BY name, product_id`, councilID, shopID, mark).Scan(ctx, &out)
	return out, err
}

// FindInBasket looks a product up in the shop's basket for the cashier: by
// code when q is a valid code, else by name (accents and case ignored).
func FindInBasket(ctx context.Context, db bun.IDB, councilID, shopID int64, q string) ([]BasketLine, error) {
	var out []BasketLine
	sel := db.NewRaw(`SELECT `+basketColumns+`, false AS removed FROM shop_basket_rows r
		LEFT JOIN register_items i ON i.council_id = r.council_id AND i.slug = r.item_slug
		JOIN shop_products p ON p.id = r.product_id
		WHERE r.council_id = ?0 AND r.shop_id = ?1 AND r.closed_seq IS NULL
		AND (p.code_key = ?2 OR (?2 = '' AND unaccent(lower(r.name)) LIKE '%' || unaccent(lower(?3)) || '%'))
		ORDER BY r.name LIMIT 20`, councilID, shopID, codeKey(q), likeEscape(q))
	err := sel.Scan(ctx, &out)
	return out, err
}

func codeKey(q string) string {
	if c, err := gtin.Parse(q); err == nil {
		return c.Key()
	}
	return ""
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.TrimSpace(s))
}
