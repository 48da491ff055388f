package catalog_test

import (
	"context"
	"testing"

	"cla/catalog"
	"cla/demo"
	"cla/internal/testdb"
)

func TestTreeIsScopedToOneCouncil(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	var a, b int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('conseil-a', 'A'), ('conseil-b', 'B') RETURNING id").Scan(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = 'conseil-b'").Scan(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadRegister(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	tree, err := catalog.Tree(ctx, db, b)
	if err != nil {
		t.Fatal(err)
	}
	shops, err := catalog.Shops(ctx, db, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree) != 0 || len(shops) != 0 {
		t.Fatalf("council B sees council A's rows: %d families, %d shops", len(tree), len(shops))
	}
}
