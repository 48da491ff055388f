package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"cla/demo"
	"cla/governance/instance"
	"cla/internal/audit"
	"cla/internal/webtest"
)

// Councils made as an operator makes them — one from the model, one from the
// demo council's exchange file — walked through every page of the route
// table by an anonymous visitor and by their first admin, signed in through
// the invitation link on the council's own host name. Every page answers
// without a server error, public pages answer as they do on the demo, and no
// page shows another council's people, debates or name (the file-made
// council may name the demo council as the origin of its history, nothing
// more).
func TestCouncilsCreatedByTheOperatorShowOnlyTheirOwnData(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()

	demoClient := webtest.New(t, app)
	resp, exported := demoClient.Get("/api/v1/export")
	if resp.StatusCode != 200 {
		t.Fatalf("demo export: %d", resp.StatusCode)
	}
	var demoID int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &demoID); err != nil {
		t.Fatal(err)
	}
	// What belongs to the demo council alone: its people and its debates.
	var markers []string
	if err := db.NewRaw(`SELECT a.name FROM accounts a JOIN memberships m ON m.account_id = a.id WHERE m.council_id = ?
		UNION SELECT a.email FROM accounts a JOIN memberships m ON m.account_id = a.id WHERE m.council_id = ?
		UNION SELECT title FROM debates WHERE council_id = ?`, demoID, demoID, demoID).Scan(ctx, &markers); err != nil {
		t.Fatal(err)
	}
	if len(markers) < 10 {
		t.Fatalf("only %d markers of the demo council", len(markers))
	}

	created := []struct {
		in      instance.Input
		foreign []string // names of other councils this one must not show
	}{
		{instance.Input{Slug: "conseil-modele", Name: "Conseil du Val", CaisseName: "Caisse du Val", Commune: "Valence",
			Hosts: "val.test", AdminEmail: "admin@val.test", Start: instance.StartModel},
			[]string{"Conseil Local de l'Alimentation de Dieulefit", "Conseil de la Plaine"}},
		{instance.Input{Slug: "conseil-fichier", Name: "Conseil de la Plaine", CaisseName: "Caisse de la Plaine", Commune: "Crest",
			Hosts: "plaine.test", AdminEmail: "admin@plaine.test", Start: instance.StartFile, File: bytes.NewReader([]byte(exported))},
			[]string{"Conseil du Val"}},
	}
	for _, cc := range created {
		res, err := instance.Create(ctx, db, cc.in, audit.Actor{Name: "Opératrice"})
		if err != nil {
			t.Fatalf("create %s: %v", cc.in.Slug, err)
		}
		host := res.Hosts[0]
		anonymous := webtest.New(t, app)
		anonymous.Host = host
		admin := webtest.New(t, app)
		admin.Host = host
		if resp, body := admin.Get("/invitation/" + res.InviteToken); resp.StatusCode != 200 || !strings.Contains(body, cc.in.Name) {
			t.Fatalf("%s: invitation page %d", host, resp.StatusCode)
		}
		if resp, _ := admin.PostForm("/invitation/"+res.InviteToken, url.Values{"name": {"Première Admin"}, "password": {webtest.Password}}); resp.StatusCode != 303 {
			t.Fatalf("%s: accepting the invitation: %d", host, resp.StatusCode)
		}
		if resp, body := admin.Get("/gestion/conseil"); resp.StatusCode != 200 || !strings.Contains(body, cc.in.Name) {
			t.Fatalf("%s: the first admin does not reach the council's settings: %d", host, resp.StatusCode)
		}

		walked := 0
		for _, rc := range routeTable {
			method, pattern, _ := strings.Cut(rc.route, " ")
			if method != fiber.MethodGet || strings.ContainsAny(pattern, ":*") || strings.HasPrefix(pattern, "/instance") ||
				pattern == "/deconnexion" {
				continue
			}
			for _, who := range []struct {
				name   string
				client *webtest.Client
				want   int // the demo's answer to the same persona
			}{{"anonymous", anonymous, rc.want[anon]}, {"first admin", admin, rc.want[adminA]}} {
				resp, body := who.client.Get(pattern)
				walked++
				if resp.StatusCode >= 500 {
					t.Errorf("%s GET %s as %s: %d", host, pattern, who.name, resp.StatusCode)
				}
				if who.want == http.StatusOK && who.name == "anonymous" && resp.StatusCode != http.StatusOK {
					t.Errorf("%s GET %s as anonymous: %d, want 200 as on the demo council", host, pattern, resp.StatusCode)
				}
				for _, m := range append(markers, cc.foreign...) {
					if strings.Contains(body, m) || strings.Contains(body, htmlEscape(m)) {
						t.Errorf("%s GET %s as %s shows %q, which belongs to another council", host, pattern, who.name, m)
					}
				}
			}
		}
		if walked < 80 {
			t.Fatalf("%s: only %d pages walked", host, walked)
		}
	}
}

// htmlEscape is m as html/template writes it in a page.
func htmlEscape(m string) string {
	return strings.NewReplacer("'", "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(m)
}
