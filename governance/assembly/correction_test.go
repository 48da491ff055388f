package assembly_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// A published decision is never edited: a clerical rectification (wording,
// with a reason) supersedes it, both pages link each other, the register
// keeps its version, and a decision is rectified once (then its
// rectification is). Refusals re-show the form as typed.
func TestRectifyingDecision(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, co.ID, authz.Facilitator)
	member, _ := webtest.SignIn(t, a, db, co.ID, authz.Member)
	var id int64
	var title, motivation string
	if err := db.NewRaw("SELECT id, title, motivation_md FROM decisions WHERE council_id = ? AND register_version IS NOT NULL ORDER BY id LIMIT 1", co.ID).
		Scan(ctx, &id, &title, &motivation); err != nil {
		t.Fatal(err)
	}
	versions := func() (n int) {
		if err := db.NewRaw("SELECT count(*) FROM register_versions WHERE council_id = ?", co.ID).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := versions()
	dpath := "/decisions/" + strconv.FormatInt(id, 10)
	if res, _ := member.PostForm(dpath+"/rectifier", url.Values{"reason": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("member rectifying: %d", res.StatusCode)
	}
	res, body := fac.PostForm(dpath+"/rectifier", url.Values{"reason": {""}, "title": {title + " (corrigé)"}, "motivation": {motivation}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "ce que la rectification corrige") || !strings.Contains(body, "(corrigé)") {
		t.Fatalf("rectification without a reason: %d %.2000s", res.StatusCode, body)
	}
	res, body = fac.PostForm(dpath+"/rectifier", url.Values{"reason": {"Coquille dans l'intitulé"}, "title": {title + " (corrigé)"}, "motivation": {motivation}})
	npath := location(t, res, body)
	if _, body = member.Get(npath); !strings.Contains(body, `href="`+dpath+`"`) || !strings.Contains(body, "Coquille dans l&#39;intitulé") {
		t.Fatalf("the rectification does not link the original: %.3000s", body)
	}
	if _, body = member.Get(dpath); !strings.Contains(body, "Décision rectifiée") || !strings.Contains(body, `href="`+npath+`"`) || !strings.Contains(body, title) {
		t.Fatalf("the original does not link its rectification: %.3000s", body)
	}
	if versions() != before {
		t.Fatal("a clerical rectification made a register version")
	}
	res, body = fac.PostForm(dpath+"/rectifier", url.Values{"reason": {"Encore"}, "title": {"Autre intitulé"}, "motivation": {motivation}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "déjà été rectifiée") || !strings.Contains(body, "Autre intitulé") {
		t.Fatalf("second rectification of the original: %d %.2000s", res.StatusCode, body)
	}
	res, body = fac.PostForm(npath+"/rectifier", url.Values{"reason": {"Encore"}, "title": {"Autre intitulé"}, "motivation": {motivation}})
	location(t, res, body)
	if _, body = member.Get("/decisions"); !strings.Contains(body, "rectifiée par la décision") {
		t.Fatalf("the list does not mark rectified decisions: %.3000s", body)
	}
}
