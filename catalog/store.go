package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/database"
)

// Node is an item with its children, for pages that show the register as a tree.
type Node struct {
	Item
	Children []*Node
}

// Tree returns the council's register as families with their categories and
// products, ordered by position. One query, whatever the register's size.
func Tree(ctx context.Context, db bun.IDB, councilID int64) ([]*Node, error) {
	var items []Item
	err := db.NewSelect().Model(&items).
		Column("id", "parent_id", "kind", "slug", "name", "position", "status", "conditions", "review_on", "reason", "explanation_html",
			"off_category", "gpc_brick", "keywords").
		Where("council_id = ?", councilID).
		Order("position", "id").
		Scan(ctx)
	if err != nil {
		return nil, err
	}
	return buildTree(items), nil
}

func buildTree(items []Item) []*Node {
	nodes := make(map[int64]*Node, len(items))
	for i := range items {
		nodes[items[i].ID] = &Node{Item: items[i]}
	}
	var roots []*Node
	for i := range items {
		n := nodes[items[i].ID]
		if n.ParentID == nil {
			roots = append(roots, n)
		} else if p, ok := nodes[*n.ParentID]; ok {
			p.Children = append(p.Children, n)
		}
	}
	return roots
}

// StatusCounts counts the council's categories and products by status.
func StatusCounts(ctx context.Context, db bun.IDB, councilID int64) (map[Status]int, error) {
	var rows []struct {
		Status Status
		N      int
	}
	err := db.NewSelect().Table("register_items").
		ColumnExpr("status, count(*) AS n").
		Where("council_id = ? AND kind <> 'family'", councilID).
		Group("status").
		Scan(ctx, &rows)
	counts := make(map[Status]int, len(Statuses))
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	return counts, err
}

// Shops lists the council's points de vente by name.
func Shops(ctx context.Context, db bun.IDB, councilID int64) ([]Shop, error) {
	var shops []Shop
	err := db.NewSelect().Model(&shops).
		Column("id", "slug", "name", "kind", "address", "commune", "hours", "status", "description",
			"latitude", "longitude", "contact", "website", "network", "signed_on", "renewal_on").
		Where("council_id = ?", councilID).
		Order("name").
		Scan(ctx)
	return shops, err
}

func isNoRows(err error) bool { return database.IsNoRows(err) }

// loadItems reads every item of the council with all its columns (for changes).
func loadItems(ctx context.Context, db bun.IDB, councilID int64) ([]Item, error) {
	var items []Item
	err := db.NewSelect().Model(&items).Where("council_id = ?", councilID).Order("position", "id").Scan(ctx)
	return items, err
}

// walk visits the tree depth-first: each family, then its categories and their products.
func walk(nodes []*Node, fn func(n *Node, parent *Node)) {
	var rec func(ns []*Node, parent *Node)
	rec = func(ns []*Node, parent *Node) {
		for _, n := range ns {
			fn(n, parent)
			rec(n.Children, n)
		}
	}
	rec(nodes, nil)
}

// snapshotItems lists the council's items in register order, as open data.
func snapshotItems(ctx context.Context, db bun.IDB, councilID int64) ([]SnapshotItem, error) {
	tree, err := Tree(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	out := []SnapshotItem{}
	walk(tree, func(n, parent *Node) {
		si := SnapshotItem{Slug: n.Slug, Kind: n.Kind, Name: n.Name, Status: n.Status, StatusLabel: n.Status.Label(),
			Conditions: n.Conditions, ReviewOn: dateString(n.ReviewOn), Reason: n.Reason, ExplanationHTML: n.ExplanationHTML,
			OFFCategory: n.OFFCategory, GPCBrick: n.GPCBrick, Keywords: Keywords(n.Keywords)}
		if parent != nil {
			si.Parent = parent.Slug
		}
		out = append(out, si)
	})
	return out, nil
}

// shopCategorySlugs maps each shop id of the council to the slugs of the
// register items it carries, in register order. One query.
func shopCategorySlugs(ctx context.Context, db bun.IDB, councilID int64) (map[int64][]string, error) {
	var rows []struct {
		ShopID int64  `bun:"shop_id"`
		Slug   string `bun:"slug"`
	}
	err := db.NewSelect().TableExpr("shop_categories AS sc").
		ColumnExpr("sc.shop_id, i.slug").
		Join("JOIN register_items AS i ON i.id = sc.item_id AND i.council_id = sc.council_id").
		Where("sc.council_id = ?", councilID).
		OrderExpr("sc.shop_id, i.id").
		Scan(ctx, &rows)
	out := make(map[int64][]string)
	for _, r := range rows {
		out[r.ShopID] = append(out[r.ShopID], r.Slug)
	}
	return out, err
}

func snapshotShops(ctx context.Context, db bun.IDB, councilID int64) ([]SnapshotShop, error) {
	shops, err := Shops(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	cats, err := shopCategorySlugs(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotShop, 0, len(shops))
	for _, s := range shops {
		c := cats[s.ID]
		if c == nil {
			c = []string{}
		}
		out = append(out, SnapshotShop{Slug: s.Slug, Name: s.Name, Kind: s.Kind, Commune: s.Commune, Status: s.Status, Categories: c})
	}
	return out, nil
}

// buildSnapshot reads the council's register as version v shows it.
func buildSnapshot(ctx context.Context, db bun.IDB, councilID int64, councilSlug string, v *Version) (*Snapshot, error) {
	items, err := snapshotItems(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	shops, err := snapshotShops(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	return &Snapshot{Council: councilSlug, Version: v.Number, EffectiveOn: v.EffectiveOn.Format(time.DateOnly), Summary: v.Summary,
		Decision: &SnapDecision{Ref: v.DecisionRef, Title: v.DecisionTitle, URL: v.DecisionURL}, Items: items, Shops: shops}, nil
}

// CurrentVersion returns the council's latest register version without its
// snapshot and change lines, or nil when the register has none yet.
func CurrentVersion(ctx context.Context, db bun.IDB, councilID int64) (*Version, error) {
	v := new(Version)
	err := db.NewSelect().Model(v).ExcludeColumn("snapshot", "changes").
		Where("council_id = ?", councilID).Order("number DESC").Limit(1).Scan(ctx)
	if isNoRows(err) {
		return nil, nil
	}
	return v, err
}

// Versions lists the council's register versions, newest first, without snapshots.
func Versions(ctx context.Context, db bun.IDB, councilID int64) ([]Version, error) {
	var vs []Version
	err := db.NewSelect().Model(&vs).ExcludeColumn("snapshot").
		Where("council_id = ?", councilID).Order("number DESC").Scan(ctx)
	return vs, err
}

// VersionByNumber returns one version with its snapshot (apperr.NotFound if none).
func VersionByNumber(ctx context.Context, db bun.IDB, councilID int64, number int) (*Version, error) {
	v := new(Version)
	err := db.NewSelect().Model(v).Where("council_id = ? AND number = ?", councilID, number).Scan(ctx)
	if isNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Cette version du registre n'existe pas.")
	}
	return v, err
}

// ItemBySlug returns one item of the council (apperr.NotFound if none).
func ItemBySlug(ctx context.Context, db bun.IDB, councilID int64, slug string) (*Item, error) {
	it := new(Item)
	err := db.NewSelect().Model(it).Where("council_id = ? AND slug = ?", councilID, slug).Scan(ctx)
	if isNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Cet élément du registre n'existe pas.")
	}
	return it, err
}

// ItemHistory lists the statuses an item received, newest first.
func ItemHistory(ctx context.Context, db bun.IDB, councilID, itemID int64) ([]HistoryEntry, error) {
	var h []HistoryEntry
	err := db.NewSelect().Model(&h).Where("council_id = ? AND item_id = ?", councilID, itemID).
		Order("version_number DESC").Scan(ctx)
	return h, err
}

// ShopBySlug returns one point de vente of the council (apperr.NotFound if none).
func ShopBySlug(ctx context.Context, db bun.IDB, councilID int64, slug string) (*Shop, error) {
	s := new(Shop)
	err := db.NewSelect().Model(s).Where("council_id = ? AND slug = ?", councilID, slug).Scan(ctx)
	if isNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce point de vente n'existe pas.")
	}
	return s, err
}

// ShopByID returns one of the council's shops by id.
func ShopByID(ctx context.Context, db bun.IDB, councilID, id int64) (*Shop, error) {
	s := new(Shop)
	err := db.NewSelect().Model(s).Where("council_id = ? AND id = ?", councilID, id).Scan(ctx)
	if isNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce point de vente n'existe pas.")
	}
	return s, err
}

// InlineProducts is how many products a category may have for the register page
// to list them under it; beyond that it links to the category's own page.
const InlineProducts = 5

// outlineSQL lists the register as the register and home pages show it
// ($1 council, $2 InlineProducts): every family and category with its number
// of products, and the products of the categories that have at most $2 of
// them. A page of bounded size however many products the register holds:
// each item keeps the count of its products (register_items.product_count,
// maintained by triggers).
const outlineSQL = `SELECT i.id, i.parent_id, i.position, i.slug, i.name, i.status, i.conditions, i.review_on,
		i.reason, i.explanation_html, i.product_count
	FROM register_items AS i
	WHERE i.council_id = $1 AND i.kind <> 'product'
	UNION ALL
	SELECT p.id, p.parent_id, p.position, p.slug, p.name, p.status, p.conditions, p.review_on,
		p.reason, p.explanation_html, 0
	FROM register_items AS c JOIN register_items AS p ON p.council_id = c.council_id AND p.kind = 'product' AND p.parent_id = c.id
	WHERE c.council_id = $1 AND c.kind <> 'product' AND c.product_count BETWEEN 1 AND $2
	ORDER BY 3, 1`

// currentVersionSQL reads the council's ($1) latest version, without its
// snapshot and change lines.
const currentVersionSQL = `SELECT id, council_id, number, effective_on, summary, decision_ref, decision_title, decision_url, created_at
	FROM register_versions WHERE council_id = $1 ORDER BY number DESC LIMIT 1`

// CurrentRegister returns what the register and home pages show: the outline
// of the register (outlineSQL) as rows, and the version in force (nil before
// the first one). The uncached register page is measured (docs/perf.md), so
// both queries go in one round trip, through pgx itself rather than
// database/sql: the second round trip and the per-value conversions were a
// third of the page's time.
func CurrentRegister(ctx context.Context, db *bun.DB, councilID int64) ([]*Row, *Version, error) {
	var roots []*Row
	var cur *Version
	var b pgx.Batch
	b.Queue(outlineSQL, councilID, InlineProducts)
	b.Queue(currentVersionSQL, councilID)
	err := database.SendBatch(ctx, db, &b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		if roots, err = scanOutline(rows); err != nil {
			return err
		}
		v := new(Version)
		err = br.QueryRow().Scan(&v.ID, &v.CouncilID, &v.Number, &v.EffectiveOn, &v.Summary, &v.DecisionRef, &v.DecisionTitle,
			&v.DecisionURL, &v.CreatedAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		cur = v
		return nil
	})
	return roots, cur, err
}

// scanOutline reads the rows of outlineSQL into a tree of rows.
func scanOutline(rows pgx.Rows) ([]*Row, error) {
	defer rows.Close()
	type node struct {
		row    *Row
		parent *int64
	}
	order := make([]node, 0, 128)
	byID := make(map[int64]*Row, 128)
	for rows.Next() {
		var id int64
		var position int
		r, n := new(Row), node{}
		if err := rows.Scan(&id, &n.parent, &position, &r.Slug, &r.Name, &r.Status, &r.Conditions, &r.ReviewOn, &r.Reason,
			&r.ExplanationHTML, &r.ProductCount); err != nil {
			return nil, err
		}
		r.StatusLabel, r.More = r.Status.Label(), r.ProductCount > InlineProducts
		n.row, byID[id] = r, r
		order = append(order, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var roots []*Row
	for _, n := range order {
		if n.parent == nil {
			roots = append(roots, n.row)
		} else if p := byID[*n.parent]; p != nil {
			p.Children = append(p.Children, n.row)
		}
	}
	return roots, nil
}

// itemColumns are the columns public pages show.
var itemColumns = []string{"id", "parent_id", "kind", "slug", "name", "position", "status", "conditions", "review_on", "reason", "explanation_html",
	"off_category", "gpc_brick"}

// ItemFamily returns the item with its parent (nil for a family) and children.
// Two queries.
func ItemFamily(ctx context.Context, db bun.IDB, councilID int64, slug string) (*Node, *Item, error) {
	it := new(Item)
	err := db.NewSelect().Model(it).Column(itemColumns...).Where("council_id = ? AND slug = ?", councilID, slug).Scan(ctx)
	if isNoRows(err) {
		return nil, nil, apperr.New(apperr.NotFound, "Cet élément du registre n'existe pas.")
	}
	if err != nil {
		return nil, nil, err
	}
	var kin []Item
	q := db.NewSelect().Model(&kin).Column(itemColumns...).Where("council_id = ?", councilID)
	if it.ParentID != nil {
		q = q.Where("(parent_id = ? OR id = ?)", it.ID, *it.ParentID)
	} else {
		q = q.Where("parent_id = ?", it.ID)
	}
	if err := q.Order("position", "id").Scan(ctx); err != nil {
		return nil, nil, err
	}
	n := &Node{Item: *it}
	var parent *Item
	for i := range kin {
		if it.ParentID != nil && kin[i].ID == *it.ParentID {
			parent = &kin[i]
		} else {
			n.Children = append(n.Children, &Node{Item: kin[i]})
		}
	}
	return n, parent, nil
}

// ShopItems returns the register items a shop carries, with their children,
// in register order. One query.
func ShopItems(ctx context.Context, db bun.IDB, councilID, shopID int64) ([]*Node, error) {
	var rows []struct {
		Item
		Carried bool `bun:"carried"`
	}
	err := db.NewRaw(`WITH carried AS (SELECT item_id FROM shop_categories WHERE council_id = ? AND shop_id = ?)
		SELECT i.id, i.parent_id, i.kind, i.slug, i.name, i.position, i.status, i.conditions, i.review_on, i.reason,
			i.explanation_html, i.id IN (SELECT item_id FROM carried) AS carried
		FROM register_items AS i
		WHERE i.council_id = ? AND (i.id IN (SELECT item_id FROM carried) OR i.parent_id IN (SELECT item_id FROM carried))
		ORDER BY i.id`, councilID, shopID, councilID).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	nodes := make(map[int64]*Node, len(rows))
	for i := range rows {
		nodes[rows[i].ID] = &Node{Item: rows[i].Item}
	}
	var out []*Node
	for i := range rows {
		n := nodes[rows[i].ID]
		if rows[i].Carried {
			out = append(out, n)
		}
		if n.ParentID != nil && !rows[i].Carried {
			if p := nodes[*n.ParentID]; p != nil {
				p.Children = append(p.Children, n)
			}
		}
	}
	return out, nil
}

// Excluded returns the families and categories the allocation never pays for
// (non conventionné), in the order they were added. One query.
func Excluded(ctx context.Context, db bun.IDB, councilID int64) ([]Item, error) {
	var items []Item
	err := db.NewSelect().Model(&items).Column(itemColumns...).
		Where("council_id = ? AND kind <> 'product' AND status = ?", councilID, NonConventionne).
		Order("id").Scan(ctx)
	return items, err
}

// Row is an item as the register and home pages render it: flat fields, which
// templates read much faster than the promoted fields of Node.
type Row struct {
	Slug            string
	Name            string
	Status          Status
	StatusLabel     string
	Conditions      string
	ReviewOn        *time.Time
	Reason          string
	ExplanationHTML string
	ProductCount    int
	// More is true when the products are listed on the item's own page only.
	More     bool
	Children []*Row
}
