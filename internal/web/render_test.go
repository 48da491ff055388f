package web

import (
	"fmt"
	"io"
	"net/http/httptest"
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
