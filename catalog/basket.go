package catalog

// The shop's basket (issue #18, point 2): each point de vente lists what it
// sells, each product under a register item; the platform evaluates that list
// against the register in force, so that a till can fetch the whole basket or
// only what changed since the version it holds. A product's evaluation is a
// function of its item and of its shop's status: what is stored is the
// evaluation per item and per shop (basket_item_periods,
// basket_shop_periods, tens of rows per decision), and each product's line
// is joined at read time (docs/perf.md, docs/decisions.md).

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
	// The change that listed the product: its line holds since then, until
	// its item or shop changes (basketLinesSQL).
	ListedSeq     int64     `bun:"listed_seq"`
	ListedVersion int       `bun:"listed_version"`
	ListedOn      time.Time `bun:"listed_on,type:date"`
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
	// Seq is the basket_seq value of the change since which this
	// evaluation holds (?since= compares it with a version's mark).
	Seq int64 `bun:"since_seq"`
}

const maxBasketProducts = 5000

// The evaluation, written once as SQL expressions over a register item i and
// a shop s. A product's basket follows its item's status and its shop's own
// status; the reason is the French sentence the cashier reads. The item's
// side (itemBasketSQL, itemReasonSQL) is what a product under it gets in a
// conventionné shop: basket_item_periods keeps it per item. Status values
// come from the typed constants.
var (
	itemBasketSQL = fmt.Sprintf(`CASE WHEN i.status IN ('%[1]s', '%[2]s') THEN '%[3]s' ELSE '%[4]s' END`,
		Conventionne, SousConditions, BasketConventionne, BasketNonConventionne)
	itemReasonSQL = fmt.Sprintf(`CASE WHEN i.status = '%[1]s' THEN 'Conventionné par le Conseil (' || i.name || ').'
			WHEN i.status = '%[2]s' THEN 'Conventionné sous conditions (' || i.name || ') : ' || i.conditions
			WHEN i.status = '%[3]s' THEN 'Non conventionné (' || i.name || ') : ' || i.reason
			ELSE 'Pas encore conventionné (' || i.name || ') : un débat est demandé au Conseil.' END`,
		Conventionne, SousConditions, NonConventionne)
	shopConventionneSQL = fmt.Sprintf(`(s.status = '%s')`, ShopConventionne)
	productBasketSQL    = fmt.Sprintf(`CASE WHEN %s THEN %s ELSE '%s' END`, shopConventionneSQL, itemBasketSQL, BasketNonConventionne)
	productReasonSQL    = fmt.Sprintf(`CASE WHEN NOT %s THEN 'Ce point de vente n''est pas conventionné : l''allocation n''y paie rien.' ELSE %s END`,
		shopConventionneSQL, itemReasonSQL)
)

// basketLinesSQL reads the current lines of one shop's basket (?0 the
// council, ?1 the shop), filtered by where (more conditions on p, the
// product, s and i). Nothing is stored per product but its listing: the
// line is joined from the product, its item and its shop, and holds since
// the latest of three changes (the highest basket_seq): the product's
// listing, its shop's last change of status (basket_shop_periods), and — in
// a conventionné shop only, since elsewhere the item does not matter — its
// item's last change of evaluation (basket_item_periods).
func basketLinesSQL(where string) string {
	// The three "since" are told apart by their seq (one change, one seq;
	// an item and a shop changed by the same decision share it, and their
	// version and day then agree). greatest ignores NULLs.
	return `SELECT p.id AS product_id, p.code, p.name, i.slug AS item_slug, i.name AS item_name,
		` + productBasketSQL + ` AS basket, ` + productReasonSQL + ` AS reason,
		g.seq AS since_seq,
		CASE g.seq WHEN ip.seq THEN ip.from_version WHEN sp.seq THEN sp.from_version ELSE p.listed_version END AS from_version,
		CASE g.seq WHEN ip.seq THEN ip.valid_from WHEN sp.seq THEN sp.valid_from ELSE p.listed_on END AS valid_from,
		NULL::date AS valid_to, false AS removed
	FROM shop_products p
	JOIN shops s ON s.id = p.shop_id AND s.council_id = p.council_id
	JOIN register_items i ON i.id = p.item_id AND i.council_id = p.council_id
	LEFT JOIN basket_shop_periods sp ON sp.shop_id = p.shop_id AND sp.closed_seq IS NULL
	LEFT JOIN basket_item_periods ip ON ip.item_id = p.item_id AND ip.closed_seq IS NULL AND ` + shopConventionneSQL + `
	CROSS JOIN LATERAL (SELECT greatest(p.listed_seq, sp.seq, ip.seq) AS seq) g
	WHERE p.council_id = ?0 AND p.shop_id = ?1 ` + where
}

// nextBasketSeq takes the basket_seq value that stamps one change.
func nextBasketSeq(ctx context.Context, tx bun.IDB) (int64, error) {
	var seq int64
	err := tx.NewRaw("SELECT nextval('basket_seq')").Scan(ctx, &seq)
	return seq, err
}

// openItemPeriods brings the evaluation periods of the given items up to
// date after a change stamped seq (register version `version`, effective on
// day): an item whose side of the evaluation differs from its open period's
// gets that period closed and a new one opened; an item with no period gets
// its first. Two statements, touching one row or two per item whatever the
// number of products under it. It returns the items whose period opened.
func openItemPeriods(ctx context.Context, tx bun.IDB, councilID int64, items []int64, seq int64, version int, day time.Time) ([]int64, error) {
	if len(items) == 0 {
		return nil, nil
	}
	args := []any{councilID, pgdialect.Array(items), seq, version, day}
	if _, err := tx.NewRaw(`UPDATE basket_item_periods p SET closed_seq = ?2, to_version = ?3, valid_to = greatest(p.valid_from, ?4::date)
		FROM register_items i WHERE i.council_id = ?0 AND i.id = ANY(?1::bigint[]) AND p.item_id = i.id AND p.closed_seq IS NULL
		AND (p.basket, p.reason) IS DISTINCT FROM (`+itemBasketSQL+`, `+itemReasonSQL+`)`, args...).Exec(ctx); err != nil {
		return nil, fmt.Errorf("close item periods: %w", err)
	}
	var opened []int64
	if err := tx.NewRaw(`INSERT INTO basket_item_periods (council_id, item_id, basket, reason, seq, from_version, valid_from)
		SELECT ?0, i.id, `+itemBasketSQL+`, `+itemReasonSQL+`, ?2, ?3, ?4::date FROM register_items i
		WHERE i.council_id = ?0 AND i.id = ANY(?1::bigint[])
		AND NOT EXISTS (SELECT 1 FROM basket_item_periods o WHERE o.item_id = i.id AND o.closed_seq IS NULL)
		RETURNING item_id`, args...).Scan(ctx, &opened); err != nil {
		return nil, fmt.Errorf("open item periods: %w", err)
	}
	return opened, nil
}

// openShopPeriods does for shops what openItemPeriods does for items: a
// shop's side of the evaluation is only whether it is conventionné.
func openShopPeriods(ctx context.Context, tx bun.IDB, councilID int64, shops []int64, seq int64, version int, day time.Time) ([]int64, error) {
	if len(shops) == 0 {
		return nil, nil
	}
	args := []any{councilID, pgdialect.Array(shops), seq, version, day}
	if _, err := tx.NewRaw(`UPDATE basket_shop_periods p SET closed_seq = ?2, to_version = ?3, valid_to = greatest(p.valid_from, ?4::date)
		FROM shops s WHERE s.council_id = ?0 AND s.id = ANY(?1::bigint[]) AND p.shop_id = s.id AND p.closed_seq IS NULL
		AND p.conventionne <> `+shopConventionneSQL, args...).Exec(ctx); err != nil {
		return nil, fmt.Errorf("close shop periods: %w", err)
	}
	var opened []int64
	if err := tx.NewRaw(`INSERT INTO basket_shop_periods (council_id, shop_id, conventionne, seq, from_version, valid_from)
		SELECT ?0, s.id, `+shopConventionneSQL+`, ?2, ?3, ?4::date FROM shops s
		WHERE s.council_id = ?0 AND s.id = ANY(?1::bigint[])
		AND NOT EXISTS (SELECT 1 FROM basket_shop_periods o WHERE o.shop_id = s.id AND o.closed_seq IS NULL)
		RETURNING shop_id`, args...).Scan(ctx, &opened); err != nil {
		return nil, fmt.Errorf("open shop periods: %w", err)
	}
	return opened, nil
}

// movedShops returns the slugs of the shops whose basket moved when the
// given items' and shops' periods opened: a shop that changed status and
// lists a product, and a conventionné shop listing a product under a changed
// item (elsewhere the item does not change the line). One statement.
func movedShops(ctx context.Context, tx bun.IDB, councilID int64, items, shops []int64) ([]string, error) {
	if len(items) == 0 && len(shops) == 0 {
		return nil, nil
	}
	if items == nil {
		items = []int64{}
	}
	if shops == nil {
		shops = []int64{}
	}
	var slugs []string
	err := tx.NewRaw(`SELECT s.slug FROM shops s WHERE s.council_id = ?0 AND (
			(s.id = ANY(?2::bigint[]) AND EXISTS (SELECT 1 FROM shop_products p WHERE p.shop_id = s.id))
			OR (`+shopConventionneSQL+` AND EXISTS (SELECT 1 FROM shop_products p WHERE p.shop_id = s.id AND p.item_id = ANY(?1::bigint[]))))
		ORDER BY s.slug`, councilID, pgdialect.Array(items), pgdialect.Array(shops)).Scan(ctx, &slugs)
	return slugs, err
}

// reevaluateBaskets is ApplyChange's step: the periods of the items and
// shops it changed, evaluated against register version `version`, effective
// on day (nothing else can have moved: a product's basket depends only on
// its item and its shop); then the mark that ?since=version compares with,
// and the webhook of every shop whose basket moved. Tens of rows, whatever
// the number of products. The caller holds the register head.
func reevaluateBaskets(ctx context.Context, tx bun.Tx, councilID int64, items, shops []int64, version int, day time.Time) error {
	seq, err := nextBasketSeq(ctx, tx)
	if err != nil {
		return err
	}
	if items, err = openItemPeriods(ctx, tx, councilID, items, seq, version, day); err != nil {
		return err
	}
	if shops, err = openShopPeriods(ctx, tx, councilID, shops, seq, version, day); err != nil {
		return err
	}
	if _, err := tx.NewRaw(`INSERT INTO shop_basket_marks (council_id, version, seq) VALUES (?, ?, ?)`,
		councilID, version, seq).Exec(ctx); err != nil {
		return fmt.Errorf("basket mark: %w", err)
	}
	return emitBasketMoves(ctx, tx, councilID, items, shops, version, seq)
}

// emitBasketMoves queues the webhook of every shop whose basket moved with
// the given items' and shops' new periods. Nothing is read when no endpoint
// wants it.
func emitBasketMoves(ctx context.Context, tx bun.IDB, councilID int64, items, shops []int64, version int, seq int64) error {
	if len(items) == 0 && len(shops) == 0 {
		return nil
	}
	if want, err := webhook.Subscribed(ctx, tx, councilID, webhook.ShopBasketChanged); err != nil || !want {
		return err
	}
	slugs, err := movedShops(ctx, tx, councilID, items, shops)
	if err != nil {
		return err
	}
	return emitBasketChanges(ctx, tx, councilID, slugs, version, seq)
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

// emitBasketChanges queues one shop.basket_changed event per shop slug, in
// the transaction of the change, all in one batch (webhook.EmitMany). seq
// makes the event key unique per change, so that a retry of the delivery
// keeps its id and two changes are two events.
func emitBasketChanges(ctx context.Context, tx bun.IDB, councilID int64, slugs []string, version int, seq int64) error {
	if len(slugs) == 0 {
		return nil
	}
	msgs := make([]webhook.Message, 0, len(slugs))
	for _, slug := range slugs {
		msgs = append(msgs, webhook.Message{Key: webhook.EventKey(webhook.ShopBasketChanged, slug, seq),
			Data: BasketChange{Shop: slug, RegisterVersion: version, Basket: "/api/v1/shops/" + slug + "/basket"}})
	}
	return webhook.EmitMany(ctx, tx, councilID, webhook.ShopBasketChanged, msgs)
}

// ReevaluateItemBaskets re-evaluates, in tx, the baskets of the products
// under one register item after a change that is not a decision (a wording
// correction: the reason the cashier reads names the item), and emits their
// webhook. The register version does not change: the item's new period is
// stamped with the version in force, so ?since= that version shows its
// products.
func ReevaluateItemBaskets(ctx context.Context, tx bun.Tx, councilID, itemID int64) error {
	version, err := lockRegisterHead(ctx, tx, councilID)
	if err != nil {
		return err
	}
	seq, err := nextBasketSeq(ctx, tx)
	if err != nil {
		return err
	}
	items, err := openItemPeriods(ctx, tx, councilID, []int64{itemID}, seq, version, today())
	if err != nil {
		return err
	}
	return emitBasketMoves(ctx, tx, councilID, items, nil, version, seq)
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
// stamped with the change that listed them (their line holds since then),
// writes the edit to the audit trail on behalf of by, and emits the shop's
// basket webhook. A refused line returns a *BadLinesError: the caller rolls
// back.
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
	seq, err := nextBasketSeq(ctx, tx)
	if err != nil {
		return err
	}
	day := today()
	for i := range rows {
		rows[i].ListedSeq, rows[i].ListedVersion, rows[i].ListedOn = seq, version, day
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
	return emitShopEdit(ctx, tx, shop, version, seq)
}

// emitShopEdit emits the webhook of a shop whose list was edited.
func emitShopEdit(ctx context.Context, tx bun.Tx, shop *Shop, version int, seq int64) error {
	if want, err := webhook.Subscribed(ctx, tx, shop.CouncilID, webhook.ShopBasketChanged); err != nil || !want {
		return err
	}
	slug := shop.Slug
	if slug == "" {
		if err := tx.NewSelect().Table("shops").Column("slug").Where("id = ? AND council_id = ?", shop.ID, shop.CouncilID).Scan(ctx, &slug); err != nil {
			return err
		}
	}
	return emitBasketChanges(ctx, tx, shop.CouncilID, []string{slug}, version, seq)
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

// DeleteProductTx removes a product from the shop's list in tx, keeping its
// last evaluation in shop_products_removed (for ?since=), and writes the
// edit to the audit trail on behalf of by. A product of another shop (or
// council) is not found.
func DeleteProductTx(ctx context.Context, tx bun.Tx, shop *Shop, productID int64, by audit.Actor) error {
	version, err := lockRegisterHead(ctx, tx, shop.CouncilID)
	if err != nil {
		return err
	}
	seq, err := nextBasketSeq(ctx, tx)
	if err != nil {
		return err
	}
	// The line as it stands, closed by this edit.
	res, err := tx.NewRaw(`INSERT INTO shop_products_removed (product_id, council_id, shop_id, code, name, item_slug, basket, reason,
			since_seq, from_version, valid_from, removed_seq, to_version, valid_to)
		SELECT l.product_id, ?0, ?1, l.code, l.name, l.item_slug, l.basket, l.reason,
			l.since_seq, l.from_version, l.valid_from, ?3, ?4, greatest(l.valid_from, ?5::date)
		FROM (`+basketLinesSQL("AND p.id = ?2")+`) l`, shop.CouncilID, shop.ID, productID, seq, version, today()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("keep removed product: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "Ce produit n'est pas dans la liste de ce point de vente.")
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
	return emitShopEdit(ctx, tx, shop, version, seq)
}

// ShopBasket returns the shop's evaluated basket, by product name.
func ShopBasket(ctx context.Context, db bun.IDB, councilID, shopID int64) ([]BasketLine, error) {
	var out []BasketLine
	err := db.NewRaw(basketLinesSQL("ORDER BY p.name, p.id"), councilID, shopID).Scan(ctx, &out)
	return out, err
}

// BasketSince returns what changed in the shop's basket after register
// version `since` was published: the products whose line holds since a
// later change, and the products removed since (Removed, with their last
// evaluation) that were there with that evaluation before. A version
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
	err := db.NewRaw(`SELECT * FROM (`+basketLinesSQL("")+`) l WHERE l.since_seq > ?2
		UNION ALL
		SELECT r.product_id, r.code, r.name, r.item_slug, coalesce(i.name, r.item_slug) AS item_name, r.basket, r.reason,
			r.since_seq, r.from_version, r.valid_from, r.valid_to, true AS removed
		FROM shop_products_removed r
		LEFT JOIN register_items i ON i.council_id = r.council_id AND i.slug = r.item_slug
		WHERE r.council_id = ?0 AND r.shop_id = ?1 AND r.removed_seq > ?2 AND r.since_seq <= ?2
		ORDER BY name, product_id`, councilID, shopID, mark).Scan(ctx, &out)
	return out, err
}

// FindInBasket looks a product up in the shop's basket for the cashier: by
// code when q is a valid code, else by name (accents and case ignored).
func FindInBasket(ctx context.Context, db bun.IDB, councilID, shopID int64, q string) ([]BasketLine, error) {
	var out []BasketLine
	err := db.NewRaw(basketLinesSQL(`AND (p.code_key = ?2 OR (?2 = '' AND unaccent(lower(p.name)) LIKE '%' || unaccent(lower(?3)) || '%'))
		ORDER BY p.name LIMIT 20`), councilID, shopID, codeKey(q), likeEscape(q)).Scan(ctx, &out)
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
