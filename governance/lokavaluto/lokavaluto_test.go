package lokavaluto_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/catalog"
	"cla/demo"
	"cla/governance/lokavaluto"
	"cla/internal/authz"
	"cla/internal/jobs"
	"cla/internal/odoo"
	"cla/internal/odoo/odootest"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

func writes(s *odootest.Server) int {
	n := 0
	for _, c := range s.Calls() {
		if c.ModelMethod == "write" && !c.Failed {
			n++
		}
	}
	return n
}

func pushJobs(t *testing.T, db *bun.DB) int {
	t.Helper()
	n, err := db.NewSelect().Table("river_job").Where("kind = ?", odoo.PushArgs{}.Kind()).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The connector against the stand-in Odoo (odootest, which implements the
// part of Odoo's documented external API it uses): a facilitator finds a
// partner by SIRET (a wrong SIRET is refused by its Luhn key before Odoo is
// asked) and links it; a decision that touches the shop enqueues a push in
// its transaction; the dry run lists the changes; the push writes them once,
// and a second push writes nothing; a failed push is shown with its error,
// then retried and cleared.
func TestConnectorLinksPushesOnceAndShowsFailures(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	srv := odootest.New(t)
	srv.AddField(odoo.PartnerModel, lokavaluto.DefaultCategoriesField, odootest.Char)
	fournil := srv.AddPartner(map[string]any{"name": "SARL Fournil des Comètes", "siret": "73282932000074", "is_company": true})
	srv.AddPartner(map[string]any{"name": "Fournil du Lez", "is_company": true})
	marche := srv.AddPartner(map[string]any{"name": "Association du Marché du Lavoir", "accept_digital_currency": true})
	conn := &lokavaluto.Connector{Client: srv.Client(), CategoriesField: lokavaluto.DefaultCategoriesField}
	web := apptest.New(t, db, app.Config{Odoo: conn})
	fac, _ := webtest.SignIn(t, web, db, co.ID, authz.Facilitator)
	base := "/gestion/odoo/points-de-vente/"

	// A SIRET whose key is wrong: refused here, Odoo not asked.
	calls := len(srv.Calls())
	resp, body := fac.Get(base + "fournil-des-cometes?q=" + url.QueryEscape("732 829 320 00075"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(body), "Ce SIRET n'est pas valide") || len(srv.Calls()) != calls {
		t.Fatalf("bad SIRET: %d, %d calls", resp.StatusCode, len(srv.Calls())-calls)
	}
	resp, body = fac.Get(base + "fournil-des-cometes?q=" + url.QueryEscape("732 829 320 00074"))
	if resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), "SARL Fournil des Comètes") || strings.Contains(body, "Fournil du Lez") {
		t.Fatalf("search by SIRET: %d %.2000s", resp.StatusCode, body)
	}
	if resp, body := fac.Get(base + "marche-du-lavoir?q=lavoir"); resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), "Association du Marché du Lavoir") {
		t.Fatalf("search by name: %d %.2000s", resp.StatusCode, body)
	}
	// A partner that does not exist is refused; then both shops are linked.
	if resp, _ := fac.PostForm(base+"fournil-des-cometes", url.Values{"partner": {"999"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown partner: %d", resp.StatusCode)
	}
	for slug, id := range map[string]int{"fournil-des-cometes": fournil, "marche-du-lavoir": marche} {
		if resp, body := fac.PostForm(base+slug, url.Values{"partner": {strconv.Itoa(id)}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("link %s: %d %.1000s", slug, resp.StatusCode, body)
		}
	}
	// One partner, one shop.
	if resp, body := fac.PostForm(base+"marche-de-pont-de-barret", url.Values{"partner": {strconv.Itoa(marche)}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(html.UnescapeString(body), "déjà lié à un autre point de vente") {
		t.Fatalf("partner linked twice: %d", resp.StatusCode)
	}
	if n, err := db.NewSelect().Table("audit_log").Where("council_id = ? AND action = 'odoo.link'", co.ID).Count(ctx); err != nil || n != 2 {
		t.Fatalf("%d link audit entries: %v", n, err)
	}

	// A decision renewing the Fournil's convention enqueues a push in its
	// transaction.
	before := pushJobs(t, db)
	signed, renewal := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Now().AddDate(0, 0, 20)
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := catalog.ApplyChange(ctx, tx, co.ID, catalog.Change{EffectiveOn: signed, Summary: "Convention du Fournil",
			Shops: []catalog.ShopChange{{Slug: "fournil-des-cometes", Status: catalog.ShopConventionne, SignedOn: &signed, RenewalOn: &renewal}}},
			catalog.DecisionRef{Ref: "decision:odoo"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := pushJobs(t, db); n != before+1 {
		t.Fatalf("push jobs %d → %d after a decision touching a linked shop", before, n)
	}

	// The dry run lists what would change, and writes nothing.
	resp, body = fac.Get("/gestion/odoo/essai")
	body = html.UnescapeString(body)
	if resp.StatusCode != 200 || !strings.Contains(body, "2 points de vente sur 2 à mettre à jour") || !strings.Contains(body, "2026-03-01") ||
		!strings.Contains(body, "convention_signature_date") || writes(srv) != 0 {
		t.Fatalf("dry run: %d %d writes %.3000s", resp.StatusCode, writes(srv), body)
	}

	// The push (as its job runs it).
	w := &lokavaluto.PushWorker{DB: db, Connector: conn}
	job := &jobs.Job[odoo.PushArgs]{JobRow: &jobs.JobRow{}, Args: odoo.PushArgs{CouncilID: co.ID}}
	if err := w.Work(ctx, job); err != nil {
		t.Fatal(err)
	}
	p := srv.Partner(fournil)
	if p["convention_signature_date"] != "2026-03-01" || p["to_renew"] != true || p["accept_digital_currency"] != true ||
		!strings.Contains(p[lokavaluto.DefaultCategoriesField].(string), "Pain") {
		t.Fatalf("Fournil's partner after the push: %v", p)
	}
	if writes(srv) != 2 {
		t.Fatalf("%d writes, want 2", writes(srv))
	}
	// Idempotent: nothing written when Odoo holds the values.
	if res, err := conn.Push(ctx, db, co.ID); err != nil || res.Unchanged != 2 || writes(srv) != 2 {
		t.Fatalf("second push: %+v %v, %d writes", res, err, writes(srv))
	}
	if _, body := fac.Get("/gestion/odoo/essai"); !strings.Contains(html.UnescapeString(body), "l'envoi n'écrirait rien") {
		t.Fatalf("dry run after the push: %.2000s", body)
	}

	// Suspended: the partner is blocked; Odoo fails first, the failure is
	// shown, the retry succeeds and clears it.
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := catalog.ApplyChange(ctx, tx, co.ID, catalog.Change{EffectiveOn: signed, Summary: "Suspension",
			Shops: []catalog.ShopChange{{Slug: "marche-du-lavoir", Status: catalog.ShopSuspendu}}}, catalog.DecisionRef{Ref: "decision:odoo2"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, odootest.HTTP500)
	if err := w.Work(ctx, job); err == nil {
		t.Fatal("a push that Odoo refused reported no error: the job would not be retried")
	}
	if _, body := fac.Get("/gestion/odoo"); !strings.Contains(html.UnescapeString(body), "Odoo a répondu 500") {
		t.Fatalf("the failure is not shown: %.3000s", body)
	}
	if err := w.Work(ctx, job); err != nil {
		t.Fatal(err)
	}
	if p := srv.Partner(marche); p["accept_digital_currency"] != false {
		t.Fatalf("suspended shop's partner still active: %v", p)
	}
	if _, body := fac.Get("/gestion/odoo"); strings.Contains(body, "Échec") {
		t.Fatalf("the failure is still shown after a successful retry: %.3000s", body)
	}
	// Unlinked: no more pushes for that shop.
	if resp, _ := fac.PostForm(base+"marche-du-lavoir/suppression", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlink: %d", resp.StatusCode)
	}
	if ls, err := odoo.Links(ctx, db, co.ID); err != nil || len(ls) != 1 {
		t.Fatalf("links after unlinking: %v %v", ls, err)
	}
}

// Without the operator's settings, the pages say so and nothing calls out.
func TestConnectorNotConfigured(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	co, err := demo.Load(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	web := apptest.New(t, db, app.Config{Odoo: &lokavaluto.Connector{}})
	fac, _ := webtest.SignIn(t, web, db, co.ID, authz.Facilitator)
	for _, path := range []string{"/gestion/odoo", "/gestion/odoo/essai", "/gestion/odoo/points-de-vente/marche-du-lavoir?q=lavoir"} {
		if resp, body := fac.Get(path); resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), "n'est pas configuré") {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := fac.PostForm("/gestion/odoo/envoi", nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("push without configuration: %d", resp.StatusCode)
	}
	mem, _ := webtest.SignIn(t, web, db, co.ID, authz.Member)
	if resp, _ := mem.Get("/gestion/odoo"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("member: %d", resp.StatusCode)
	}
}
