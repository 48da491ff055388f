package web

import (
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gofiber/fiber/v2"
)

// The form helpers read what was sent, copied out of the request's memory,
// and parse numbers and datetime-local values, refusing what is not one.
func TestFormHelpers(t *testing.T) {
	app := fiber.New()
	var kept string
	app.Post("/", func(c *fiber.Ctx) error {
		s := Form(c, "s")
		// A copy: not the bytes Fiber reuses for the next request.
		if raw := c.FormValue("s"); raw != "" && unsafe.StringData(raw) == unsafe.StringData(s) {
			return c.SendString("not copied")
		}
		kept = s
		n, nok := FormInt(c, "n")
		id, idok := FormInt64(c, "id")
		at, tok := ParseLocalTime(Form(c, "at"), Paris())
		return c.SendString(fmt.Sprintf("%q %v %d %v %d %v %s %v %v", s, FormIs(c, "box", "1"), n, nok, id, idok,
			at.UTC().Format(time.RFC3339), tok, FormIs(c, "missing", "")))
	})
	post := func(form url.Values) string {
		req := httptest.NewRequest("POST", "/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	cases := []struct {
		form url.Values
		want string
	}{
		{url.Values{"s": {"  mot de passe  "}, "box": {"1"}, "n": {" 42 "}, "id": {"9000000000"}, "at": {"2025-03-05T18:30"}},
			`"  mot de passe  " true 42 true 9000000000 true 2025-03-05T17:30:00Z true true`},
		{url.Values{"n": {""}, "id": {"abc"}, "at": {"5 mars"}},
			`"" false 0 false 0 false 0001-01-01T00:00:00Z false true`},
		{url.Values{"n": {"99999999999999999999"}, "id": {"-3"}, "box": {"oui"}},
			`"" false 0 false -3 true 0001-01-01T00:00:00Z false true`},
	}
	for _, c := range cases {
		if got := post(c.form); got != c.want {
			t.Errorf("%v: %s, want %s", c.form, got, c.want)
		}
	}
	post(url.Values{"s": {"premier"}})
	first := kept
	post(url.Values{"s": {"second!"}})
	if first != "premier" {
		t.Errorf("a value kept from the first request became %q", first)
	}
}
