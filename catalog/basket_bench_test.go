package catalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/testdb"
	"cla/internal/webhook"
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
		Where("council_id = ? AND kind = 'category' AND status = ?", councilID, catalog.Conventionne).Order("id").Scan(ctx, &cats); err != nil {
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
	apply(change(catalog.Conventionne)) // the first periods of the categories
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	shop, err := catalog.ShopBySlug(ctx, db, councilID, "bench-1")
	if err != nil {
		b.Fatal(err)
	}
	// changed reports what the last op changed: the product lines that hold
	// since it (in the 500 shops), and the period rows it wrote.
	changed := func(b *testing.B) {
		b.Helper()
		var lines, periods int
		if err := db.NewRaw(`SELECT count(*) FROM shop_products p JOIN basket_item_periods ip ON ip.item_id = p.item_id AND ip.closed_seq IS NULL
			WHERE ip.seq = (SELECT max(seq) FROM shop_basket_marks)`).Scan(ctx, &lines); err != nil {
			b.Fatal(err)
		}
		if err := db.NewRaw(`SELECT count(*) FROM basket_item_periods WHERE seq = (SELECT max(seq) FROM shop_basket_marks)
			OR closed_seq = (SELECT max(seq) FROM shop_basket_marks)`).Scan(ctx, &periods); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(lines), "lines-changed/op")
		b.ReportMetric(float64(periods), "period-rows/op")
	}
	// check reads one shop's basket after the last op: every line in the
	// basket the last status gives, with its reason.
	check := func(b *testing.B, status catalog.Status, want int) {
		b.Helper()
		lines, err := catalog.ShopBasket(ctx, db, councilID, shop.ID)
		if err != nil || len(lines) != 300 {
			b.Fatalf("%d lines: %v", len(lines), err)
		}
		n := 0
		for _, l := range lines {
			if l.Basket == catalog.BasketConventionne && strings.Contains(l.Reason, "sous conditions") == (status == catalog.SousConditions) {
				n++
			}
		}
		if n != want {
			b.Fatalf("%d lines follow the change to %s, want %d", n, status, want)
		}
	}
	// run applies b.N changes alternating between two statuses, checks the
	// result (after, then one shop's lines: want of them follow the last
	// change) and goes back to the start.
	run := func(b *testing.B, mk func(catalog.Status) catalog.Change, want int, after func()) {
		b.ResetTimer()
		last := catalog.Conventionne
		for i := 0; i < b.N; i++ {
			last = catalog.SousConditions
			if i%2 == 1 {
				last = catalog.Conventionne
			}
			apply(mk(last))
		}
		b.StopTimer()
		if after != nil {
			after()
		}
		changed(b)
		check(b, last, want)
		apply(change(catalog.Conventionne))
	}
	// The worst case: every category changes, so every product changes.
	b.Run("every-category", func(b *testing.B) { run(b, change, 300, nil) })
	// The usual decision: one category (the rice of the issue) changes;
	// only its products are looked at.
	one := func(status catalog.Status) catalog.Change {
		ch := change(status)
		ch.Items = ch.Items[:1]
		return ch
	}
	b.Run("one-category", func(b *testing.B) {
		per := 0
		for p := 1; p <= 300; p++ {
			if p%len(cats) == 0 {
				per++
			}
		}
		// After an even number of ops, the category is back to
		// conventionné: all 300 lines read "Conventionné par le Conseil".
		want := 300
		if b.N%2 == 1 {
			want = per
		}
		run(b, one, want, nil)
	})
	// The worst case again, with an endpoint subscribed to
	// shop.basket_changed: the 500 shops' webhooks (one delivery and one job
	// each) are queued in the decision's transaction.
	b.Run("every-category-webhooks", func(b *testing.B) {
		if _, err := db.ExecContext(ctx, `INSERT INTO webhook_endpoints (council_id, url, events, secret)
			VALUES (?, 'https://caisse.example.org/hooks', ARRAY['shop.basket_changed'], ?)`, councilID, webhook.NewSecret()); err != nil {
			b.Fatal(err)
		}
		var before int
		if err := db.NewRaw("SELECT count(*) FROM webhook_deliveries").Scan(ctx, &before); err != nil {
			b.Fatal(err)
		}
		run(b, change, 300, func() {
			var after int
			if err := db.NewRaw("SELECT count(*) FROM webhook_deliveries").Scan(ctx, &after); err != nil {
				b.Fatal(err)
			}
			if per := float64(after-before) / float64(b.N); per != 500 {
				b.Fatalf("%v deliveries per op, want 500", per)
			}
		})
		b.ReportMetric(500, "webhooks/op")
		if _, err := db.ExecContext(ctx, "DELETE FROM webhook_endpoints"); err != nil {
			b.Fatal(err)
		}
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
