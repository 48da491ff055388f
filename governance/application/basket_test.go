package application_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/application"
	"cla/internal/audit"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// A shop edits its product list through its private follow-up link, and only
// its own: another shop's link cannot touch it (404, nothing written), nor can
// a forged link or the link of an application the council has not yet turned
// into a point de vente.
func TestBasketThroughThePrivateLinkIsTheShopsOwn(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var facID int64
	if err := db.NewRaw("SELECT account_id FROM memberships WHERE council_id = ? AND role = 'facilitator' LIMIT 1", co.ID).Scan(ctx, &facID); err != nil {
		t.Fatal(err)
	}
	fac := audit.Actor{AccountID: facID, Name: "Animatrice", Role: "facilitator"}
	submit := func(name string, propose bool) string {
		a := validApplication()
		a.CouncilID, a.ShopName, a.SIRET, a.Kind = co.ID, name, "", "marche"
		token, err := application.SubmitApplication(ctx, db, a, "192.0.2."+name[len(name)-1:])
		if err != nil {
			t.Fatal(err)
		}
		if propose {
			got, err := application.GetApplication(ctx, db, co.ID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := application.ProposeApplication(ctx, db, got, application.DraftProposal(got, nil), fac); err != nil {
				t.Fatal(err)
			}
		}
		return token
	}
	tokenA, tokenB, tokenC := submit("Marché 1", true), submit("Marché 2", true), submit("Marché 3", false)
	web := apptest.New(t, db, app.Config{})
	c := webtest.New(t, web)
	c.Host = webtest.HostFor(t, db, co.ID)
	count := func() int {
		t.Helper()
		n, err := db.NewSelect().Table("shop_products").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The follow-up page links to the list; the list page opens.
	if _, body := c.Get("/candidature/" + tokenA); !strings.Contains(body, `href="/candidature/`+tokenA+`/panier"`) {
		t.Fatal("follow-up page lacks the link to the product list")
	}
	if resp, _ := c.Get("/candidature/" + tokenA + "/panier"); resp.StatusCode != 200 {
		t.Fatalf("list page: %d", resp.StatusCode)
	}
	resp, body := c.PostForm("/candidature/"+tokenA+"/panier", url.Values{"name": {"Pain de campagne"}, "code": {"3761234500014"}, "item": {"pain"}})
	if resp.StatusCode != http.StatusSeeOther || count() != 1 {
		t.Fatalf("add through A's link: %d %.300s", resp.StatusCode, body)
	}
	// The shop is still a candidate: its basket says so.
	if _, body := c.Get("/candidature/" + tokenA + "/panier"); !strings.Contains(html.UnescapeString(body), "n'est pas conventionné") {
		t.Fatalf("candidate shop's basket: %.2000s", body)
	}
	id := productID(t, db)
	// B's link on A's product: not found, nothing removed.
	if resp, _ := c.PostForm("/candidature/"+tokenB+"/panier/"+strconv.FormatInt(id, 10)+"/supprimer", nil); resp.StatusCode != http.StatusNotFound || count() != 1 {
		t.Fatalf("B's link deleting A's product: %d, %d products", resp.StatusCode, count())
	}
	// A forged link, or one without a shop yet: not found, nothing written.
	for _, tok := range []string{strings.Repeat("A", 43), tokenC} {
		for _, path := range []string{"/panier", "/panier/import/confirmer"} {
			resp, _ := c.PostForm("/candidature/"+tok+path, url.Values{"name": {"Intrus"}, "item": {"pain"}, "csv": {"nom;code;element\nIntrus;;pain\n"}})
			if resp.StatusCode != http.StatusNotFound || count() != 1 {
				t.Fatalf("%s%s: %d, %d products", tok[:4], path, resp.StatusCode, count())
			}
		}
	}
	// A's own link removes it.
	if resp, _ := c.PostForm("/candidature/"+tokenA+"/panier/"+strconv.FormatInt(id, 10)+"/supprimer", nil); resp.StatusCode != http.StatusSeeOther || count() != 0 {
		t.Fatalf("A's link deleting A's product: %d, %d products", resp.StatusCode, count())
	}
}

func productID(t *testing.T, db *bun.DB) int64 {
	t.Helper()
	var id int64
	if err := db.NewRaw("SELECT min(id) FROM shop_products").Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}
