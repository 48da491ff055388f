package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/catalog"
	"cla/demo"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newTestApp returns the real app over a fresh database holding the demo.
func newTestApp(t *testing.T) (*fiber.App, *bun.DB) {
	t.Helper()
	db := testdb.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return newAppOver(t, db), db
}

func newAppOver(t *testing.T, db *bun.DB) *fiber.App {
	t.Helper()
	return apptest.New(t, db, (&Config{}).App())
}

// newUncachedAppOver is newAppOver with the page cache off, for the tests that
// count what a render costs.
func newUncachedAppOver(t *testing.T, db *bun.DB) *fiber.App {
	t.Helper()
	cfg := (&Config{}).App()
	cfg.PageCacheOff = true
	return apptest.New(t, db, cfg)
}

// get runs a GET through the real router and returns the response and its body.
func get(t *testing.T, app *fiber.App, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestHomeShowsTheRegisterReadFromTheDatabase(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	resp, body := get(t, app, "/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"Fruits &amp; légumes", "Produits d&#39;origine animale", "Alcool", "Non conventionné", `lang="fr"`} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	// A category added to the register shows once the change is committed: the
	// page is read from the database (through the register cache, which the
	// change's NOTIFY invalidates), not from the demo's source.
	err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		var councilID int64
		if err := tx.NewRaw("SELECT id FROM councils WHERE slug = 'dieulefit'").Scan(ctx, &councilID); err != nil {
			return err
		}
		_, err := catalog.ApplyChange(ctx, tx, councilID, catalog.Change{EffectiveOn: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			Summary: "Champignons", Items: []catalog.ItemChange{{Slug: "champignons", Name: "Champignons de Saoû", Kind: catalog.Category,
				ParentSlug: "productions-vegetales", Status: catalog.Conventionne}}}, catalog.DecisionRef{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, body := get(t, app, "/"); strings.Contains(body, "Champignons de Saoû") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a category added to the register does not appear on the home page")
		}
	}
}

func TestPublicPagesRender(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	pages := map[string]string{
		"/registre":        "Raison : Non conventionné pour des raisons de santé publique",
		"/points-de-vente": "Fournil des Comètes",
		"/debats":          "Les produits de la pêche",
		"/boussole":        "Désirabilité de la SSA",
		"/seances":         "Calendrier des séances (iCalendar)",
		"/connexion":       "Se connecter",
	}
	for path, want := range pages {
		resp, body := get(t, app, path)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: status %d, want 200 and %q", path, resp.StatusCode, want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	for _, path := range []string{"/", "/registre", "/debats", "/nope", "/api/v1/nope", "/static/css/app.css", "/static/nope.css", "/healthz", "/readyz"} {
		resp, _ := get(t, app, path)
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff, Referrer-Policy or X-Frame-Options: %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain HTTP without a trusted proxy", path)
		}
	}
}

func TestHSTSOnlyWhenServedOverTLS(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	// An untrusted client claiming https gets no HSTS; the public https URL does.
	plain := newAppOver(t, db)
	if resp, _ := get(t, plain, "/healthz", "X-Forwarded-Proto", "https"); resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("X-Forwarded-Proto from an untrusted client turned HSTS on")
	}
	tls := apptest.New(t, db, (&Config{BaseURL: "https://cla.example.org"}).App())
	if resp, _ := get(t, tls, "/healthz"); !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS with an https base URL")
	}
}

func TestErrorsAreFrenchPagesOrJSON(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	resp, body := get(t, app, "/pas-de-page-ici")
	if resp.StatusCode != 404 || !strings.Contains(body, "Page introuvable") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown page: status %d, body %.200q", resp.StatusCode, body)
	}
	resp, body = get(t, app, "/api/v1/register/versions/999999")
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown API path: status %d, type %q, body %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	// Refused before routing: a POST without a CSRF token never reaches a handler.
	if resp.StatusCode != 403 && resp.StatusCode != 404 && resp.StatusCode != 405 {
		t.Errorf("POST / : status %d", resp.StatusCode)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, body := get(t, app, path); resp.StatusCode != 200 || body != "ok" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	_ = db.Close()
	if resp, _ := get(t, app, "/readyz"); resp.StatusCode != 503 {
		t.Errorf("/readyz with the database gone: %d, want 503", resp.StatusCode)
	}
	if resp, _ := get(t, app, "/healthz"); resp.StatusCode != 200 {
		t.Errorf("/healthz with the database gone: %d, want 200 (the process is up)", resp.StatusCode)
	}
}

func TestStaticAssetsAreCachedAndRevalidated(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	_, home := get(t, app, "/")
	i := strings.Index(home, "/static/css/app.css?v=")
	if i < 0 {
		t.Fatal("home page does not link the fingerprinted stylesheet")
	}
	url := home[i : i+strings.IndexByte(home[i:], '"')]
	resp, body := get(t, app, url)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ":root") {
		t.Fatalf("%s: %d %v", url, resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, app, url, "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != 304 {
		t.Errorf("revalidation: %d, want 304", resp.StatusCode)
	}
}

func TestCouncilIsResolvedByHost(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `WITH c AS (INSERT INTO councils (slug, name) VALUES ('montpellier', 'CLA de Montpellier') RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT 'montpellier.example', id FROM c`); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "Montpellier.example:8080"
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if !strings.Contains(body, "CLA de Montpellier") || strings.Contains(body, "Fruits &amp; légumes") {
		t.Error("the Montpellier host shows another council's register")
	}
	if _, body := get(t, app, "/"); !strings.Contains(body, "Dieulefit") {
		t.Error("an unknown host does not fall back to the default council")
	}
}

func TestEmptyInstanceSaysNoCouncil(t *testing.T) {
	t.Parallel()
	app := newAppOver(t, testdb.New(t))
	resp, body := get(t, app, "/")
	// Not a 404: a French page saying exactly what to run (issue 16).
	if resp.StatusCode != 503 || !strings.Contains(body, "Aucun conseil") || !strings.Contains(body, "cla operator create") ||
		!strings.Contains(body, "cla council create") {
		t.Errorf("empty instance: %d %.300q", resp.StatusCode, body)
	}
}

// demoCouncilID returns the id of the demo council.
func demoCouncilID(t *testing.T, db *bun.DB) int64 {
	t.Helper()
	var id int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// cla started on an address already in use says so in one line, before
// starting PostgreSQL, and returns (Main.Close once panicked on the nil
// listener). A Run that fails after listening frees the address.
func TestAddressInUseIsSaidInOneLine(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	data := t.TempDir()
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"serve", "--addr", taken.Addr().String(), "--data", data, "--no-demo"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "l'adresse "+taken.Addr().String()+" est déjà utilisée") ||
		!strings.Contains(err.Error(), "--addr") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("address in use: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "postgres")); !os.IsNotExist(err) {
		t.Fatalf("PostgreSQL was started before the address was checked (%v)", err)
	}

	free := freeAddr(t)
	m := &Main{Config: Config{Addr: free, DatabaseURL: "postgres://personne@127.0.0.1:1/rien?connect_timeout=2&sslmode=disable"}, Logger: quiet}
	if err := m.Run(context.Background()); err == nil {
		t.Fatal("Run with an unreachable database succeeded")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close after a failed Run: %v", err)
	}
	ln, err := net.Listen("tcp", free)
	if err != nil {
		t.Fatalf("the address stayed taken after a failed Run: %v", err)
	}
	ln.Close()
}

// scripts/run, the README's run command, builds with the toolchain go.mod
// names even where the machine sets GOTOOLCHAIN=local (whose Go the tests
// refuse): it runs `go run ./cmd/cla` with GOTOOLCHAIN=auto and passes its
// arguments on. A stand-in `go` on PATH records how it is called.
func TestRunScriptUsesTheGoModToolchain(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	record := filepath.Join(bin, "record")
	stub := "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$GOTOOLCHAIN\" \"$PWD\" \"$*\" > " + record + "\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "run"), "--addr", "127.0.0.1:9090")
	cmd.Dir = t.TempDir() // from anywhere
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/run: %v\n%s", err, out)
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if want := "auto|" + root + "|run ./cmd/cla --addr 127.0.0.1:9090\n"; string(got) != want {
		t.Fatalf("scripts/run called go as %q, want %q", got, want)
	}
}
