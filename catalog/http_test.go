package catalog_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/internal/testdb"
)

// demoCouncil inserts the default council and loads the demo register.
func demoCouncil(t testing.TB, db *bun.DB) int64 {
	t.Helper()
	var id int64
	ctx := context.Background()
	if err := db.NewRaw("INSERT INTO councils (slug, name, caisse_name, is_default) VALUES ('dieulefit', 'Conseil Local de l''Alimentation de Dieulefit', 'Notre caisse alim''', true) RETURNING id").Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadRegister(ctx, db, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newApp serves the register's routes over a fresh database holding the demo.
func newApp(t *testing.T) (*fiber.App, *bun.DB, int64) {
	t.Helper()
	db := testdb.New(t)
	id := demoCouncil(t, db)
	return newAppOver(t, db), db, id
}

// newAppOver is one more app instance over db (the real one, app.New), with
// its own cache.
func newAppOver(t *testing.T, db *bun.DB) *fiber.App {
	t.Helper()
	return apptest.New(t, db, app.Config{})
}

func get(t *testing.T, app *fiber.App, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		}
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

func TestPagesRenderSmoke(t *testing.T) {
	t.Parallel()
	app, _, _ := newApp(t)
	for _, p := range []string{"/", "/registre", "/registre/oeufs", "/registre/versions", "/registre/changements", "/registre/changements?de=0&a=1",
		"/puis-je-acheter?q=oeufs", "/points-de-vente", "/points-de-vente/marche-du-lavoir", "/points-de-vente/marche-du-lavoir/affiche",
		"/api/v1/register", "/api/v1/register/versions", "/api/v1/register/versions/1", "/api/v1/shops", "/register.csv", "/shops.csv"} {
		resp, body := get(t, app, p)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %.300s", p, resp.StatusCode, body)
		}
		if dir := os.Getenv("CLA_DUMP"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, strings.NewReplacer("/", "_", "?", "_", "&", "_").Replace(p)), []byte(body), 0o644)
		}
	}
}
