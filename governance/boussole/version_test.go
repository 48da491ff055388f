package boussole_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

func TestWordDiff(t *testing.T) {
	t.Parallel()
	got := boussole.WordDiff("Accessibilité géographique des points", "Accessibilité sociale des points de vente")
	want := []boussole.WordOp{{Op: "=", Text: "Accessibilité"}, {Op: "-", Text: "géographique"}, {Op: "+", Text: "sociale"},
		{Op: "=", Text: "des points"}, {Op: "+", Text: "de vente"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("WordDiff = %v, want %v", got, want)
	}
	if d := boussole.WordDiff("", "Nouveau texte"); len(d) != 1 || !d[0].Added() {
		t.Errorf("from nothing: %v", d)
	}
}

// The form orders criteria by rank then by pillar, drops removed and empty
// rows, and puts each problem beside its field.
func TestParseCriteriaForm(t *testing.T) {
	t.Parallel()
	form := url.Values{"rows": {"4"},
		"c1_name": {"Prix"}, "c1_pillar": {"consommateurs"}, "c1_rank": {"2"},
		"c2_name": {"Goût"}, "c2_pillar": {"consommateurs"}, "c2_rank": {"1"}, "c2_question": {"Est-ce bon ?"},
		"c3_name": {"Local"}, "c3_pillar": {"systeme"}, "c3_rank": {"0"},
		"c4_name": {"Retiré"}, "c4_pillar": {"producteurs"}, "c4_remove": {"1"},
	}
	spec, _, err := boussole.ParseCriteriaForm(form.Get)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec) != 3 || spec[0].Name != "Goût" || spec[0].Question != "Est-ce bon ?" || spec[1].Name != "Prix" || spec[2].Name != "Local" {
		t.Errorf("spec %+v", spec)
	}
	form.Set("c1_pillar", "")
	form.Set("c3_name", "goût")
	form.Set("c2_rank", "deux")
	_, f, err := boussole.ParseCriteriaForm(form.Get)
	fields := apperr.FieldsOf(err)
	if fields["c1_pillar"] == "" || !strings.Contains(fields["c2_name"]+fields["c3_name"], "déjà celui du critère") || fields["c2_rank"] == "" {
		t.Errorf("errors %v", fields)
	}
	if len(f.Rows) != 3+3 || f.RowCount() != 6 {
		t.Errorf("re-rendered rows: %d (count %d)", len(f.Rows), f.RowCount())
	}
}

var seq atomic.Int64

// An admin writes the first boussole of an empty council through the form;
// once it exists the direct path is closed, and a version number never goes
// back.
func TestAdminPublishesTheFirstBoussoleOnce(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	var co int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES (?, 'Conseil neuf') RETURNING id", fmt.Sprintf("neuf-%d", seq.Add(1))).Scan(ctx, &co); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	admin, _ := webtest.SignIn(t, a, db, co, authz.Admin)
	fac, _ := webtest.SignIn(t, a, db, co, authz.Facilitator)

	if _, body := admin.Get("/boussole"); !strings.Contains(body, `href="/boussole/premiere"`) {
		t.Error("the admin is not offered to write the first boussole")
	}
	if _, body := fac.Get("/boussole"); strings.Contains(body, `href="/boussole/premiere"`) {
		t.Error("a facilitator is offered the admin's form")
	}
	if res, _ := fac.PostForm("/boussole/premiere", url.Values{"rows": {"1"}, "c1_name": {"Prix"}, "c1_pillar": {"consommateurs"}}); res.StatusCode != 403 {
		t.Errorf("facilitator publishes: %d", res.StatusCode)
	}
	res, body := admin.Get("/boussole/premiere")
	if res.StatusCode != 200 || !strings.Contains(body, `name="c12_name"`) {
		t.Fatalf("form: %d, or fewer than 12 rows", res.StatusCode)
	}
	docs := []browsertest.Document{{Name: "first boussole form", HTML: []byte(body)}}
	// A criterion without pillar: re-shown with the reason, nothing published.
	res, body = admin.PostForm("/boussole/premiere", url.Values{"rows": {"2"}, "c1_name": {"Prix juste"}, "c1_question": {"Le prix est-il juste ?"},
		"c2_name": {"Proximité"}, "c2_pillar": {"systeme"}})
	if res.StatusCode != 422 || !strings.Contains(body, `id="c1_pillar-error"`) || !strings.Contains(body, `value="Le prix est-il juste ?"`) {
		t.Fatalf("invalid first boussole: %d %.500s", res.StatusCode, body)
	}
	docs = append(docs, browsertest.Document{Name: "first boussole refused", HTML: []byte(body)})
	errs, err := browsertest.ValidateHTML(docs)
	if err != nil {
		t.Fatal(err)
	}
	for name, msgs := range errs {
		for _, m := range msgs {
			t.Errorf("%s: %s", name, m)
		}
	}
	if ok, _ := boussole.BoussoleExists(ctx, db, co); ok {
		t.Fatal("an invalid form published a boussole")
	}
	res, body = admin.PostForm("/boussole/premiere", url.Values{"rows": {"2"}, "c1_name": {"Prix juste"}, "c1_question": {"Le prix est-il juste ?"},
		"c1_pillar": {"consommateurs"}, "c2_name": {"Proximité"}, "c2_pillar": {"systeme"}, "c2_description": {"Moins de 80 km."}})
	if res.StatusCode != 303 {
		t.Fatalf("first boussole: %d %.500s", res.StatusCode, body)
	}
	b, err := boussole.CurrentBoussole(ctx, db, co)
	if err != nil || b.Version.Number != 1 || len(b.Groups) != 2 || b.Groups[0].Name != "Pour les consommateurs" ||
		b.Groups[1].Criteria[0].Description != "Moins de 80 km." || b.Groups[1].Criteria[0].Position != 2 {
		t.Fatalf("version 1: %+v %v", b, err)
	}
	if _, body := admin.Get("/boussole"); !strings.Contains(body, "Le prix est-il juste ?") || !strings.Contains(body, "Moins de 80 km.") {
		t.Error("/boussole does not show the question and description")
	}
	for _, try := range []func() int{
		func() int { r, _ := admin.Get("/boussole/premiere"); return r.StatusCode },
		func() int {
			r, _ := admin.PostForm("/boussole/premiere", url.Values{"rows": {"1"}, "c1_name": {"Autre"}, "c1_pillar": {"systeme"}})
			return r.StatusCode
		},
	} {
		if st := try(); st != 409 {
			t.Errorf("direct path after version 1: %d", st)
		}
	}
	// Versions only go forward.
	_, err = boussole.Publish(ctx, db, co, boussole.SpecOf(b), boussole.Publication{Number: 1, AdoptedOn: time.Now()})
	if apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("version 1 published twice: %v", err)
	}
}
