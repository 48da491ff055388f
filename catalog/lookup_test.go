package catalog_test

import (
	"context"
	"testing"

	"cla/catalog"
	"cla/internal/testdb"
)

// The reads governance goes through keep to the council's own register.
func TestLookupsForGovernance(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	co := demoCouncil(t, db)
	ctx := context.Background()

	items, err := catalog.ItemsBelowFamilies(ctx, db, co)
	if err != nil || len(items) < 2 {
		t.Fatalf("demo items: %d, %v", len(items), err)
	}
	// Ids that are not the council's items are dropped by the subquery.
	got, err := catalog.ItemsIn(ctx, db, co, catalog.ItemIDsQuery(db, co, []int64{items[1].ID, items[0].ID, -1}))
	if err != nil || len(got) != 2 || got[0].ID != items[0].ID || got[1].ID != items[1].ID || got[0].Slug == "" || got[0].Status == "" {
		t.Fatalf("items in, by name: %+v, %v", got, err)
	}
	if got, err := catalog.ItemsIn(ctx, db, co+1000, catalog.ItemIDsQuery(db, co, []int64{items[0].ID})); err != nil || len(got) != 0 {
		t.Fatalf("another council's items: %+v, %v", got, err)
	}

	cats, err := catalog.CategoryOptions(ctx, db, co)
	if err != nil || len(cats) == 0 {
		t.Fatalf("categories: %v, %v", cats, err)
	}
	withFamily := false
	for _, c := range cats {
		if c.Slug == "" || c.Name == "" {
			t.Errorf("category without slug or name: %+v", c)
		}
		withFamily = withFamily || c.Family != ""
	}
	if !withFamily {
		t.Errorf("no category names its family: %+v", cats)
	}

	shops, err := catalog.ShopNames(ctx, db, co)
	if err != nil || len(shops) == 0 {
		t.Fatalf("demo shops: %v, %v", shops, err)
	}
	taken, err := catalog.ShopSlug(ctx, db, co, shops[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if slug, err := catalog.FreeShopSlug(ctx, db, co, taken); err != nil || slug != taken+"-2" {
		t.Errorf("free slug after %q: %q, %v", taken, slug, err)
	}
	if slug, err := catalog.FreeShopSlug(ctx, db, co, "boutique-inconnue"); err != nil || slug != "boutique-inconnue" {
		t.Errorf("free slug: %q, %v", slug, err)
	}
}
