package web

import (
	"bufio"
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// echoApp is a Fiber app with the normalising middleware (or without, for the
// benchmark's baseline) and routes that echo what handlers can read.
func echoApp(normalize bool) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	if normalize {
		app.Use(normalizeInput)
	}
	app.Get("/p/:slug", func(c *fiber.Ctx) error {
		return c.SendString(fmt.Sprintf("slug=%+q path=%+q", c.Params("slug"), c.Path()))
	})
	app.Get("/q", func(c *fiber.Ctx) error {
		var visited []string
		c.Context().QueryArgs().VisitAll(func(k, v []byte) { visited = append(visited, string(k)+"="+string(v)) })
		return c.SendString(fmt.Sprintf("x=%+q all=%+q uri=%+q ua=%+q", c.Query("x"), visited, c.OriginalURL(), c.Get(fiber.HeaderUserAgent)))
	})
	app.Post("/f", func(c *fiber.Ctx) error {
		var multi []string
		for _, v := range c.Request().PostArgs().PeekMulti("name") {
			multi = append(multi, string(v))
		}
		return c.SendString(fmt.Sprintf("name=%+q multi=%+q note=%+q key=%+q body=%+q",
			c.FormValue("name"), multi, c.FormValue("note"), c.FormValue("k"), c.Body()))
	})
	// What the benchmark requests: the CSRF check's read of the form, then
	// a handler's read of one field.
	bench := func(c *fiber.Ctx) error {
		_ = c.FormValue("_csrf")
		_ = c.FormValue("name")
		return c.SendStatus(fiber.StatusNoContent)
	}
	app.Get("/b", bench)
	app.Post("/b", bench)
	return app
}

// raw sends a request written byte for byte, as an attacker's socket would,
// through fasthttp's parser and the app's router.
func raw(t testing.TB, app *fiber.App, request string) string {
	t.Helper()
	var ctx fasthttp.RequestCtx
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(request))); err != nil {
		t.Fatalf("parse %q: %v", request, err)
	}
	app.Handler()(&ctx)
	return string(ctx.Response.Body())
}

func TestNormalizeInputRewritesWhatHandlersRead(t *testing.T) {
	t.Parallel()
	app := echoApp(true)
	post := func(contentType, body string) string {
		return raw(t, app, fmt.Sprintf("POST /f HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", contentType, len(body), body))
	}
	for _, c := range []struct{ name, got, want string }{
		{"route param with raw bytes",
			raw(t, app, "GET /p/epi\xffcerie HTTP/1.1\r\nHost: x\r\n\r\n"), `slug="epi\ufffdcerie" path="/p/epi\ufffdcerie"`},
		// Params are raw (Fiber's UnescapePath is off): an escape stays ASCII.
		{"route param with an escape", raw(t, app, "GET /p/a%00b HTTP/1.1\r\nHost: x\r\n\r\n"), `slug="a%00b" path="/p/a%00b"`},
		{"query string and user agent",
			raw(t, app, "GET /q?x=%00Nul%E9&x=2&e%CC%81=%E2%80%AEa%0D%0Ab HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla\xff\x00\r\n\r\n"),
			`x="Nul\ufffd" all=["x=Nul\ufffd" "x=2" "\u00e9=a\nb"] uri="/q?x=Nul%EF%BF%BD&x=2&%C3%A9=a%0Ab" ua="Mozilla\ufffd"`},
		{"urlencoded form, repeated fields",
			post("application/x-www-form-urlencoded", "name=Epicerie%00Nul&name=e%CC%81t%C3%A9&note=l1%0D%0Al2%0Dl3&k%00=v%FF"),
			`name="EpicerieNul" multi=["EpicerieNul" "\u00e9t\u00e9"] note="l1\nl2\nl3" key="v\ufffd" body="name=EpicerieNul&name=%C3%A9t%C3%A9&note=l1%0Al2%0Al3&k=v%EF%BF%BD"`},
		{"clean form left as sent",
			post("application/x-www-form-urlencoded; charset=utf-8", "name=%C3%89picerie+du+Lavoir&note=a%0Ab"),
			`name="\u00c9picerie du Lavoir" multi=["\u00c9picerie du Lavoir"] note="a\nb" key="" body="name=%C3%89picerie+du+Lavoir&note=a%0Ab"`},
	} {
		if c.got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("name", "Epicerie\x00Nul\u202e")
	_ = w.WriteField("note", "a\r\nb")
	_ = w.WriteField("k\u202e", "e\u0301")
	_ = w.Close()
	got := post(w.FormDataContentType(), body.String())
	if !strings.HasPrefix(got, `name="EpicerieNul" multi=[] note="a\nb" key="\u00e9"`) {
		t.Errorf("multipart form: %s", got)
	}
}

// BenchmarkNormalizeInput measures the middleware on the requests the app
// serves: each case runs through a bare router with and without it, and the
// difference is its cost (docs/perf.md).
func BenchmarkNormalizeInput(b *testing.B) {
	form := func(body string) string {
		return fmt.Sprintf("POST /b HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	ua := "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0\r\n"
	cases := []struct{ name, request string }{
		{"GET-no-query", "GET /b HTTP/1.1\r\nHost: x\r\n" + ua + "\r\n"},
		{"GET-ascii-query", "GET /b?name=pain&page=2 HTTP/1.1\r\nHost: x\r\n" + ua + "\r\n"},
		{"GET-accented-query", "GET /b?name=%C3%A9picerie HTTP/1.1\r\nHost: x\r\n" + ua + "\r\n"},
		{"POST-form-ascii", form("_csrf=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE&name=Epicerie+du+Lavoir&commune=Dieulefit")},
		{"POST-form-accented", form("_csrf=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE&name=%C3%89picerie+du+Lavoir&note=" +
			strings.Repeat("Produits+de+saison%2C+l%C3%A9gumes+d%27%C3%A9t%C3%A9%0D%0A", 20))},
		{"POST-form-hostile", form("_csrf=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE&name=Epicerie%00Nul%FF&note=e%CC%81")},
	}
	for _, c := range cases {
		var tmpl fasthttp.Request
		if err := tmpl.Read(bufio.NewReader(strings.NewReader(c.request))); err != nil {
			b.Fatal(err)
		}
		for _, with := range []bool{false, true} {
			name := c.name + "/without"
			if with {
				name = c.name + "/with"
			}
			h := echoApp(with).Handler()
			b.Run(name, func(b *testing.B) {
				var ctx fasthttp.RequestCtx
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					ctx.Request.Reset()
					tmpl.CopyTo(&ctx.Request)
					ctx.Response.Reset()
					h(&ctx)
				}
			})
		}
	}
}
