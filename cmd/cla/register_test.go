package main

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/webtest"
)

func TestFacilitatorCorrectsWordingWithoutChangingStatus(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = 'dieulefit'").Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	// Anonymous visitors and members may not; facilitators may.
	anon := webtest.New(t, app)
	if resp, _ := anon.Get("/gestion/registre/kombucha"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/connexion") {
		t.Errorf("anonymous form: %d, want 303 to the sign-in form", resp.StatusCode)
	}
	member, _ := webtest.SignIn(t, app, db, councilID, authz.Member)
	if resp, _ := member.Get("/gestion/registre/kombucha"); resp.StatusCode != 403 {
		t.Errorf("member form: %d, want 403", resp.StatusCode)
	}
	if resp, _ := member.PostForm("/gestion/registre/kombucha", url.Values{"name": {"Pirate"}}); resp.StatusCode != 403 {
		t.Errorf("member post: %d, want 403", resp.StatusCode)
	}
	fac, facID := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	resp, body := fac.Get("/gestion/registre/kombucha")
	if resp.StatusCode != 200 || !strings.Contains(body, `name="_csrf"`) {
		t.Fatalf("facilitator form: %d", resp.StatusCode)
	}
	// Without the CSRF token the post is refused.
	if resp, _ := fac.PostFormRaw("/gestion/registre/kombucha", url.Values{"name": {"Kombucha (thé fermenté)"}}); resp.StatusCode != 403 {
		t.Errorf("post without CSRF token: %d, want 403", resp.StatusCode)
	}
	// An empty name re-renders the form with the message.
	resp, body = fac.PostForm("/gestion/registre/kombucha", url.Values{"name": {"  "}, "explanation": {"x"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Le nom est obligatoire") {
		t.Errorf("empty name: %d", resp.StatusCode)
	}
	// A correction, and a status field the form ignores.
	resp, _ = fac.PostForm("/gestion/registre/kombucha", url.Values{"name": {"Kombucha (thé fermenté)"},
		"explanation": {"Boisson **fermentée**. Débat souhaité."}, "status": {"conventionne"},
		"keywords": {"kombucha ,, thé fermenté, Scoby"}})
	if resp.StatusCode != 303 {
		t.Fatalf("correction: %d, want 303", resp.StatusCode)
	}
	var name, status, html, keywords string
	if err := db.NewRaw("SELECT name, status, explanation_html, keywords FROM register_items WHERE slug = 'kombucha'").Scan(ctx, &name, &status, &html, &keywords); err != nil {
		t.Fatal(err)
	}
	if name != "Kombucha (thé fermenté)" || status != "debat_souhaite" || !strings.Contains(html, "<strong>fermentée</strong>") ||
		keywords != "kombucha, thé fermenté, Scoby" {
		t.Errorf("after the correction: %q %q %q %q", name, status, html, keywords)
	}
	// The lookup answers with the new keyword at once (it reads the register).
	if _, body := get(t, app, "/puis-je-acheter?q=scobys"); !strings.Contains(body, `<a href="/registre/kombucha">`) {
		t.Error("the lookup does not find the kombucha by its new keyword")
	}
	var e audit.Entry
	if err := db.NewSelect().Model(&e).Where("action = 'register_item.wording'").Scan(ctx); err != nil {
		t.Fatalf("no audit entry: %v", err)
	}
	if e.ActorID == nil || *e.ActorID != facID || !strings.Contains(e.BeforeJSON, "Kombucha") || !strings.Contains(e.AfterJSON, "thé fermenté") {
		t.Errorf("audit entry %+v", e)
	}
	var versions int
	if err := db.NewRaw("SELECT count(*) FROM register_versions").Scan(ctx, &versions); err != nil || versions != 1 {
		t.Errorf("a wording correction created a version: %d (%v)", versions, err)
	}
	// The public page shows the new wording once the caches heard of it.
	for i := 0; ; i++ {
		_, body := get(t, app, "/registre")
		if strings.Contains(body, "Kombucha (thé fermenté)") {
			break
		}
		if i > 500 {
			t.Fatal("the register page still shows the old wording")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPostersPrintOnOneA4Page prints each demo shop's poster in headless
// Chromium and counts the PDF's pages.
func TestPostersPrintOnOneA4Page(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()
	b := browsertest.Start(t)
	dir := t.TempDir()
	for _, slug := range []string{"marche-du-lavoir", "marche-de-pont-de-barret", "fournil-des-cometes"} {
		p := b.NewPage(t)
		status, err := p.Navigate(base + "/points-de-vente/" + slug + "/affiche")
		if err != nil || status != 200 {
			t.Fatalf("%s: %d %v", slug, status, err)
		}
		pdf, err := p.PDF()
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, slug+".pdf")
		if err := os.WriteFile(file, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdfinfo", file).Output()
		if err != nil {
			t.Fatalf("pdfinfo (poppler-utils): %v", err)
		}
		pages := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(string(out))
		size := regexp.MustCompile(`(?m)^Page size:\s+([\d.]+) x ([\d.]+)`).FindStringSubmatch(string(out))
		if pages == nil || pages[1] != "1" {
			t.Errorf("%s: poster prints on %v pages, want 1", slug, pages)
		}
		// A4 is 595.28 x 841.89 points.
		if size == nil || !near(size[1], 595.28) || !near(size[2], 841.89) {
			t.Errorf("%s: page size %v, want A4", slug, size)
		}
		if keep := os.Getenv("CLA_POSTER_DIR"); keep != "" {
			_ = os.WriteFile(filepath.Join(keep, slug+".pdf"), pdf, 0o600)
		}
		p.Close()
	}
}

// near reports whether the number s is within 2 points of want.
func near(s string, want float64) bool {
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f > want-2 && f < want+2
}

// Issue 18, point 3: a facilitator gives an item its classification codes;
// bad codes are refused beside their field with nothing written; the codes
// appear in the open data JSON and CSV.
func TestFacilitatorSetsClassificationCodes(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = 'dieulefit'").Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	resp, body := fac.Get("/gestion/registre/kombucha")
	if resp.StatusCode != 200 || !strings.Contains(body, `name="off_category"`) || !strings.Contains(body, `name="gpc_brick"`) {
		t.Fatalf("form without the code fields: %d", resp.StatusCode)
	}
	codes := func() (string, string) {
		var off, gpc string
		if err := db.NewRaw("SELECT off_category, gpc_brick FROM register_items WHERE slug = 'kombucha'").Scan(ctx, &off, &gpc); err != nil {
			t.Fatal(err)
		}
		return off, gpc
	}
	for _, bad := range []struct{ off, gpc, field, msg string }{
		{"rices", "", "off_category-error", "Open Food Facts"},
		{"en:rices!", "", "off_category-error", "Open Food Facts"},
		{"", "1000002", "gpc_brick-error", "8 chiffres"},
		{"", "1000002X", "gpc_brick-error", "8 chiffres"},
	} {
		resp, body := fac.PostForm("/gestion/registre/kombucha", url.Values{"name": {"Kombucha"}, "explanation": {""},
			"off_category": {bad.off}, "gpc_brick": {bad.gpc}})
		if resp.StatusCode != 422 || !strings.Contains(body, `id="`+bad.field+`"`) || !strings.Contains(body, bad.msg) ||
			!strings.Contains(body, `value="`+bad.off+`"`) {
			t.Errorf("codes %q %q: %d, want 422 with the message beside the field and the input kept", bad.off, bad.gpc, resp.StatusCode)
		}
		if off, gpc := codes(); off != "" || gpc != "" {
			t.Fatalf("refused codes were written: %q %q", off, gpc)
		}
	}
	resp, _ = fac.PostForm("/gestion/registre/kombucha", url.Values{"name": {"Kombucha"}, "explanation": {""},
		"off_category": {" EN:Kombuchas "}, "gpc_brick": {"10 00 01 82"}})
	if resp.StatusCode != 303 {
		t.Fatalf("valid codes: %d, want 303", resp.StatusCode)
	}
	if off, gpc := codes(); off != "en:kombuchas" || gpc != "10000182" {
		t.Fatalf("stored codes %q %q", off, gpc)
	}
	anon := webtest.New(t, app)
	_, body = anon.Get("/api/v1/register")
	if !strings.Contains(body, `"slug":"kombucha"`) || !regexp.MustCompile(`"slug":"kombucha"[^}]*"off_category":"en:kombuchas","gpc_brick":"10000182"`).MatchString(body) {
		t.Errorf("JSON lacks the codes: %.300s", body[strings.Index(body, `"slug":"kombucha"`):])
	}
	if !strings.Contains(body, `"off_category":""`) {
		t.Error("items without codes should carry empty code fields")
	}
	_, body = anon.Get("/register.csv")
	lines := strings.Split(body, "\n")
	if !strings.HasSuffix(strings.TrimSpace(lines[0]), ",off_category,gpc_brick") {
		t.Errorf("CSV header %q", lines[0])
	}
	if !strings.Contains(body, ",en:kombuchas,10000182") {
		t.Error("CSV lacks the codes")
	}
}
