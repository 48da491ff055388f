package catalog

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/database"
)

// Small reads of the register for the governance packages, which do not
// name the register's tables in their own SQL (docs/decisions.md "One way to
// reach PostgreSQL"): a renamed column breaks the build here, not a page.

// Named is an item or a shop as a choice of a form: its id and name.
type Named struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// ItemNames lists the council's register items (every kind), by name.
func ItemNames(ctx context.Context, db bun.IDB, councilID int64) ([]Named, error) {
	var out []Named
	err := db.NewSelect().Model((*Item)(nil)).Column("id", "name").
		Where("council_id = ?", councilID).OrderExpr("name, id").Scan(ctx, &out)
	return out, err
}

// ShopNames lists the council's points de vente, by name.
func ShopNames(ctx context.Context, db bun.IDB, councilID int64) ([]Named, error) {
	var out []Named
	err := db.NewSelect().Model((*Shop)(nil)).Column("id", "name").
		Where("council_id = ?", councilID).OrderExpr("name, id").Scan(ctx, &out)
	return out, err
}

// ItemExists reports whether the council's register has the item id.
func ItemExists(ctx context.Context, db bun.IDB, councilID, id int64) (bool, error) {
	return db.NewSelect().Model((*Item)(nil)).Where("id = ? AND council_id = ?", id, councilID).Exists(ctx)
}

// ShopExists reports whether the council has the point de vente id.
func ShopExists(ctx context.Context, db bun.IDB, councilID, id int64) (bool, error) {
	return db.NewSelect().Model((*Shop)(nil)).Where("id = ? AND council_id = ?", id, councilID).Exists(ctx)
}

// ItemKindAndSlug returns the slug and kind of the council's item id
// (NotFound when it has none).
func ItemKindAndSlug(ctx context.Context, db bun.IDB, councilID, id int64) (string, Kind, error) {
	it := new(Item)
	err := db.NewSelect().Model(it).Column("slug", "kind").Where("id = ? AND council_id = ?", id, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return "", "", apperr.New(apperr.NotFound, "Ce produit n'existe pas dans le registre de ce Conseil.")
	}
	return it.Slug, it.Kind, err
}

// ShopSlug returns the slug of the council's point de vente id (NotFound
// when it has none).
func ShopSlug(ctx context.Context, db bun.IDB, councilID, id int64) (string, error) {
	var slug string
	err := db.NewSelect().Model((*Shop)(nil)).Column("slug").Where("id = ? AND council_id = ?", id, councilID).Scan(ctx, &slug)
	if database.IsNoRows(err) {
		return "", apperr.New(apperr.NotFound, "Ce point de vente n'existe pas dans ce Conseil.")
	}
	return slug, err
}

// ItemsBelowFamilies lists the council's categories and products (no
// families), by name, with their id, slug, name and status.
func ItemsBelowFamilies(ctx context.Context, db bun.IDB, councilID int64) ([]Item, error) {
	var out []Item
	err := db.NewSelect().Model(&out).Column("id", "slug", "name", "status").
		Where("council_id = ? AND kind <> ?", councilID, Family).OrderExpr("name").Scan(ctx)
	return out, err
}

// HasRegister reports whether the council has register items or a published
// register version (an exchange file only starts an empty council).
func HasRegister(ctx context.Context, db bun.IDB, councilID int64) (bool, error) {
	if ok, err := db.NewSelect().Model((*Item)(nil)).Where("council_id = ?", councilID).Exists(ctx); ok || err != nil {
		return ok, err
	}
	return db.NewSelect().Table("register_versions").Where("council_id = ?", councilID).Exists(ctx)
}

// CategoryOption is a register category a point de vente may say it sells,
// with the name of its family ("" for none).
type CategoryOption struct {
	Slug   string `bun:"slug"`
	Name   string `bun:"name"`
	Family string `bun:"family"`
}

// CategoryOptions lists the council's categories under their family, in
// register order, in one query.
func CategoryOptions(ctx context.Context, db bun.IDB, councilID int64) ([]CategoryOption, error) {
	var out []CategoryOption
	err := db.NewRaw(`SELECT c.slug, c.name, coalesce(f.name, '') AS family
		FROM register_items c LEFT JOIN register_items f ON f.id = c.parent_id AND f.council_id = c.council_id
		WHERE c.council_id = ? AND c.kind = ?
		ORDER BY f.position NULLS FIRST, f.id, c.position, c.id`, councilID, Category).Scan(ctx, &out)
	return out, err
}

// FreeShopSlug returns base, or base-2, base-3… the first one no point de
// vente of the council has yet.
func FreeShopSlug(ctx context.Context, db bun.IDB, councilID int64, base string) (string, error) {
	var taken []string
	if err := db.NewSelect().Model((*Shop)(nil)).Column("slug").
		Where("council_id = ? AND (slug = ? OR slug LIKE ?)", councilID, base, base+"-%").Scan(ctx, &taken); err != nil {
		return "", err
	}
	used := make(map[string]bool, len(taken))
	for _, s := range taken {
		used[s] = true
	}
	slug := base
	for i := 2; used[slug]; i++ {
		slug = fmt.Sprintf("%s-%d", base, i)
	}
	return slug, nil
}

// AddShopCategories says that the council's point de vente shopID sells the
// categories named by slugs, in one statement; unknown slugs are skipped.
func AddShopCategories(ctx context.Context, db bun.IDB, councilID, shopID int64, slugs []string) error {
	if len(slugs) == 0 {
		return nil
	}
	_, err := db.NewRaw(`INSERT INTO shop_categories (council_id, shop_id, item_id)
		SELECT ?, ?, id FROM register_items WHERE council_id = ? AND slug IN (?)`,
		councilID, shopID, councilID, bun.List(slugs)).Exec(ctx)
	return err
}

// ItemIDsQuery is a subquery of the ids among ids that are the council's
// register items, for a statement of another package that must link only
// those (one statement, no read-then-write).
func ItemIDsQuery(db bun.IDB, councilID int64, ids []int64) *bun.SelectQuery {
	return db.NewSelect().Model((*Item)(nil)).Column("id").
		Where("council_id = ? AND id IN (?)", councilID, bun.List(ids))
}

// ItemsIn lists the council's register items whose id the subquery ids
// returns (one column of ids), by name, with their id, slug, name and status,
// in one statement.
func ItemsIn(ctx context.Context, db bun.IDB, councilID int64, ids *bun.SelectQuery) ([]Item, error) {
	var out []Item
	err := db.NewSelect().Model(&out).Column("id", "slug", "name", "status").
		Where("council_id = ? AND id IN (?)", councilID, ids).OrderExpr("name").Scan(ctx)
	return out, err
}
