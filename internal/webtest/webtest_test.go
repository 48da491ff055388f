package webtest_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/testdb"
	"cla/internal/web"
	"cla/internal/webtest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// newApp is a minimal app with the session middleware and two routes that echo
// who is asking; the full app is tested in cmd/cla.
func newApp(t *testing.T) (*fiber.App, *bun.DB, int64) {
	t.Helper()
	db := testdb.New(t)
	co := &council.Council{Slug: "essai", Name: "Conseil d'essai", IsDefault: true}
	if _, err := db.NewInsert().Model(co).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	app, err := web.New(web.Options{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	app.Use(auth.New(auth.Options{DB: db}).Middleware())
	app.Get("/connexion", func(c *fiber.Ctx) error {
		return c.Type("html").SendString(`<form><input type="hidden" name="_csrf" value="` + web.NewPage(c, "").CSRFToken + `"></form>`)
	})
	app.Post("/connexion", func(c *fiber.Ctx) error {
		acct, err := auth.Authenticate(c.UserContext(), db, web.Council(c).ID, web.ClientIP(c), c.FormValue("email"), c.FormValue("password"))
		if err != nil {
			return err
		}
		if err := auth.SignIn(c, acct.ID); err != nil {
			return err
		}
		return c.Redirect("/", fiber.StatusSeeOther)
	})
	app.Get("/moi", func(c *fiber.Ctx) error {
		if v := web.ViewerOf(c); v != nil {
			return c.SendString(v.Name + "|" + v.Role)
		}
		return c.SendString("anonyme")
	})
	app.Post("/moi", func(c *fiber.Ctx) error { return c.SendString("ok " + c.FormValue("x")) })
	return app, db, co.ID
}

func TestAnonymousPostsNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	app, _, _ := newApp(t)
	anon := webtest.New(t, app)
	if _, body := anon.Get("/moi"); body != "anonyme" {
		t.Fatalf("anonymous: %q", body)
	}
	if resp, _ := anon.PostFormRaw("/moi", url.Values{"x": {"1"}}); resp.StatusCode != 403 {
		t.Errorf("POST without token: %d, want 403", resp.StatusCode)
	}
	if resp, body := anon.PostForm("/moi", url.Values{"x": {"1"}}); resp.StatusCode != 200 || body != "ok 1" {
		t.Errorf("anonymous POST with token: %d %q", resp.StatusCode, body)
	}
}

func TestSignInThroughTheForm(t *testing.T) {
	t.Parallel()
	app, db, coID := newApp(t)
	c, id := webtest.SignIn(t, app, db, coID, authz.Facilitator)
	if id == 0 {
		t.Fatal("no account id")
	}
	if _, body := c.Get("/moi"); !strings.HasSuffix(body, "|facilitator") {
		t.Errorf("signed in: %q", body)
	}
	if resp, body := c.PostForm("/moi", url.Values{"x": {"2"}}); resp.StatusCode != 200 || body != "ok 2" {
		t.Errorf("signed-in POST with the session's token: %d %q", resp.StatusCode, body)
	}
	// Another browser's token is refused.
	other := webtest.New(t, app)
	if resp, _ := c.PostForm("/moi", url.Values{"_csrf": {other.CSRFToken()}}); resp.StatusCode != 403 {
		t.Errorf("signed-in POST with another browser's token: %d, want 403", resp.StatusCode)
	}
}
