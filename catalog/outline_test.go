package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cla/catalog"
	"cla/internal/web"
)

// Every item keeps the count of its products, whatever writes the register:
// ApplyChange, or plain SQL moving and deleting products. The register page
// lists the products of small categories and links to the big ones.
func TestProductCountsAndOutline(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	ctx := context.Background()
	ch := catalog.Change{EffectiveOn: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Summary: "Céréales"}
	ch.Items = append(ch.Items,
		catalog.ItemChange{Slug: "cereales-test", Name: "Céréales d'essai", Kind: catalog.Family, Status: catalog.Conventionne},
		catalog.ItemChange{Slug: "petite-categorie", Name: "Petite catégorie", ParentSlug: "cereales-test", Kind: catalog.Category, Status: catalog.Conventionne},
		catalog.ItemChange{Slug: "grande-categorie", Name: "Grande catégorie <b>", ParentSlug: "cereales-test", Kind: catalog.Category, Status: catalog.Conventionne})
	for i := 0; i < 2; i++ {
		ch.Items = append(ch.Items, catalog.ItemChange{Slug: fmt.Sprintf("petit-produit-%d", i), Name: fmt.Sprintf("Petit produit %d", i),
			ParentSlug: "petite-categorie", Kind: catalog.Product, Status: catalog.Conventionne})
	}
	for i := 0; i < catalog.InlineProducts+1; i++ {
		ch.Items = append(ch.Items, catalog.ItemChange{Slug: fmt.Sprintf("grand-produit-%d", i), Name: fmt.Sprintf("Grand produit %d", i),
			ParentSlug: "grande-categorie", Kind: catalog.Product, Status: catalog.Conventionne})
	}
	if _, err := applyInTx(t, db, councilID, ch, catalog.DecisionRef{Title: "Essai"}); err != nil {
		t.Fatal(err)
	}
	// The stored counts equal the products counted now.
	checkCounts := func(when string) {
		t.Helper()
		var wrong []string
		if err := db.NewRaw(`SELECT i.slug FROM register_items AS i
			WHERE i.product_count <> (SELECT count(*) FROM register_items AS c WHERE c.parent_id = i.id AND c.kind = 'product')`).
			Scan(ctx, &wrong); err != nil {
			t.Fatal(err)
		}
		if len(wrong) > 0 {
			t.Fatalf("%s: wrong product counts for %v", when, wrong)
		}
	}
	checkCounts("after ApplyChange")
	outline := func() map[string]*catalog.Row {
		t.Helper()
		rows, _, err := catalog.CurrentRegister(ctx, db, councilID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rows {
			if f.Slug == "cereales-test" {
				out := map[string]*catalog.Row{}
				for _, c := range f.Children {
					out[c.Slug] = c
				}
				return out
			}
		}
		t.Fatal("family not in the outline")
		return nil
	}
	cats := outline()
	small, big := cats["petite-categorie"], cats["grande-categorie"]
	if small == nil || big == nil || small.More || len(small.Children) != 2 || small.ProductCount != 2 ||
		!big.More || len(big.Children) != 0 || big.ProductCount != catalog.InlineProducts+1 {
		t.Fatalf("outline: small %+v, big %+v", small, big)
	}

	// Moving a product by hand recounts both parents: the big category becomes
	// small enough to list its products.
	if _, err := db.ExecContext(ctx, `UPDATE register_items SET parent_id = (SELECT id FROM register_items WHERE slug = 'petite-categorie' AND council_id = ?)
		WHERE slug = 'grand-produit-0' AND council_id = ?`, councilID, councilID); err != nil {
		t.Fatal(err)
	}
	checkCounts("after a move")
	// A product written and deleted by hand (without history, which is kept).
	if _, err := db.ExecContext(ctx, `INSERT INTO register_items (council_id, parent_id, kind, slug, name, position, status)
		SELECT council_id, id, 'product', 'produit-manuel', 'Produit manuel', 1, 'conventionne' FROM register_items
		WHERE slug = 'grande-categorie' AND council_id = ?`, councilID); err != nil {
		t.Fatal(err)
	}
	checkCounts("after an insert")
	if _, err := db.ExecContext(ctx, `DELETE FROM register_items WHERE slug = 'produit-manuel' AND council_id = ?`, councilID); err != nil {
		t.Fatal(err)
	}
	checkCounts("after a delete")
	cats = outline()
	if small, big := cats["petite-categorie"], cats["grande-categorie"]; small.ProductCount != 3 || small.More || len(small.Children) != 3 ||
		big.ProductCount != catalog.InlineProducts || big.More || len(big.Children) != catalog.InlineProducts {
		t.Fatalf("outline after changes: small %+v, big %+v", small, big)
	}

	// The page shows the same, escaped.
	// A flash cookie (even an invalid one) keeps the shared cache out of the way.
	_, body := get(t, app, "/registre", "Cookie", web.FlashCookie+"=x")
	for _, want := range []string{`<li id="grande-categorie"><a href="/registre/grande-categorie"><strong>Grande catégorie &lt;b&gt;</strong></a>`,
		`<li id="grand-produit-2"><a href="/registre/grand-produit-2">Grand produit 2</a>`, `<li id="petit-produit-1">`} {
		if !strings.Contains(body, want) {
			t.Errorf("register page lacks %s", want)
		}
	}
}
