package sortition_test

import (
	"context"
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
	if _, body := web.Get("/conseil"); !strings.Contains(body, `href="/tirages"`) {
		t.Fatal("/conseil does not link the draws")
	}
	if _, body := web.Get("/tirages"); !strings.Contains(body, "/tirages/"+demo.SortitionSlug) {
		t.Fatal("the list does not show the demo draw")
	}
	d, err := sortition.DrawBySlug(ctx, db, co.ID, demo.SortitionSlug)
	if err != nil || d.State != sortition.Drawn || len(d.Result.Selected) != 12 {
		t.Fatalf("demo draw: %+v %v", d, err)
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
