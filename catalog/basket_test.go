package catalog_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/idempotency"
	"cla/internal/webhook"
	"cla/internal/webtest"
)

// Valid EAN-13 codes (check digits computed by hand) and one with a wrong
// check digit.
const (
	eanRice1   = "3761234500014"
	eanRice2   = "3761234500021"
	eanFlour   = "3761234500038"
	eanBadDigi = "3761234500015"
)

func shopID(t *testing.T, db *bun.DB, councilID int64, slug string) int64 {
	t.Helper()
	s, err := catalog.ShopBySlug(context.Background(), db, councilID, slug)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func productCount(t *testing.T, db *bun.DB) int {
	t.Helper()
	n, err := db.NewSelect().Table("shop_products").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func basketDoc(t *testing.T, body string) catalog.APIBasket {
	t.Helper()
	var b catalog.APIBasket
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("basket JSON: %v in %.300s", err, body)
	}
	return b
}

func findLine(b catalog.APIBasket, name string) *catalog.APIBasketLine {
	for i := range b.Products {
		if b.Products[i].Name == name {
			return &b.Products[i]
		}
	}
	return nil
}

// A decision that moves "Riz de Camargue" to sous_conditions changes, in its
// own transaction, the basket of every shop selling rice, the ?since= diff and
// the cashier page.
func TestRegisterChangeMovesEveryBasketSellingTheItem(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	ctx := context.Background()
	shops := []string{"marche-du-lavoir", "marche-de-pont-de-barret"}
	rice := map[string]string{"marche-du-lavoir": "Riz de Camargue 1 kg", "marche-de-pont-de-barret": "Riz complet de Camargue"}
	codes := map[string]string{"marche-du-lavoir": eanRice1, "marche-de-pont-de-barret": eanRice2}
	for _, slug := range shops {
		bad, err := catalog.AddProducts(ctx, db, councilID, shopID(t, db, councilID, slug), []catalog.ProductInput{
			{Name: rice[slug], Code: codes[slug], Item: "riz-de-camargue"},
			{Name: "Farine de petit épeautre", Code: eanFlour, Item: "farines-pates-cereales"},
		}, audit.Actor{Name: "Test"})
		if err != nil || len(bad) > 0 {
			t.Fatalf("%s: %v %+v", slug, err, bad)
		}
	}
	// A shop that sells no rice keeps its basket as it is.
	if bad, err := catalog.AddProducts(ctx, db, councilID, shopID(t, db, councilID, "fournil-des-cometes"),
		[]catalog.ProductInput{{Name: "Pain au levain", Code: "", Item: "pain"}}, audit.Actor{Name: "Test"}); err != nil || len(bad) > 0 {
		t.Fatalf("fournil: %v %+v", err, bad)
	}

	for _, slug := range shops {
		_, body := get(t, app, "/api/v1/shops/"+slug+"/basket")
		b := basketDoc(t, body)
		if b.Version != 1 || len(b.Products) != 2 {
			t.Fatalf("%s before: %+v", slug, b)
		}
		r := findLine(b, rice[slug])
		if r == nil || r.Basket != catalog.BasketNonConventionne || r.Item != "riz-de-camargue" || r.Code != codes[slug] ||
			!strings.Contains(r.Reason, "débat") || r.ValidTo != nil {
			t.Fatalf("%s: rice before the decision: %+v", slug, r)
		}
		if f := findLine(b, "Farine de petit épeautre"); f == nil || f.Basket != catalog.BasketConventionne {
			t.Fatalf("%s: flour %+v", slug, f)
		}
		_, page := get(t, app, "/points-de-vente/"+slug+"/caisse?q=riz")
		if !strings.Contains(html.UnescapeString(page), "Produit non conventionné") {
			t.Fatalf("%s: cashier page before: %.500s", slug, page)
		}
	}

	// An unrelated decision (version 2), so that the rice's is version 3 and
	// ?since=2 holds only what the rice decision changed: the products were
	// listed after version 1, and ?since=1 includes them.
	if _, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC),
		Summary: "Les glaces en débat", Items: []catalog.ItemChange{{Slug: "glaces", Status: catalog.DebatSouhaite}}},
		catalog.DecisionRef{Ref: "decision:8"}); err != nil {
		t.Fatal(err)
	}

	// The decision, as assembly records it: ApplyChange inside its transaction.
	review := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	v, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		Summary: "Le riz de Camargue est conventionné sous conditions",
		Items: []catalog.ItemChange{{Slug: "riz-de-camargue", Status: catalog.SousConditions,
			Conditions: "Riz biologique de Camargue uniquement", ReviewOn: &review}}},
		catalog.DecisionRef{Ref: "decision:9", Title: "Séance de novembre 2026", URL: "/decisions/9"})
	if err != nil || v.Number != 3 {
		t.Fatalf("apply: %v %+v", err, v)
	}

	for _, slug := range shops {
		r := waitFor(t, app, "/api/v1/shops/"+slug+"/basket", func(r *httpResult) bool {
			return strings.Contains(r.body, `"version":3`)
		})
		b := basketDoc(t, r.body)
		l := findLine(b, rice[slug])
		if l == nil || l.Basket != catalog.BasketConventionne || !strings.Contains(l.Reason, "Riz biologique de Camargue uniquement") ||
			l.ValidFrom != "2027-01-01" || l.ValidTo != nil {
			t.Fatalf("%s: rice after the decision: %+v", slug, l)
		}
		// ?since=2 gives the rice only: the flour did not change.
		_, body := get(t, app, "/api/v1/shops/"+slug+"/basket?since=2")
		d := basketDoc(t, body)
		if d.Since == nil || *d.Since != 2 || len(d.Products) != 1 || d.Products[0].Name != rice[slug] || d.Products[0].Basket != catalog.BasketConventionne {
			t.Fatalf("%s: ?since=2 = %s", slug, body)
		}
		// Nothing changed since version 3; since version 1, both products (listed after it).
		if _, body := get(t, app, "/api/v1/shops/"+slug+"/basket?since=3"); len(basketDoc(t, body).Products) != 0 {
			t.Fatalf("%s: ?since=3 = %s", slug, body)
		}
		if _, body := get(t, app, "/api/v1/shops/"+slug+"/basket?since=1"); len(basketDoc(t, body).Products) != 2 {
			t.Fatalf("%s: ?since=1 = %s", slug, body)
		}
		// The CSV twin says the same.
		resp, body := get(t, app, "/api/v1/shops/"+slug+"/basket.csv?since=2")
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 2 ||
			strings.Join(rows[0], ",") != strings.Join(catalog.BasketCSVHeader, ",") || rows[1][2] != rice[slug] || rows[1][4] != "conventionne" {
			t.Fatalf("%s: CSV %v %q", slug, err, body)
		}
		// The cashier page, by name and by code.
		for _, q := range []string{"riz", codes[slug]} {
			_, page := get(t, app, "/points-de-vente/"+slug+"/caisse?q="+url.QueryEscape(q))
			page = html.UnescapeString(page)
			if !strings.Contains(page, "Produit conventionné") || !strings.Contains(page, "Riz biologique de Camargue uniquement") ||
				strings.Contains(page, "Produit non conventionné") {
				t.Fatalf("%s: cashier page for %q after: %.800s", slug, q, page)
			}
		}
	}
	// The history keeps the old evaluation, closed on the decision's date:
	// one period of the item, whatever the number of products under it.
	var closed []struct {
		Basket    string    `bun:"basket"`
		Reason    string    `bun:"reason"`
		ToVersion int       `bun:"to_version"`
		ValidTo   time.Time `bun:"valid_to"`
	}
	if err := db.NewRaw(`SELECT p.basket, p.reason, p.to_version, p.valid_to FROM basket_item_periods p
		JOIN register_items i ON i.id = p.item_id WHERE i.slug = 'riz-de-camargue' AND p.closed_seq IS NOT NULL`).Scan(ctx, &closed); err != nil {
		t.Fatal(err)
	}
	if len(closed) != 1 || closed[0].Basket != "non_conventionne" || !strings.Contains(closed[0].Reason, "débat") ||
		closed[0].ToVersion != 3 || closed[0].ValidTo.Format("2006-01-02") != "2027-01-01" {
		t.Fatalf("closed periods: %+v", closed)
	}
	// The bakery's basket did not move.
	if _, body := get(t, app, "/api/v1/shops/fournil-des-cometes/basket?since=2"); len(basketDoc(t, body).Products) != 0 {
		t.Fatalf("fournil ?since=2 = %s", body)
	}
	// A version that does not exist yet is refused.
	if resp, _ := get(t, app, "/api/v1/shops/marche-du-lavoir/basket?since=4"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("?since=4: %d", resp.StatusCode)
	}
	if resp, _ := get(t, app, "/api/v1/shops/pas-de-boutique/basket"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown shop: %d", resp.StatusCode)
	}
}

// A removed product appears in ?since= as removed; an added one as new.
func TestBasketSinceListsEditsAfterTheVersion(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	base := "/gestion/points-de-vente/marche-du-lavoir/panier"
	resp, _ := fac.PostForm(base, url.Values{"name": {"Riz de Camargue"}, "code": {eanRice1}, "item": {"riz-de-camargue"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	if _, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Summary: "Huiles : débat souhaité", Items: []catalog.ItemChange{{Slug: "huiles", Status: catalog.DebatSouhaite}}},
		catalog.DecisionRef{Ref: "decision:10"}); err != nil {
		t.Fatal(err)
	}
	// After version 2: the rice is removed, an oil added.
	var id int64
	if err := db.NewRaw("SELECT id FROM shop_products WHERE code = ?", eanRice1).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	if resp, body := fac.PostForm(base+"/"+itoa(id)+"/supprimer", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := fac.PostForm(base, url.Values{"name": {"Huile de noix"}, "item": {"huiles"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add oil: %d", resp.StatusCode)
	}
	r := waitFor(t, app, "/api/v1/shops/marche-du-lavoir/basket?since=2", func(r *httpResult) bool {
		return strings.Contains(r.body, "Huile de noix")
	})
	d := basketDoc(t, r.body)
	if len(d.Products) != 2 {
		t.Fatalf("?since=2: %s", r.body)
	}
	if rice := findLine(d, "Riz de Camargue"); rice == nil || !rice.Removed || rice.ValidTo == nil {
		t.Fatalf("removed rice: %+v", rice)
	}
	if oil := findLine(d, "Huile de noix"); oil == nil || oil.Removed || oil.Basket != catalog.BasketNonConventionne {
		t.Fatalf("oil: %+v", oil)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// postMultipart sends the CSV as an uploaded file, as the import form does.
func postMultipart(t *testing.T, c *webtest.Client, path, filename, content string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField(auth.CSRFField, c.CSRFToken())
	_ = w.WriteField(idempotency.Field, idempotency.NewKey()) // as the rendered form carries
	fw, err := w.CreateFormFile("fichier", filename)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte(content))
	_ = w.Close()
	req := httptest.NewRequest(http.MethodPost, path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.Do(req)
}

// Bad input is refused with a French message beside its field, and nothing
// is written: a wrong check digit, a duplicate code, a CSV of the wrong shape
// or with bad lines.
func TestBasketRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	base := "/gestion/points-de-vente/marche-du-lavoir/panier"
	if resp, body := fac.Get(base); resp.StatusCode != 200 || !strings.Contains(body, "Aucun produit") {
		t.Fatalf("editor: %d", resp.StatusCode)
	}

	resp, body := fac.PostForm(base, url.Values{"name": {"Riz"}, "code": {eanBadDigi}, "item": {"riz-de-camargue"}})
	body = html.UnescapeString(body)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "clé de contrôle") ||
		!strings.Contains(body, `id="code-error"`) || !strings.Contains(body, `value="Riz"`) {
		t.Fatalf("bad check digit: %d %.1500s", resp.StatusCode, body)
	}
	if n := productCount(t, db); n != 0 {
		t.Fatalf("%d products after a refused form", n)
	}
	if resp, _ := fac.PostForm(base, url.Values{"name": {"Riz"}, "code": {eanRice1}, "item": {"riz-de-camargue"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good product: %d", resp.StatusCode)
	}
	// The same code again, even written with spaces.
	resp, body = fac.PostForm(base, url.Values{"name": {"Riz encore"}, "code": {"376 1234 50001 4"}, "item": {"riz-de-camargue"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "figure déjà dans la liste") {
		t.Fatalf("duplicate code: %d", resp.StatusCode)
	}
	resp, body = fac.PostForm(base, url.Values{"name": {"Chose"}, "item": {"pas-un-element"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "Élément du registre inconnu") {
		t.Fatalf("unknown item: %d", resp.StatusCode)
	}
	if n := productCount(t, db); n != 1 {
		t.Fatalf("%d products, want 1", n)
	}

	// CSV of the wrong shape: refused whole.
	for _, bad := range []string{"produit,prix\nRiz,3\n", "nom;code;element\nRiz;;riz-de-camargue;en trop\n", ""} {
		resp, body := fac.PostForm(base+"/import", url.Values{"csv": {bad}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "forme attendue") && !strings.Contains(body, "vide") {
			t.Fatalf("wrong shape %q: %d %.300s", bad, resp.StatusCode, body)
		}
	}
	// Bad lines: listed with their numbers and reasons; nothing imported, even on confirm.
	badLines := "nom;code;element\nPois chiches;;legumineuses\nRiz faux;" + eanBadDigi + ";riz-de-camargue\nRiz doublon;" + eanRice1 + ";riz-de-camargue\n;;huiles\n"
	for _, path := range []string{base + "/import", base + "/import/confirmer"} {
		resp, body = postMultipart(t, fac, path, "liste.csv", badLines)
		body = html.UnescapeString(body)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Rien n'est importé") ||
			!strings.Contains(body, "Ligne 3 (Riz faux) : La clé de contrôle") || !strings.Contains(body, "Ligne 4 (Riz doublon) : Le code "+eanRice1+" figure déjà") ||
			!strings.Contains(body, "Ligne 5 : Le nom du produit est obligatoire") || strings.Contains(body, "Ligne 2") {
			t.Fatalf("%s bad lines: %d %.3000s", path, resp.StatusCode, body)
		}
	}
	if n := productCount(t, db); n != 1 {
		t.Fatalf("%d products after refused imports, want 1", n)
	}
	// A good file: preview first (nothing written), then confirm.
	good := "nom,code,element\nPois chiches,,legumineuses\nFarine T80," + eanFlour + ",farines-pates-cereales\n"
	resp, body = postMultipart(t, fac, base+"/import", "liste.csv", good)
	if resp.StatusCode != 200 || !strings.Contains(body, `data-testid="csv-preview"`) || productCount(t, db) != 1 {
		t.Fatalf("preview: %d %.1000s", resp.StatusCode, body)
	}
	if resp, _ := fac.PostForm(base+"/import/confirmer", url.Values{"csv": {good}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if n := productCount(t, db); n != 3 {
		t.Fatalf("%d products after import, want 3", n)
	}
	// Members may not edit a basket; another shop's product is not found through this shop's page.
	mem, _ := webtest.SignIn(t, app, db, councilID, authz.Member)
	if resp, _ := mem.PostForm(base, url.Values{"name": {"X"}, "item": {"huiles"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("member: %d", resp.StatusCode)
	}
	var id int64
	if err := db.NewRaw("SELECT min(id) FROM shop_products").Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := fac.PostForm("/gestion/points-de-vente/fournil-des-cometes/panier/"+itoa(id)+"/supprimer", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("other shop's product: %d", resp.StatusCode)
	}
	if n := productCount(t, db); n != 3 {
		t.Fatalf("%d products, want 3", n)
	}
}

// Issue 18, the missing points of point 2: a wording correction re-evaluates
// the baskets under its item (the reason the cashier reads names it) and
// emits shop.basket_changed; a basket edit is written to the audit trail, as
// its editor, and takes effect once however often the form is sent.
func TestBasketFollowsWordingAndEditsAreAuditedOnce(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO webhook_endpoints (council_id, url, events, secret)
		VALUES (?, 'https://caisse.example.org/hooks', ARRAY['shop.basket_changed'], ?)`, councilID, webhook.NewSecret()); err != nil {
		t.Fatal(err)
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.NewRaw(query, args...).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deliveries := func() int {
		return count("SELECT count(*) FROM webhook_deliveries WHERE council_id = ? AND event = ?", councilID, string(webhook.ShopBasketChanged))
	}
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	base := "/gestion/points-de-vente/marche-du-lavoir/panier"
	form := url.Values{"name": {"Riz de Camargue 1 kg"}, "code": {eanRice1}, "item": {"riz-de-camargue"}, idempotency.Field: {idempotency.NewKey()}}
	for i := range 2 { // a double click
		if resp, body := fac.PostForm(base, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add #%d: %d %.300s", i, resp.StatusCode, body)
		}
	}
	if n := productCount(t, db); n != 1 {
		t.Fatalf("%d products after a double submission", n)
	}
	if n := count("SELECT count(*) FROM audit_log WHERE council_id = ? AND action = 'shop_products.add' AND actor_id IS NOT NULL", councilID); n != 1 {
		t.Fatalf("%d audit entries for the addition, want 1 by the facilitator", n)
	}
	if n := deliveries(); n != 1 {
		t.Fatalf("%d basket webhooks after the addition, want 1", n)
	}

	it, err := catalog.ItemBySlug(ctx, db, councilID, "riz-de-camargue")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.CorrectWording(ctx, db, councilID, "riz-de-camargue", catalog.Wording{Name: "Riz de Camargue IGP",
		ExplanationMD: it.ExplanationMD, OFFCategory: it.OFFCategory, GPCBrick: it.GPCBrick}, nil); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, app, "/api/v1/shops/marche-du-lavoir/basket")
	if l := findLine(basketDoc(t, body), "Riz de Camargue 1 kg"); l == nil || !strings.Contains(l.Reason, "Riz de Camargue IGP") {
		t.Fatalf("the reason does not follow the wording: %+v", l)
	}
	if n := deliveries(); n != 2 {
		t.Fatalf("%d basket webhooks after the wording correction, want 2", n)
	}
	// The explanation alone does not touch the baskets.
	if _, err := catalog.CorrectWording(ctx, db, councilID, "riz-de-camargue", catalog.Wording{Name: "Riz de Camargue IGP",
		ExplanationMD: "Autre explication.", OFFCategory: it.OFFCategory, GPCBrick: it.GPCBrick}, nil); err != nil {
		t.Fatal(err)
	}
	if n := deliveries(); n != 2 {
		t.Fatalf("%d basket webhooks after an explanation change, want still 2", n)
	}

	var id int64
	if err := db.NewRaw("SELECT id FROM shop_products WHERE code = ?", eanRice1).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	rm := url.Values{idempotency.Field: {idempotency.NewKey()}}
	for i := range 2 { // the second answers as the first, not "not found"
		if resp, body := fac.PostForm(base+"/"+itoa(id)+"/supprimer", rm); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove #%d: %d %.300s", i, resp.StatusCode, body)
		}
	}
	if n := count("SELECT count(*) FROM audit_log WHERE council_id = ? AND action = 'shop_products.remove'", councilID); n != 1 {
		t.Fatalf("%d audit entries for the removal, want 1", n)
	}
	// Without its key, the form is refused and nothing is written.
	resp, body := fac.PostForm(base, url.Values{"name": {"Farine"}, "item": {"farines-pates-cereales"}, idempotency.Field: {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || productCount(t, db) != 0 || !strings.Contains(html.UnescapeString(body), "Ce formulaire n'a pas pu être reconnu") {
		t.Fatalf("no key: %d, %d products", resp.StatusCode, productCount(t, db))
	}
}

// The shop's side of the evaluation (b18): suspending a shop moves every
// line of its basket at once, from the decision's date, and the item's
// changes while it is suspended do not move its lines; its return brings
// them back under the item's status in force. shop.basket_changed is queued
// for exactly the shops whose basket moved.
func TestBasketFollowsShopStatusAndNotifiesMovedShopsOnly(t *testing.T) {
	t.Parallel()
	_, db, councilID := newApp(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO webhook_endpoints (council_id, url, events, secret)
		VALUES (?, 'https://caisse.example.org/hooks', ARRAY['shop.basket_changed'], ?)`, councilID, webhook.NewSecret()); err != nil {
		t.Fatal(err)
	}
	events := func(slug string) int {
		t.Helper()
		var n int
		if err := db.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE council_id = ? AND event_key LIKE ?",
			councilID, string(webhook.ShopBasketChanged)+":"+slug+":%").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ids := map[string]int64{}
	for _, slug := range []string{"marche-du-lavoir", "marche-de-pont-de-barret", "fournil-des-cometes"} {
		ids[slug] = shopID(t, db, councilID, slug)
		in := []catalog.ProductInput{{Name: "Riz de Camargue", Item: "riz-de-camargue"}, {Name: "Farine T80", Item: "farines-pates-cereales"}}
		if slug == "fournil-des-cometes" {
			in = []catalog.ProductInput{{Name: "Pain au levain", Item: "pain"}}
		}
		if bad, err := catalog.AddProducts(ctx, db, councilID, ids[slug], in, audit.Actor{Name: "Test"}); err != nil || len(bad) > 0 {
			t.Fatalf("%s: %v %+v", slug, err, bad)
		}
		if n := events(slug); n != 1 {
			t.Fatalf("%s: %d webhooks after its edit, want 1", slug, n)
		}
	}
	apply := func(want int, ch catalog.Change) {
		t.Helper()
		ch.Summary = "Banc"
		v, err := applyInTx(t, db, councilID, ch, catalog.DecisionRef{Ref: "decision:" + strconv.Itoa(want)})
		if err != nil || v.Number != want {
			t.Fatalf("apply: %v %+v", err, v)
		}
	}
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	basket := func(slug string, since int) map[string]catalog.BasketLine {
		t.Helper()
		var lines []catalog.BasketLine
		var err error
		if since < 0 {
			lines, err = catalog.ShopBasket(ctx, db, councilID, ids[slug])
		} else {
			lines, err = catalog.BasketSince(ctx, db, councilID, ids[slug], since)
		}
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]catalog.BasketLine{}
		for _, l := range lines {
			m[l.Name] = l
		}
		return m
	}

	// Version 2: the Pont-de-Barret market is suspended.
	apply(2, catalog.Change{EffectiveOn: day("2026-12-20"), Shops: []catalog.ShopChange{{Slug: "marche-de-pont-de-barret", Status: catalog.ShopSuspendu}}})
	pont := basket("marche-de-pont-de-barret", -1)
	for _, name := range []string{"Riz de Camargue", "Farine T80"} {
		l := pont[name]
		if l.Basket != catalog.BasketNonConventionne || !strings.Contains(l.Reason, "n'est pas conventionné") ||
			l.ValidFrom.Format("2006-01-02") != "2026-12-20" || l.FromVersion != 2 {
			t.Fatalf("suspended shop's %s: %+v", name, l)
		}
	}
	if n := len(basket("marche-de-pont-de-barret", 1)); n != 2 {
		t.Fatalf("suspended shop ?since=1: %d lines, want 2", n)
	}
	if n := len(basket("marche-du-lavoir", 2)); n != 0 {
		t.Fatalf("lavoir ?since=2: %d lines, want 0", n)
	}
	if events("marche-de-pont-de-barret") != 2 || events("marche-du-lavoir") != 1 || events("fournil-des-cometes") != 1 {
		t.Fatalf("webhooks after the suspension: %d %d %d", events("marche-de-pont-de-barret"), events("marche-du-lavoir"), events("fournil-des-cometes"))
	}

	// Version 3: the rice is conventionné under conditions. The suspended
	// shop's lines do not move; the bakery sells no rice.
	apply(3, catalog.Change{EffectiveOn: day("2027-01-01"), Items: []catalog.ItemChange{{Slug: "riz-de-camargue",
		Status: catalog.SousConditions, Conditions: "Riz biologique uniquement"}}})
	if l := basket("marche-du-lavoir", 2); len(l) != 1 || l["Riz de Camargue"].Basket != catalog.BasketConventionne ||
		l["Riz de Camargue"].ValidFrom.Format("2006-01-02") != "2027-01-01" {
		t.Fatalf("lavoir ?since=2 after the rice: %+v", l)
	}
	if l := basket("marche-de-pont-de-barret", 2); len(l) != 0 {
		t.Fatalf("suspended shop ?since=2 after the rice: %+v", l)
	}
	if l := basket("marche-de-pont-de-barret", -1)["Riz de Camargue"]; l.ValidFrom.Format("2006-01-02") != "2026-12-20" || l.Basket != catalog.BasketNonConventionne {
		t.Fatalf("suspended shop's rice after the rice decision: %+v", l)
	}
	if events("marche-de-pont-de-barret") != 2 || events("marche-du-lavoir") != 2 || events("fournil-des-cometes") != 1 {
		t.Fatalf("webhooks after the rice: %d %d %d", events("marche-de-pont-de-barret"), events("marche-du-lavoir"), events("fournil-des-cometes"))
	}

	// Version 4: the market is conventionné again; its rice now follows the
	// conditions of version 3.
	apply(4, catalog.Change{EffectiveOn: day("2027-02-01"), Shops: []catalog.ShopChange{{Slug: "marche-de-pont-de-barret", Status: catalog.ShopConventionne}}})
	l := basket("marche-de-pont-de-barret", 3)
	if len(l) != 2 || l["Riz de Camargue"].Basket != catalog.BasketConventionne || !strings.Contains(l["Riz de Camargue"].Reason, "Riz biologique uniquement") ||
		l["Riz de Camargue"].ValidFrom.Format("2006-01-02") != "2027-02-01" || l["Farine T80"].Basket != catalog.BasketConventionne {
		t.Fatalf("market back, ?since=3: %+v", l)
	}
	if events("marche-de-pont-de-barret") != 3 || events("marche-du-lavoir") != 2 || events("fournil-des-cometes") != 1 {
		t.Fatalf("webhooks after the return: %d %d %d", events("marche-de-pont-de-barret"), events("marche-du-lavoir"), events("fournil-des-cometes"))
	}
	// Every delivery has its job, in the same transaction.
	var orphans int
	if err := db.NewRaw(`SELECT count(*) FROM webhook_deliveries d WHERE d.event = ? AND NOT EXISTS (
		SELECT 1 FROM river_job j WHERE (j.args->>'delivery_id')::bigint = d.id)`, string(webhook.ShopBasketChanged)).Scan(ctx, &orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d deliveries without a job", orphans)
	}
}
