package demo

import (
	"context"
	"testing"

	"cla/catalog"
	"cla/internal/testdb"
)

func TestLoadRegisterIsIdempotentAndOrdered(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('test', 'Conseil test') RETURNING id").Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := LoadRegister(ctx, db, councilID); err != nil {
			t.Fatalf("load %d: %v", i+1, err)
		}
	}
	var items, shops int
	if err := db.NewRaw("SELECT (SELECT count(*) FROM register_items), (SELECT count(*) FROM shops)").Scan(ctx, &items, &shops); err != nil {
		t.Fatal(err)
	}
	if items != 33 || shops != 3 {
		t.Fatalf("after two loads: %d items and %d shops, want 33 and 3", items, shops)
	}

	// The renewals page has something to show: a renewal within the 60-day
	// window, one within 15 days, one past (issue 20, point 10).
	var soon, verySoon, past int
	if err := db.NewRaw(`SELECT count(*) FILTER (WHERE renewal_on > current_date + 15 AND renewal_on <= current_date + 60),
		count(*) FILTER (WHERE renewal_on >= current_date AND renewal_on <= current_date + 15),
		count(*) FILTER (WHERE renewal_on < current_date AND signed_on < renewal_on)
		FROM shops WHERE council_id = ?`, councilID).Scan(ctx, &soon, &verySoon, &past); err != nil {
		t.Fatal(err)
	}
	if soon == 0 || verySoon == 0 || past == 0 {
		t.Errorf("demo renewals: %d within 60 days, %d within 15, %d past; want each at least one", soon, verySoon, past)
	}

	tree, err := catalog.Tree(ctx, db, councilID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree) != 6 || tree[0].Name != "Productions végétales" {
		t.Fatalf("families: got %d, first %q", len(tree), tree[0].Name)
	}
	var rice *catalog.Node
	for _, c := range tree[0].Children {
		if c.Slug == "farines-pates-cereales" && len(c.Children) == 1 {
			rice = c.Children[0]
		}
	}
	if rice == nil || rice.Name != "Riz de Camargue" || rice.Status != catalog.DebatSouhaite {
		t.Fatalf("Riz de Camargue should be a product under Farines, pâtes, céréales with débat souhaité, got %+v", rice)
	}

	counts, err := catalog.StatusCounts(ctx, db, councilID)
	if err != nil {
		t.Fatal(err)
	}
	if counts[catalog.NonConventionne] == 0 || counts[catalog.DebatSouhaite] == 0 || counts[catalog.Conventionne] == 0 {
		t.Fatalf("demo should have every kind of status but sous conditions: %v", counts)
	}
}
