package catalog

import (
	"context"

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
