package web

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
)

func TestFrenchDate(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC):    "1er mars 2025",
		time.Date(2025, 8, 15, 12, 0, 0, 0, time.UTC):   "15 août 2025",
		time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC): "1er janvier 2026", // already the next day in Paris
		{}: "",
	}
	for in, want := range cases {
		if got := FrenchDate(in); got != want {
			t.Errorf("FrenchDate(%v) = %q, want %q", in, got, want)
		}
	}
}

// stubViews renders a template as its name and the view, so a test sees what
// Render sent without the embedded templates.
type stubViews struct{}

func (stubViews) Load() error { return nil }
func (stubViews) Render(w io.Writer, name string, view any, _ ...string) error {
	_, err := fmt.Fprintf(w, "%s:%v", name, view)
	return err
}

// Render keeps the status already set (200 by default, 429 after TooMany),
// RenderStatus sets its own; both answer HTML.
func TestRenderStatus(t *testing.T) {
	app := fiber.New(fiber.Config{Views: stubViews{}})
	app.Get("/ok", func(c *fiber.Ctx) error { return Render(c, "page", 1) })
	app.Get("/invalid", func(c *fiber.Ctx) error { return RenderStatus(c, fiber.StatusUnprocessableEntity, "form", 2) })
	app.Get("/limited", func(c *fiber.Ctx) error {
		TooMany(c, apperr.TooManyFor(30*time.Second, "Trop d'essais."))
		return Render(c, "form", 3)
	})
	for path, want := range map[string]struct {
		status int
		body   string
	}{
		"/ok":      {200, "page:1"},
		"/invalid": {422, "form:2"},
		"/limited": {429, "form:3"},
	} {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want.status || string(body) != want.body || resp.Header.Get("Content-Type") != fiber.MIMETextHTMLCharsetUTF8 {
			t.Errorf("GET %s: %d %q %s, want %d %q", path, resp.StatusCode, body, resp.Header.Get("Content-Type"), want.status, want.body)
		}
	}
}

// The header's navigation marks the current section and escapes the account's
// name; its markup reads as the Go writer it replaced (NavItems) wrote it.
func TestHeaderNavigation(t *testing.T) {
	render := func(p Page) string {
		var b strings.Builder
		if err := ExecuteTemplate(&b, "partials/header", p); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		start, end := strings.Index(out, "<ul>"), strings.Index(out, "</ul>")
		if start < 0 || end < start {
			t.Fatalf("no navigation list in %s", out)
		}
		return out[start : end+len("</ul>")]
	}
	got := render(Page{Path: "/debats/riz", Viewer: &Viewer{Name: `Jo <b>"&'`}})
	want := `<ul>
        <li><a href="/registre">Registre</a></li>
        <li><a href="/debats" aria-current="page">Débats</a></li>
        <li><a href="/propositions">Propositions</a></li>
        <li><a href="/seances">Séances</a></li>
        <li><a href="/points-de-vente">Points de vente</a></li>
        <li><a href="/conseil">Le conseil</a></li>
        <li><a href="/compte">Jo &lt;b&gt;&#34;&amp;&#39;</a></li>
      </ul>`
	if got != want {
		t.Errorf("signed in:\ngot  %s\nwant %s", got, want)
	}
	got = render(Page{Path: "/debatsx"})
	if strings.Contains(got, "aria-current") || !strings.Contains(got, `<li><a href="/connexion">Connexion</a></li>`) {
		t.Errorf("anonymous on /debatsx: %s", got)
	}
	if got := render(Page{Path: "/connexion"}); !strings.Contains(got, `<a href="/connexion" aria-current="page">Connexion</a>`) {
		t.Errorf("sign-in page: %s", got)
	}
}
