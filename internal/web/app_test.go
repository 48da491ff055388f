package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"cla/internal/testdb"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveShared starts the shared app (New) with a default council and the
// given routes on a loopback port, and returns its address and log.
func serveShared(t *testing.T, routes func(*fiber.App)) (string, *syncBuffer) {
	t.Helper()
	db := testdb.New(t)
	if _, err := db.ExecContext(context.Background(), "INSERT INTO councils (slug, name, is_default) VALUES ('test', 'Conseil de test', true)"); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	app, err := New(Options{DB: db, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	routes(app)
	app.Use(NotFound)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	t.Cleanup(func() {
		_ = app.ShutdownWithTimeout(5 * time.Second)
		<-served
	})
	return ln.Addr().String(), logs
}

// requiredSecurityHeaders are the headers DESIGN.md asks of every response.
var requiredSecurityHeaders = []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for _, name := range requiredSecurityHeaders {
		if h.Get(name) == "" {
			t.Errorf("%s: no %s header", what, name)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("%s: CSP %q", what, h.Get("Content-Security-Policy"))
	}
}

// A handler that panics answers the French 500 page with the security
// headers and leaves a log line with the panic and its stack; the process
// keeps serving, that route included.
func TestPanicInARequestIsA500AndTheAppKeepsServing(t *testing.T) {
	t.Parallel()
	addr, logs := serveShared(t, func(app *fiber.App) {
		app.Get("/panique", func(c *fiber.Ctx) error {
			var items []string
			return c.SendString(items[len(c.Query("n"))]) // index out of range, as a bug would raise
		})
		app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("toujours là") })
	})
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 3; i++ {
		res, err := client.Get("http://" + addr + "/panique")
		if err != nil {
			t.Fatalf("request %d after a panic: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "Erreur interne") || strings.Contains(string(body), "out of range") {
			t.Fatalf("panicking route: %d %.500s", res.StatusCode, body)
		}
		checkSecurityHeaders(t, "500 after a panic", res.Header)
		res, err = client.Get("http://" + addr + "/ok")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(body) != "toujours là" {
			t.Fatalf("after a panic: %d %q", res.StatusCode, body)
		}
	}
	if log := logs.String(); !strings.Contains(log, "panic in a request") || !strings.Contains(log, "index out of range") ||
		!strings.Contains(log, "app_test.go") || !strings.Contains(log, "path=/panique") {
		t.Fatalf("log after a panic:\n%s", log)
	}
}

// rawRequest sends bytes as they are on a new connection and returns the
// response fasthttp writes.
func rawRequest(t *testing.T, addr, raw string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%.40q: %v", raw, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res
}

// What Fiber and fasthttp answer before any route runs — header fields too
// large (431), an unparsable or unknown request line (400) — is a French page
// with the security headers, as every other response.
func TestEarlyErrorsAreFrenchWithSecurityHeaders(t *testing.T) {
	t.Parallel()
	addr, _ := serveShared(t, func(app *fiber.App) {
		app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	})
	for _, tc := range []struct {
		raw    string
		status int
		french string
	}{
		{"GET /ok HTTP/1.1\r\nHost: a\r\nX-Grand: " + strings.Repeat("a", 9000) + "\r\n\r\n", 431, "En-têtes trop volumineux"},
		{"GARBAGE\r\n\r\n", 400, "Requête invalide"},
		{"\x00\x01\x02 / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "Requête invalide"},
		{"BREW /ok HTTP/1.1\r\nHost: a\r\n\r\n", 400, "Requête invalide"},
		{"GET /ok HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\n", 400, "Requête invalide"},
	} {
		res := rawRequest(t, addr, tc.raw)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != tc.status || !strings.Contains(string(body), tc.french) || !strings.Contains(res.Header.Get("Content-Type"), "charset=utf-8") {
			t.Errorf("%.40q: %d %s %.300s, want %d with %q", tc.raw, res.StatusCode, res.Header.Get("Content-Type"), body, tc.status, tc.french)
		}
		if strings.Contains(string(body), "Invalid") || strings.Contains(string(body), "Bad Request") {
			t.Errorf("%.40q: English in %.300s", tc.raw, body)
		}
		checkSecurityHeaders(t, fmt.Sprintf("%.40q", tc.raw), res.Header)
	}
}

// setSecurityHeadersOn writes each header once, with its value, replacing
// one already set (a handler's, or its own on a second call).
func TestSecurityHeadersValues(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "strict-origin-when-cross-origin",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=(), interest-cohort=()",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for _, tls := range []bool{false, true} {
		var h fasthttp.ResponseHeader
		h.Set("X-Frame-Options", "SAMEORIGIN")
		setSecurityHeadersOn(&h, tls)
		setSecurityHeadersOn(&h, tls)
		got := map[string][]string{}
		h.VisitAll(func(k, v []byte) { got[string(k)] = append(got[string(k)], string(v)) })
		w := maps.Clone(want)
		if tls {
			w["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
		}
		for k, v := range w {
			if len(got[k]) != 1 || got[k][0] != v {
				t.Errorf("tls %v: %s = %q, want once %q", tls, k, got[k], v)
			}
		}
		if !tls && got["Strict-Transport-Security"] != nil {
			t.Errorf("HSTS without TLS: %q", got["Strict-Transport-Security"])
		}
	}
}
