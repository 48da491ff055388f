package web

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// The test client of fiber connects from 0.0.0.0.
func clientIPApp(t *testing.T, trusted ...string) *fiber.App {
	t.Helper()
	proxies, err := ParseTrustedProxies(trusted)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		c.Locals(proxiesKey, proxies)
		return c.SendString(ClientIP(c))
	})
	return app
}

func clientIP(t *testing.T, app *fiber.App, xff string) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestClientIPIgnoresForwardedForFromUntrustedPeers(t *testing.T) {
	app := clientIPApp(t)
	if got := clientIP(t, app, "203.0.113.9"); got != "0.0.0.0" {
		t.Errorf("untrusted peer chose its address with X-Forwarded-For: %s", got)
	}
}

func TestClientIPBehindTrustedProxies(t *testing.T) {
	app := clientIPApp(t, "0.0.0.0", "10.0.0.0/8")
	cases := map[string]string{
		"":                                    "0.0.0.0",
		"203.0.113.9":                         "203.0.113.9",
		"203.0.113.9, 10.1.2.3":               "203.0.113.9", // through a second trusted proxy
		"1.1.1.1, 203.0.113.9":                "203.0.113.9", // a client-written hop on the left never wins
		"garbage, 203.0.113.9":                "203.0.113.9",
		"2001:db8::1":                         "2001:db8::1",
		"203.0.113.9, not-an-ip":              "0.0.0.0",
		"198.51.100.1, 203.0.113.9, 10.9.9.9": "203.0.113.9",
	}
	for xff, want := range cases {
		if got := clientIP(t, app, xff); got != want {
			t.Errorf("X-Forwarded-For %q: got %s, want %s", xff, got, want)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/8", "::1", " 192.168.0.1 "}); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/99"}); err == nil {
		t.Error("bad prefix accepted")
	}
}
