package sortition_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/sortition"
	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// TestDemoDrawIsPublishedAndVerifies: the demo's draw of 12 seats among 200
// volunteers is on its public page, linked from /conseil, and its draw.json
// verifies with the drand round's signature.
func TestDemoDrawIsPublishedAndVerifies(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	web := webtest.New(t, apptest.New(t, db, app.Config{}))
	if _, body := web.Get("/conseil"); !strings.Contains(body, `href="/tirages"`) || !strings.Contains(body, `<caption>Sièges tirés au sort</caption>`) ||
		!strings.Contains(body, `issus du tirage <a href="/tirages/`+demo.SortitionSlug+`">`) {
		t.Fatal("/conseil does not show the drawn seats and link their draw")
	}
	if _, body := web.Get("/tirages"); !strings.Contains(body, "/tirages/"+demo.SortitionSlug) {
		t.Fatal("the list does not show the demo draw")
	}
	d, err := sortition.DrawBySlug(ctx, db, co.ID, demo.SortitionSlug)
	if err != nil || d.State != sortition.Drawn || len(d.Result.Selected) != 12 {
		t.Fatalf("demo draw: %+v %v", d, err)
	}
	var kept int
	if err := db.NewRaw("SELECT count(*) FROM sortition_volunteers WHERE email <> ''").Scan(ctx, &kept); err != nil || kept != 24 {
		t.Fatalf("after the draw, %d volunteers keep their address, want the 12 seated and 12 on the reserve list (%v)", kept, err)
	}
	resp, body := web.Get("/tirages/" + demo.SortitionSlug)
	for _, want := range []string{*d.CommitmentSHA256, d.Result.Selected[0], d.Result.Reserve[0], "cla sortition verify draw.json", "api.drand.sh", "tour 32281667", "Tous les quotas sont respectés"} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("public page (%d) lacks %q", resp.StatusCode, want)
		}
	}
	resp, body = web.Get("/tirages/" + demo.SortitionSlug + "/draw.json")
	f, err := draw.ReadFile(strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("draw.json: %d %v", resp.StatusCode, err)
	}
	if len(f.Commitment.Candidates) != 200 || strings.Contains(body, "dieulefit.example") || strings.Contains(body, "Volontaire 0") {
		t.Fatal("draw.json shows other than the 200 pseudonyms")
	}
	if _, diffs, err := draw.Verify(f, drand.CheckSource); err != nil || len(diffs) > 0 {
		t.Fatalf("demo draw.json does not verify: %v %v", err, diffs)
	}
	if resp, _ := web.Get("/tirages/" + demo.SortitionSlug + "/candidature"); resp.StatusCode != 409 {
		t.Fatalf("form of a closed draw: %d", resp.StatusCode)
	}
}

// TestVolunteerThroughTheForm: the public form keeps the input and says
// what is wrong in French; the private link shows the pseudonym and
// withdraws the candidacy.
func TestVolunteerThroughTheForm(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	in := input(time.Now().Add(time.Hour))
	in.Slug = "ouvert"
	if _, err := sortition.CreateDraw(ctx, db, audit.Actor{}, co.ID, in, time.Now()); err != nil {
		t.Fatal(err)
	}
	web := webtest.New(t, apptest.New(t, db, app.Config{}))
	resp, body := web.Get("/tirages/ouvert/candidature")
	if resp.StatusCode != 200 || !strings.Contains(body, "Je préfère ne pas répondre") {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	form := url.Values{"name": {"Zoé Martin"}, "email": {"zoe@example.org"}, "commune": {"Poët-Laval"}, "strata_genre": {"femme"}, "strata_âge": {"70+"}}
	resp, _ = web.PostForm("/tirages/ouvert/candidature", form)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/tirage-candidature/") {
		t.Fatalf("candidacy: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	private := strings.TrimSuffix(resp.Header.Get("Location"), "?nouvelle=1")
	form.Set("name", "Zoé bis")
	resp, body = web.PostForm("/tirages/ouvert/candidature", form)
	if resp.StatusCode != 422 || !strings.Contains(body, "déjà inscrite") || !strings.Contains(body, `value="Zoé bis"`) {
		t.Fatalf("second candidacy with one address: %d", resp.StatusCode)
	}
	resp, body = web.Get(private)
	if resp.StatusCode != 200 || !strings.Contains(body, "Retirer ma candidature") || !strings.Contains(body, "genre : femme") {
		t.Fatalf("private page: %d", resp.StatusCode)
	}
	if resp, _ := web.PostForm(private+"/retrait", nil); resp.StatusCode != 303 {
		t.Fatalf("withdraw: %d", resp.StatusCode)
	}
	if _, body := web.Get(private); !strings.Contains(body, "Vous avez retiré votre candidature") {
		t.Fatal("withdrawal not shown")
	}
}

// TestFacilitatorRunsADraw: the facilitator prepares a draw (bad input
// refused in French, input kept), publishes the commitment once closed,
// and enters the randomness once; a second entry and a drand signature
// that does not verify are refused.
func TestFacilitatorRunsADraw(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, co.ID, authz.Facilitator)
	resp, body := fac.PostForm("/gestion/tirages", url.Values{"title": {"Tirage 2027"}, "slug": {"Mauvaise Adresse"}, "seats": {"3"}, "reserves": {"1"},
		"term_months": {"12"}, "closes_at": {"2030-01-01T12:00"}, "categories": {"genre : femme, homme"}, "quotas": {"genre femme 1"}, "source_kind": {"lottery"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "minimum-maximum") || !strings.Contains(body, `value="Tirage 2027"`) {
		t.Fatalf("bad draw: %d", resp.StatusCode)
	}
	resp, _ = fac.PostForm("/gestion/tirages", url.Values{"title": {"Tirage 2030"}, "slug": {"tirage-2030"}, "seats": {"3"}, "reserves": {"1"},
		"term_months": {"12"}, "closes_at": {"2030-01-01T12:00"}, "categories": {"genre : femme, homme"}, "quotas": {"genre : femme = 1-2"},
		"source_kind": {"index"}, "description": {"CAC 40 à la clôture du 2 janvier 2030, en points, deux décimales"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/gestion/tirages/tirage-2030" {
		t.Fatalf("draw: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := fac.PostForm("/gestion/tirages/tirage-2030/engagement", nil); resp.StatusCode != 409 {
		t.Fatalf("commitment before closing: %d", resp.StatusCode)
	}

	// A draw already closed, prepared through the store.
	past := time.Now().Add(-2 * time.Hour)
	for _, tc := range []struct{ slug, kind string }{{"ferme", draw.SourceLottery}, {"ferme-drand", draw.SourceDrand}} {
		in := input(time.Now().Add(-time.Hour))
		in.Slug = tc.slug
		if tc.kind == draw.SourceDrand {
			in.Source = draw.Source{Kind: draw.SourceDrand, Chain: drand.Quicknet.Hash, Round: drand.Quicknet.RoundAt(time.Now()) + 100, Description: "drand"}
		}
		if _, err := sortition.CreateDraw(ctx, db, audit.Actor{}, co.ID, in, past); err != nil {
			t.Fatal(err)
		}
		for i, g := range []string{"femme", "homme", "femme", "homme"} {
			tok, err := sortition.AddVolunteer(ctx, db, co.ID, tc.slug, sortition.VolunteerInput{Name: "V", Email: fmt.Sprintf("v%d@example.org", i), Commune: "D", Strata: map[string]string{"genre": g}}, past)
			if err != nil {
				t.Fatal(err)
			}
			sortition.Confirm(ctx, db, tok, past)
		}
		if resp, _ := fac.PostForm("/gestion/tirages/"+tc.slug+"/engagement", nil); resp.StatusCode != 303 {
			t.Fatalf("commitment: %d", resp.StatusCode)
		}
		if resp, _ := fac.PostForm("/gestion/tirages/"+tc.slug+"/engagement", nil); resp.StatusCode != 409 {
			t.Fatalf("second commitment: %d", resp.StatusCode)
		}
	}
	// A signature of another round does not verify.
	resp, body = fac.PostForm("/gestion/tirages/ferme-drand/hasard", url.Values{"randomness": {"b0f5ae301358ff87a9d3dd539ed4a07c0148b1ab4f7b61a8ca43c7e9ca7ca9553e4faae9188deb30b2cd1a7f447e3e5b"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "ne correspond pas") {
		t.Fatalf("forged drand value: %d", resp.StatusCode)
	}
	resp, _ = fac.PostForm("/gestion/tirages/ferme/hasard", url.Values{"randomness": {"12 19 23 31 44 3 7"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/tirages/ferme" {
		t.Fatalf("randomness: %d", resp.StatusCode)
	}
	if resp, _ := fac.PostForm("/gestion/tirages/ferme/hasard", url.Values{"randomness": {"1 2 3 4 5 6 7"}}); resp.StatusCode != 409 {
		t.Fatalf("second randomness: %d", resp.StatusCode)
	}
	d, _ := sortition.DrawBySlug(ctx, db, co.ID, "ferme")
	if *d.Randomness != "12 19 23 31 44 3 7" || len(d.Result.Selected) != 3 {
		t.Fatalf("draw after a second entry: %+v", d)
	}
	if _, body := fac.Get("/gestion/tirages/ferme"); !strings.Contains(body, "v0@example.org") {
		t.Fatal("the facilitator does not see the volunteers")
	}
	anon := webtest.New(t, a)
	if _, body := anon.Get("/tirages/ferme"); strings.Contains(body, "example.org") {
		t.Fatal("the public page shows an address")
	}
}

// TestSeatAcceptanceLeadsToTheInvitation: a drawn volunteer accepts on
// their private link and lands on the member invitation.
func TestSeatAcceptanceLeadsToTheInvitation(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * time.Hour)
	in := input(time.Now().Add(-time.Hour))
	in.Slug, in.Seats, in.Quotas = "ferme", 1, nil
	if _, err := sortition.CreateDraw(ctx, db, audit.Actor{}, co.ID, in, past); err != nil {
		t.Fatal(err)
	}
	tok, err := sortition.AddVolunteer(ctx, db, co.ID, "ferme", sortition.VolunteerInput{Name: "Nour", Email: "nour@example.org", Commune: "D"}, past)
	if err != nil {
		t.Fatal(err)
	}
	sortition.Confirm(ctx, db, tok, past)
	if _, err := sortition.Commit(ctx, db, audit.Actor{}, co.ID, "ferme", co.Slug, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := sortition.EnterRandomness(ctx, db, audit.Actor{}, co.ID, "ferme", "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	web := webtest.New(t, apptest.New(t, db, app.Config{}))
	if _, body := web.Get("/tirage-candidature/" + tok); !strings.Contains(body, "J’accepte le siège") {
		t.Fatal("the drawn volunteer is not asked to accept")
	}
	resp, _ := web.PostForm("/tirage-candidature/"+tok+"/siege", url.Values{"decision": {"accepter"}})
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/invitation/") {
		t.Fatalf("accept: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := web.Get(resp.Header.Get("Location")); resp.StatusCode != 200 || !strings.Contains(body, "nour@example.org") {
		t.Fatalf("invitation page: %d", resp.StatusCode)
	}
	if _, body := web.Get("/tirages/ferme"); !strings.Contains(body, "en mandat") {
		t.Fatal("the public page does not show the seat's term")
	}
	// The account the invitation creates is a member until the seat's term
	// ends (issue 21, point 5), then ends by itself (internal/auth).
	invitation := resp.Header.Get("Location")
	if resp, body := web.PostForm(invitation, url.Values{"name": {"Nour"}, "password": {"un mot de passe assez long"}}); resp.StatusCode != 303 {
		t.Fatalf("joining: %d %.500s", resp.StatusCode, body)
	}
	d, _ := sortition.DrawBySlug(ctx, db, co.ID, "ferme")
	seats, _ := sortition.Seats(ctx, db, d.ID)
	var term time.Time
	if err := db.NewRaw("SELECT m.term_ends_at FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.council_id = ? AND a.email = 'nour@example.org'", co.ID).Scan(ctx, &term); err != nil ||
		len(seats) != 1 || seats[0].TermEndsAt == nil || !term.Equal(*seats[0].TermEndsAt) {
		t.Fatalf("membership term %v, seat %+v, %v", term, seats, err)
	}
}
