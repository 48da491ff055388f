package catalog_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/testdb"
)

// BenchmarkBasketReevaluation measures what a register change costs the
// baskets: 500 shops × 300 products, and one decision changing the status of
// every category of the register (the worst case: each product of the demo's
// categories changes basket or reason), re-evaluated inside ApplyChange's
// transaction. One op is one whole ApplyChange. Figures in docs/perf.md.
//
//	go test ./catalog -run '^$' -bench BasketReevaluation -benchtime 3x
func BenchmarkBasketReevaluation(b *testing.B) {
	db := testdb.New(b)
	councilID := demoCouncil(b, db)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO shops (council_id, slug, name, kind, commune, status)
		SELECT ?, 'bench-' || g, 'Boutique ' || g, 'epicerie', 'Dieulefit', 'conventionne' FROM generate_series(1, 500) g`, councilID); err != nil {
		b.Fatal(err)
	}
	// 300 products per shop, spread over the register's conventionné categories.
	if _, err := db.ExecContext(ctx, `WITH items AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n
			FROM register_items WHERE council_id = ?0 AND kind = 'category' AND status = 'conventionne')
		INSERT INTO shop_products (council_id, shop_id, name, item_id)
		SELECT ?0, s.id, 'Produit ' || p, i.id FROM shops s CROSS JOIN generate_series(1, 300) p
		JOIN items i ON i.k = p % i.n WHERE s.council_id = ?0 AND s.slug LIKE 'bench-%'`, councilID); err != nil {
		b.Fatal(err)
	}
	var cats []string
	if err := db.NewSelect().Table("register_items").Column("slug").
		Where("council_id = ? AND kind = 'category' AND status = ?", councilID, catalog.Conventionne).Scan(ctx, &cats); err != nil {
		b.Fatal(err)
	}
	change := func(status catalog.Status) catalog.Change {
		ch := catalog.Change{EffectiveOn: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Summary: "Banc d'essai"}
		for _, s := range cats {
			ic := catalog.ItemChange{Slug: s, Status: status}
			if status == catalog.SousConditions {
				ic.Conditions = "Production locale uniquement"
			}
			ch.Items = append(ch.Items, ic)
		}
		return ch
	}
	apply := func(ch catalog.Change) {
		if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := catalog.ApplyChange(ctx, tx, councilID, ch, catalog.DecisionRef{Ref: "bench"})
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	apply(change(catalog.Conventionne)) // the first evaluation of the 150,000 products
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE shop_basket_rows"); err != nil {
		b.Fatal(err)
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM shop_basket_rows WHERE closed_seq IS NULL").Scan(ctx, &n); err != nil || n < 150000 {
		b.Fatalf("%d open rows: %v", n, err)
	}
	// The worst case: every category changes, so every product changes.
	b.Run("every-category", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if i%2 == 0 {
				apply(change(catalog.SousConditions))
			} else {
				apply(change(catalog.Conventionne))
			}
		}
		b.StopTimer()
		var changed int
		if err := db.NewRaw("SELECT count(*) FROM shop_basket_rows WHERE to_version = (SELECT max(to_version) FROM shop_basket_rows)").Scan(ctx, &changed); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(changed), "rows-changed/op")
	})
	// The usual decision: one category (the rice of the issue) changes;
	// only its products are looked at.
	b.Run("one-category", func(b *testing.B) {
		apply(change(catalog.Conventionne))
		one := func(status catalog.Status) catalog.Change {
			ch := change(status)
			ch.Items = ch.Items[:1]
			return ch
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%2 == 0 {
				apply(one(catalog.SousConditions))
			} else {
				apply(one(catalog.Conventionne))
			}
		}
		b.StopTimer()
		var changed int
		if err := db.NewRaw("SELECT count(*) FROM shop_basket_rows WHERE to_version = (SELECT max(to_version) FROM shop_basket_rows)").Scan(ctx, &changed); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(changed), "rows-changed/op")
	})
}

// BenchmarkBasketRead measures the read side of the baskets over the same
// 500 shops × 300 products after a decision: one shop's whole basket (as the
// JSON of /api/v1/shops/{slug}/basket reads it, encoding included), its
// ?since= diff, and the cashier's lookup by name and by code.
//
//	go test ./catalog -run '^$' -bench BasketRead
func BenchmarkBasketRead(b *testing.B) {
	db := testdb.New(b)
	councilID := demoCouncil(b, db)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO shops (council_id, slug, name, kind, commune, status)
		SELECT ?, 'bench-' || g, 'Boutique ' || g, 'epicerie', 'Dieulefit', 'conventionne' FROM generate_series(1, 500) g`, councilID); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `WITH items AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n
			FROM register_items WHERE council_id = ?0 AND kind = 'category' AND status = 'conventionne')
		INSERT INTO shop_products (council_id, shop_id, name, code, code_key, item_id)
		SELECT ?0, s.id, 'Produit ' || p, p::text, 'plu:' || p, i.id FROM shops s CROSS JOIN generate_series(3000, 3299) p
		JOIN items i ON i.k = p % i.n WHERE s.council_id = ?0 AND s.slug LIKE 'bench-%'`, councilID); err != nil {
		b.Fatal(err)
	}
	var cat string
	if err := db.NewSelect().Table("register_items").Column("slug").
		Where("council_id = ? AND kind = 'category' AND status = ?", councilID, catalog.Conventionne).Order("id").Limit(1).Scan(ctx, &cat); err != nil {
		b.Fatal(err)
	}
	apply := func(st catalog.Status) int {
		var n int
		if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			ic := catalog.ItemChange{Slug: cat, Status: st}
			if st == catalog.SousConditions {
				ic.Conditions = "Production locale uniquement"
			}
			v, err := catalog.ApplyChange(ctx, tx, councilID, catalog.Change{EffectiveOn: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
				Summary: "Banc d'essai", Items: []catalog.ItemChange{ic}}, catalog.DecisionRef{Ref: "bench"})
			if v != nil {
				n = v.Number
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
		return n
	}
	before := apply(catalog.Conventionne)
	apply(catalog.SousConditions) // one category in every shop moves
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	shop, err := catalog.ShopBySlug(ctx, db, councilID, "bench-250")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("whole-basket-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lines, err := catalog.ShopBasket(ctx, db, councilID, shop.ID)
			if err != nil || len(lines) != 300 {
				b.Fatalf("%d lines: %v", len(lines), err)
			}
			if _, err := json.Marshal(lines); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("since", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lines, err := catalog.BasketSince(ctx, db, councilID, shop.ID, before)
			if err != nil || len(lines) == 0 || len(lines) == 300 {
				b.Fatalf("%d lines: %v", len(lines), err)
			}
		}
	})
	b.Run("cashier-name", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lines, err := catalog.FindInBasket(ctx, db, councilID, shop.ID, "produit 3234")
			if err != nil || len(lines) != 1 {
				b.Fatalf("%d lines: %v", len(lines), err)
			}
		}
	})
	b.Run("cashier-code", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lines, err := catalog.FindInBasket(ctx, db, councilID, shop.ID, "3234")
			if err != nil || len(lines) != 1 {
				b.Fatalf("%d lines: %v", len(lines), err)
			}
		}
	})
}
