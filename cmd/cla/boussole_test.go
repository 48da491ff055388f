package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cla/internal/authz"
	"cla/internal/webtest"
)

// A new council has no boussole: its /boussole page says so, proposal pages
// show no results instead of a 500, and nothing but the boussole itself can
// be proposed or scored — each refusal a French message, on the form when
// there is one.
func TestCouncilWithoutBoussole(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	var b int64
	if err := db.NewRaw(`WITH c AS (INSERT INTO councils (slug, name) VALUES ('conseil-b', 'Conseil B') RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT 'b.test', id FROM c RETURNING council_id`).Scan(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	fac, _ := webtest.SignIn(t, app, db, b, authz.Facilitator)
	// Bodies are read as text: apostrophes are escaped in data, not in markup.
	text := html.UnescapeString
	anon := webtest.New(t, app)
	anon.Host = "b.test"
	if res, body := anon.Get("/boussole"); res.StatusCode != http.StatusOK || !strings.Contains(text(body), "La boussole de ce conseil n'est pas encore écrite.") {
		t.Fatalf("/boussole without a boussole: %d %.1500s", res.StatusCode, body)
	}
	if res, body := fac.Get("/propositions/nouvelle"); res.StatusCode != http.StatusOK || !strings.Contains(text(body), "seule une proposition « Modification de la boussole »") {
		t.Fatalf("proposal form: %d %.1500s", res.StatusCode, body)
	}
	res, body := fac.PostForm("/propositions/nouvelle", url.Values{"kind": {"item_new"}, "title": {"Conventionner le thé"},
		"item_name": {"Thé"}, "proposed_status": {"conventionne"}, "outcome": {"Le thé devient conventionné."}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(body), `id="kind-error"`) ||
		!strings.Contains(text(body), "proposez-la d'abord") || !strings.Contains(text(body), `value="Conventionner le thé"`) {
		t.Fatalf("a product proposal without a boussole: %d %.3000s", res.StatusCode, body)
	}
	// The boussole itself can be proposed; its page shows no results.
	res, body = fac.PostForm("/propositions/nouvelle", url.Values{"kind": {"boussole"}, "title": {"Notre première boussole"},
		"outcome": {"# Pour les mangeurs\nPrix\nGoût\n# Pour la planète\nSaisons"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a boussole proposal: %d %.3000s", res.StatusCode, body)
	}
	ppath, _, _ := strings.Cut(res.Header.Get("Location"), "?")
	if res, body := fac.PostForm(ppath+"/etat", url.Values{"to": {"ouverte"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("opening the proposal: %d %.1500s", res.StatusCode, body)
	}
	for _, c := range []*webtest.Client{anon, fac} {
		if res, body := c.Get(ppath); res.StatusCode != http.StatusOK || !strings.Contains(text(body), "cette proposition ne peut pas encore être évaluée") ||
			strings.Contains(text(body), "Évaluer cette proposition") {
			t.Fatalf("proposal page without a boussole: %d %.3000s", res.StatusCode, body)
		}
	}
	// Scoring, the radar and the comparison refuse with the reason.
	res, body = fac.PostForm("/propositions/nouvelle", url.Values{"kind": {"boussole"}, "title": {"Une autre boussole"},
		"outcome": {"# Pour tous\nPrix"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a second boussole proposal: %d %.3000s", res.StatusCode, body)
	}
	other, _, _ := strings.Cut(strings.TrimPrefix(res.Header.Get("Location"), "/propositions/"), "?")
	for _, try := range []func() (*http.Response, string){
		func() (*http.Response, string) { return fac.Get(ppath + "/evaluer") },
		func() (*http.Response, string) { return fac.PostForm(ppath+"/evaluer", url.Values{}) },
		func() (*http.Response, string) { return fac.Get(ppath + "/radar.svg") },
		func() (*http.Response, string) {
			return fac.Get("/propositions/comparer?ids=" + strings.TrimPrefix(ppath, "/propositions/") + "&ids=" + other)
		},
	} {
		if res, body := try(); res.StatusCode != http.StatusConflict || !strings.Contains(text(body), "La boussole de ce conseil n'est pas encore écrite") {
			t.Errorf("%s: %d %.1500s", res.Request.URL.Path, res.StatusCode, body)
		}
	}
}
