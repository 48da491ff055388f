package catalog_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/apperr"
	"cla/internal/pagecache"
)

func decodeSnapshot(t *testing.T, body string) catalog.Snapshot {
	t.Helper()
	var s catalog.Snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("JSON: %v in %.200s", err, body)
	}
	return s
}

func TestDemoRegisterIsTheSameInPagesJSONAndCSV(t *testing.T) {
	t.Parallel()
	app, _, _ := newApp(t)
	resp, body := get(t, app, "/api/v1/register")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("JSON: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	snap := decodeSnapshot(t, body)
	if snap.Version != 1 || snap.EffectiveOn != "2025-03-01" || snap.Summary != "Liste de mars 2025" || len(snap.Items) != 33 || len(snap.Shops) != 3 {
		t.Fatalf("snapshot: version %d on %s %q, %d items, %d shops", snap.Version, snap.EffectiveOn, snap.Summary, len(snap.Items), len(snap.Shops))
	}

	resp, csvBody := get(t, app, "/register.csv")
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("CSV content type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(catalog.RegisterCSVHeader, ",") || len(rows) != len(snap.Items)+1 {
		t.Fatalf("CSV: header %v, %d rows", rows[0], len(rows))
	}
	_, registre := get(t, app, "/registre")
	registre = html.UnescapeString(registre)
	if !strings.Contains(stripTags(registre), "Version 1 en vigueur depuis le 1er mars 2025") {
		t.Error("register page lacks the version line")
	}
	for i, it := range snap.Items {
		r := rows[i+1]
		if r[2] != it.Slug || r[3] != it.Parent || r[5] != it.Name || r[6] != string(it.Status) || r[8] != it.Conditions || r[10] != it.Reason {
			t.Errorf("CSV row %d %v differs from JSON %+v", i+1, r, it)
		}
		// Each item appears on the page with its status and, when it has one, its reason.
		block := regexp.MustCompile(`(?s)>` + regexp.QuoteMeta(it.Name) + `<.{0,400}?class="status status-` + string(it.Status) + `">` + regexp.QuoteMeta(it.StatusLabel) + `<`)
		if !block.MatchString(registre) {
			t.Errorf("register page does not show %q as %q", it.Name, it.StatusLabel)
		}
		if it.Reason != "" && !strings.Contains(registre, "Raison : "+it.Reason) {
			t.Errorf("register page lacks the reason of %q", it.Name)
		}
	}
	_, home := get(t, app, "/")
	if !strings.Contains(home, `data-testid="register-summary"`) || !strings.Contains(html.UnescapeString(home), "Version 1 en vigueur") {
		t.Error("home page lacks the register summary or its version")
	}
}

// waitFor polls path until cond holds on its body (caches reload on NOTIFY).
func waitFor(t *testing.T, app *fiber.App, path string, cond func(*httpResult) bool) *httpResult {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := get(t, app, path)
		r := &httpResult{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: body}
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not met in time; last status %d body %.300s", path, r.status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type httpResult struct {
	status int
	etag   string
	body   string
}

func applyInTx(t *testing.T, db *bun.DB, councilID int64, ch catalog.Change, ref catalog.DecisionRef) (*catalog.Version, error) {
	t.Helper()
	var v *catalog.Version
	err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		v, err = catalog.ApplyChange(ctx, tx, councilID, ch, ref)
		return err
	})
	return v, err
}

func TestApplyChangePublishesVersionNPlusOne(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	resp, v1Before := get(t, app, "/api/v1/register/versions/1")
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	resp, _ = get(t, app, "/api/v1/register")
	etag1 := resp.Header.Get("ETag")
	if etag1 == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("no ETag or Cache-Control: %v", resp.Header)
	}
	if resp, _ := get(t, app, "/api/v1/register", "If-None-Match", etag1); resp.StatusCode != 304 {
		t.Fatalf("matching If-None-Match: %d, want 304", resp.StatusCode)
	}
	_, _ = get(t, app, "/registre") // warm the page cache too

	review := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	v, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Summary: "Le riz de Camargue est conventionné à l'essai",
		Items: []catalog.ItemChange{{Slug: "riz-de-camargue", Status: catalog.SousConditions,
			Conditions: "Riz biologique, à l'essai pendant 3 mois", ReviewOn: &review}}},
		catalog.DecisionRef{Ref: "decision:7", Title: "Séance du 18 novembre 2026", URL: "/decisions/7"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Number != 2 {
		t.Fatalf("new version number %d, want 2", v.Number)
	}

	// The JSON changes on this instance once the NOTIFY arrives; its ETag moves.
	r := waitFor(t, app, "/api/v1/register", func(r *httpResult) bool { return r.etag != etag1 })
	snap := decodeSnapshot(t, r.body)
	if snap.Version != 2 || snap.EffectiveOn != "2026-12-01" || snap.Decision.Ref != "decision:7" {
		t.Errorf("current register: version %d on %s, decision %+v", snap.Version, snap.EffectiveOn, snap.Decision)
	}
	if resp, _ := get(t, app, "/api/v1/register", "If-None-Match", etag1); resp.StatusCode != 200 {
		t.Errorf("old ETag still answered %d", resp.StatusCode)
	}
	// Version 1 is still served, byte for byte.
	if _, v1After := get(t, app, "/api/v1/register/versions/1"); v1After != v1Before {
		t.Error("version 1 changed after version 2 was published")
	}
	for _, it := range decodeSnapshot(t, v1Before).Items {
		if it.Slug == "riz-de-camargue" && it.Status != catalog.DebatSouhaite {
			t.Errorf("version 1 shows the rice as %s", it.Status)
		}
	}
	// The diff lists exactly the change.
	_, diff := get(t, app, "/registre/changements?de=1&a=2")
	rows := regexp.MustCompile(`<tr data-slug="([^"]+)">`).FindAllStringSubmatch(diff, -1)
	if len(rows) != 1 || rows[0][1] != "riz-de-camargue" || !strings.Contains(diff, "Conventionné sous conditions") {
		t.Errorf("diff rows %v", rows)
	}
	// The register page (cached) shows it; the item page shows both decisions.
	waitFor(t, app, "/registre", func(r *httpResult) bool {
		return strings.Contains(r.body, "Version 2 en vigueur") && strings.Contains(html.UnescapeString(r.body), "Conditions : Riz biologique, à l'essai pendant 3 mois")
	})
	_, item := get(t, app, "/registre/riz-de-camargue")
	if n := strings.Count(item, "<time datetime=\"2026-12-01\">") + strings.Count(item, "<time datetime=\"2025-03-01\">"); n != 2 || !strings.Contains(item, `href="/decisions/7"`) {
		t.Errorf("item history: %d dated entries; decision link present: %v", n, strings.Contains(item, "/decisions/7"))
	}
	_, versions := get(t, app, "/api/v1/register/versions")
	if !strings.Contains(versions, `"number":2`) || !strings.Contains(versions, `"number":1`) {
		t.Errorf("versions list: %.300s", versions)
	}
}

func TestApplyChangeValidatesAndRollsBack(t *testing.T) {
	t.Parallel()
	_, db, councilID := newApp(t)
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]catalog.Change{
		"conditions missing": {EffectiveOn: day, Summary: "x", Items: []catalog.ItemChange{{Slug: "alcool", Status: catalog.SousConditions}}},
		"reason missing":     {EffectiveOn: day, Summary: "x", Items: []catalog.ItemChange{{Slug: "kombucha", Status: catalog.NonConventionne}}},
		"unknown parent": {EffectiveOn: day, Summary: "x", Items: []catalog.ItemChange{{Slug: "tofu", Name: "Tofu", Kind: catalog.Category,
			ParentSlug: "nope", Status: catalog.Conventionne}}},
		"unknown shop": {EffectiveOn: day, Summary: "x", Shops: []catalog.ShopChange{{Slug: "nope", Status: catalog.ShopRetire}}},
		"no summary":   {EffectiveOn: day, Items: []catalog.ItemChange{{Slug: "alcool", Status: catalog.Conventionne}}},
		"no date":      {Summary: "x", Items: []catalog.ItemChange{{Slug: "alcool", Status: catalog.Conventionne}}},
		"empty":        {EffectiveOn: day, Summary: "x"},
	}
	for name, ch := range cases {
		if _, err := applyInTx(t, db, councilID, ch, catalog.DecisionRef{}); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: got %v, want an invalid error", name, err)
		}
	}
	var versions, history int
	if err := db.NewRaw("SELECT (SELECT count(*) FROM register_versions), (SELECT count(*) FROM register_item_history)").Scan(context.Background(), &versions, &history); err != nil {
		t.Fatal(err)
	}
	if versions != 1 || history != 33 {
		t.Errorf("after refused changes: %d versions, %d history rows; want 1 and 33", versions, history)
	}
	if _, err := db.ExecContext(context.Background(), "UPDATE register_versions SET summary = 'changed'"); err == nil {
		t.Error("a published version could be updated")
	}
	if _, err := db.ExecContext(context.Background(), "DELETE FROM register_versions"); err == nil {
		t.Error("a published version could be deleted")
	}
	// A new item and a shop's status change are versions too, with audit entries.
	v, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: day, Summary: "Tofu local ; le Fournil suspendu",
		Items: []catalog.ItemChange{{Slug: "tofu", Name: "Tofu", Kind: catalog.Product, ParentSlug: "legumineuses", Status: catalog.Conventionne}},
		Shops: []catalog.ShopChange{{Slug: "fournil-des-cometes", Status: catalog.ShopSuspendu}}},
		catalog.DecisionRef{Ref: "decision:9", ActorName: "Test"})
	if err != nil || v.Number != 2 || len(v.Changes) != 2 {
		t.Fatalf("version %+v, err %v", v, err)
	}
	var audits int
	if err := db.NewRaw("SELECT count(*) FROM audit_log WHERE council_id = ? AND action IN ('register_item.create', 'shop.status', 'register.version') AND actor_name = 'Test'", councilID).Scan(context.Background(), &audits); err != nil {
		t.Fatal(err)
	}
	if audits != 3 {
		t.Errorf("%d audit entries for the change, want 3", audits)
	}
}

func TestCacheIsInvalidatedOnEveryInstance(t *testing.T) {
	t.Parallel()
	appA, db, councilID := newApp(t)
	appB := newAppOver(t, db)
	_, _ = get(t, appA, "/registre")
	_, before := get(t, appB, "/registre")
	if !strings.Contains(before, "Version 1 en vigueur") {
		t.Fatal("instance B does not show version 1")
	}
	if _, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Summary: "Kombucha",
		Items: []catalog.ItemChange{{Slug: "kombucha", Status: catalog.Conventionne}}}, catalog.DecisionRef{}); err != nil {
		t.Fatal(err)
	}
	for _, app := range []*fiber.App{appA, appB} {
		waitFor(t, app, "/registre", func(r *httpResult) bool { return strings.Contains(r.body, "Version 2 en vigueur") })
	}
}

func TestSearchAnswers(t *testing.T) {
	t.Parallel()
	app, _, _ := newApp(t)
	answer := regexp.MustCompile(`(?s)data-testid="answer">\s*<h2 id="reponse">([^<]+)</h2>\s*<p><a href="/registre/([^"]+)"`)
	cases := []struct{ q, answer, slug string }{
		{"oeufs", "Oui", "oeufs"},
		{"Œuf", "Oui", "oeufs"},
		{"pêche", "Pas encore décidé", "produits-de-la-peche"},
		{"peche", "Pas encore décidé", "produits-de-la-peche"},
		{"Puis-je acheter de l'alcool ?", "Non", "alcool"},
		{"riz", "Pas encore décidé", "riz-de-camargue"},
		{"CAFÉ", "Non", "the-cafe-chocolat"},
	}
	for _, tc := range cases {
		_, body := get(t, app, "/puis-je-acheter?q="+urlQuery(tc.q))
		m := answer.FindStringSubmatch(body)
		if m == nil || m[1] != tc.answer || m[2] != tc.slug {
			t.Errorf("%q: got %v, want %s for %s", tc.q, m, tc.answer, tc.slug)
		}
	}
	_, body := get(t, app, "/puis-je-acheter?q=alcool")
	if !strings.Contains(body, "Raison : Non conventionné pour des raisons de santé publique") {
		t.Error("the answer for alcool lacks its reason")
	}
	for _, q := range []string{"", "%20%20", strings.Repeat("a", 1000), strings.Repeat("oeufs+", 170), strings.Repeat("%C3%A9", 300), "%27%3B+DROP+TABLE", "xyzzy"} {
		resp, body := get(t, app, "/puis-je-acheter?q="+q)
		if resp.StatusCode != 200 {
			t.Errorf("q=%.30s: status %d", q, resp.StatusCode)
		}
		if m := answer.FindStringSubmatch(body); m != nil && !strings.HasPrefix(q, "oeufs") {
			t.Errorf("q=%.30s: absurd answer %v", q, m[1:])
		}
		if q == "" && strings.Contains(body, `data-testid="answer"`) {
			t.Error("an empty query gives an answer")
		}
		if len(body) > 100_000 {
			t.Errorf("q=%.30s: %d bytes", q, len(body))
		}
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer(" ", "+", "'", "%27", "?", "%3F", "ê", "%C3%AA", "É", "%C3%89", "Œ", "%C5%92")
	return r.Replace(s)
}

func TestOpenDataContract(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	// A name with a comma, a quote and a line break survives the CSV.
	tricky := "Chez \"Léa\", la ferme\ndu haut"
	lat, lon := 44.52, 5.06
	if _, err := applyInTx(t, db, councilID, catalog.Change{EffectiveOn: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Summary: "Nouveau point de vente",
		Shops: []catalog.ShopChange{{Slug: "chez-lea", Status: catalog.ShopCandidat, Categories: []string{"miel", "oeufs"},
			New: &catalog.Shop{Name: tricky, Kind: "producteur", Commune: "Dieulefit", Latitude: &lat, Longitude: &lon, Network: "Réseau, \"AMAP\""}}}},
		catalog.DecisionRef{}); err != nil {
		t.Fatal(err)
	}
	r := waitFor(t, app, "/shops.csv", func(r *httpResult) bool { return strings.Contains(r.body, "chez-lea") })
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, row := range rows[1:] {
		if row[0] == "chez-lea" {
			found = true
			if row[1] != tricky || row[10] != "Réseau, \"AMAP\"" || row[5] != "44.52" || row[14] != "oeufs;miel" && row[14] != "miel;oeufs" {
				t.Errorf("CSV row %q", row)
			}
		}
	}
	if !found || strings.Join(rows[0], ",") != strings.Join(catalog.ShopsCSVHeader, ",") {
		t.Errorf("shops CSV: header %v, chez-lea found %v", rows[0], found)
	}
	resp, body := get(t, app, "/api/v1/shops")
	var shops struct {
		Shops []catalog.APIShop `json:"shops"`
	}
	if err := json.Unmarshal([]byte(body), &shops); err != nil || len(shops.Shops) != 4 {
		t.Fatalf("shops JSON: %v, %d shops", err, len(shops.Shops))
	}
	if resp.Header.Get("ETag") == "" {
		t.Error("no ETag on /api/v1/shops")
	}
	for _, s := range shops.Shops {
		if s.Slug == "chez-lea" && (s.Name != tricky || s.Independent || s.Status != catalog.ShopCandidat || *s.Latitude != lat) {
			t.Errorf("chez-lea in JSON: %+v", s)
		}
		if s.Slug == "marche-du-lavoir" && (s.SignedOn == "" || s.RenewalOn <= s.SignedOn || !s.Independent || len(s.Categories) != 7) {
			t.Errorf("marche-du-lavoir in JSON: %+v", s)
		}
	}
	for _, p := range []string{"/register.csv", "/shops.csv", "/api/v1/register/versions"} {
		resp, _ := get(t, app, p)
		etag := resp.Header.Get("ETag")
		if resp2, _ := get(t, app, p, "If-None-Match", etag); etag == "" || resp2.StatusCode != 304 {
			t.Errorf("%s: ETag %q, revalidation %d", p, etag, resp2.StatusCode)
		}
	}
	for _, p := range []string{"/api/v1/register/versions/99", "/api/v1/register/versions/abc", "/api/v1/register/versions/0"} {
		resp, body := get(t, app, p)
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s %.100s", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestShopDirectoryAndPages(t *testing.T) {
	t.Parallel()
	app, _, _ := newApp(t)
	count := func(body string) int { return strings.Count(body, `<li class="family" id=`) }
	cases := map[string]int{"": 3, "?commune=Dieulefit": 1, "?type=boulangerie": 1, "?type=marche": 2, "?statut=candidat": 0,
		"?commune=Nulle-part": 3, "?type=inconnu&statut=conventionne": 3}
	for q, want := range cases {
		if _, body := get(t, app, "/points-de-vente"+q); count(body) != want {
			t.Errorf("/points-de-vente%s: %d shops, want %d", q, count(body), want)
		}
	}
	_, body := get(t, app, "/points-de-vente/fournil-des-cometes")
	body = html.UnescapeString(body)
	for _, want := range []string{"Pain", "Viennoiseries & biscuits", "Sauf : ", "Riz de Camargue", "Convention signée le"} {
		if !strings.Contains(body, want) {
			t.Errorf("shop page lacks %q", want)
		}
	}
	// An item's page says where to buy it: shops carrying it or its category.
	_, eggs := get(t, app, "/registre/oeufs")
	_, bread := get(t, app, "/registre/pain")
	_, rice := get(t, app, "/registre/riz-de-camargue")
	if !strings.Contains(eggs, `href="/points-de-vente/marche-du-lavoir"`) || !strings.Contains(eggs, `href="/points-de-vente/marche-de-pont-de-barret"`) ||
		strings.Contains(eggs, `href="/points-de-vente/fournil-des-cometes"`) || !strings.Contains(bread, `href="/points-de-vente/fournil-des-cometes"`) {
		t.Error("item pages do not list the right shops")
	}
	// Rice is not decided yet: no shop is offered for it, even the Fournil
	// that carries its category.
	if strings.Contains(rice, `href="/points-de-vente/`) || !strings.Contains(html.UnescapeString(rice), "l'allocation ne paie pas ce produit") {
		t.Error("the rice page offers shops for a product the allocation does not pay for")
	}
	if resp, _ := get(t, app, "/points-de-vente/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown shop: %d", resp.StatusCode)
	}
	if resp, _ := get(t, app, "/registre/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown item: %d", resp.StatusCode)
	}
	if resp, _ := get(t, app, "/registre/changements?de=x"); resp.StatusCode != 422 {
		t.Errorf("bad diff query: %d", resp.StatusCode)
	}
	_, poster := get(t, app, "/points-de-vente/marche-du-lavoir/affiche")
	for _, want := range []string{"Ici, votre allocation peut payer", "<svg", "Alcool", "version 1", "/points-de-vente/marche-du-lavoir</strong>"} {
		if !strings.Contains(poster, want) {
			t.Errorf("poster lacks %q", want)
		}
	}
	if strings.Contains(poster, "style=") {
		t.Error("poster uses a style attribute, which the CSP forbids")
	}
}

func TestOpenDataIsScopedToOneCouncil(t *testing.T) {
	t.Parallel()
	app, db, _ := newApp(t)
	if _, err := db.ExecContext(context.Background(), "INSERT INTO councils (slug, name) VALUES ('autre', 'Autre conseil')"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "INSERT INTO council_hosts (host, council_id) SELECT 'autre.example', id FROM councils WHERE slug = 'autre'"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/register", "/api/v1/shops", "/register.csv", "/registre", "/points-de-vente"} {
		_, body := get(t, app, p, "Host", "autre.example")
		if strings.Contains(body, "oeufs") || strings.Contains(body, "marche-du-lavoir") || strings.Contains(body, "Marché du Lavoir") {
			t.Errorf("%s for another council shows the demo's rows", p)
		}
	}
	if resp, _ := get(t, app, "/api/v1/register/versions/1", "Host", "autre.example"); resp.StatusCode != 404 {
		t.Errorf("another council's version 1: %d", resp.StatusCode)
	}
}

var tags = regexp.MustCompile(`<[^>]+>`)

func stripTags(s string) string { return tags.ReplaceAllString(s, "") }

func TestCacheFallsBackOnThePeriodicCheck(t *testing.T) {
	t.Parallel()
	app, db, councilID := newApp(t)
	// Let the periodic check learn the current generation, then warm the page.
	time.Sleep(3 * pagecache.PollInterval)
	if _, body := get(t, app, "/registre"); !strings.Contains(body, ">Kombucha<") {
		t.Fatal("no kombucha")
	}
	// A change that sends no NOTIFY (as if the notification were lost): only
	// the generation moves.
	// The triggers of migration 0031 would notify: they are off for this
	// transaction (replica role), as if the NOTIFY and the bump were lost.
	ctx := context.Background()
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE register_items SET name = 'Kombucha artisanal' WHERE slug = 'kombucha'")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, app, "/registre"); !strings.Contains(body, ">Kombucha<") {
		t.Fatal("the cached page changed without any signal: is it cached at all?")
	}
	if _, err := db.ExecContext(ctx, "UPDATE page_generations SET generation = generation + 1 WHERE council_id = ? AND kind = 'register'", councilID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, app, "/registre", func(r *httpResult) bool { return strings.Contains(r.body, ">Kombucha artisanal<") })
}
