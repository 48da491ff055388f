package pagecache

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                        false,
		"gzip":                    true,
		"gzip, deflate, br, zstd": true,
		"br;q=1.0, GZIP;q=0.5":    true,
		"deflate, br":             false,
		"gzip;q=0":                false,
		"gzip; q=0.000":           false,
		"gzip;q=0.001":            true,
		"*":                       true,
		"*;q=0":                   false,
		"gzip;q=0, *":             false, // named explicitly: refused
		"*;q=0, gzip":             true,
		"identity":                false,
		"x-gzip":                  true,
		"gzipfoo":                 false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestStoredPagesAreSentGzippedToBrowsers: a stored page's gzip copy is sent
// to clients that accept it, with its own validator and Vary; the others get
// the bytes as rendered; either validator gives a 304; small and binary
// bodies are never compressed.
func TestStoredPagesAreSentGzippedToBrowsers(t *testing.T) {
	c := newTestCache()
	page := []byte("<!doctype html><p>" + strings.Repeat("Des légumes <b>bio</b> et locaux. ", 200) + "</p>")
	put := func(key, contentType string, body []byte) *Entry {
		_, epoch := c.Get(1, PageDebate, "")
		c.Put(1, PageDebate, key, epoch, NewEntry(body, contentType, "no-cache"))
		e, _ := c.Get(1, PageDebate, key)
		return e
	}
	big := put("/debats/a", "text/html; charset=utf-8", page)
	small := put("/debats/b", "text/html; charset=utf-8", []byte("<p>court</p>"))
	png := put("/debats/c", "image/png", bytes.Repeat([]byte{0}, 4096))

	app := fiber.New()
	entries := map[string]*Entry{"/a": big, "/b": small, "/c": png}
	app.Get("/:k", func(ctx *fiber.Ctx) error { return entries["/"+ctx.Params("k")].Send(ctx) })
	get := func(path, acceptEncoding, ifNoneMatch string) (status int, header func(string) string, body []byte) {
		req := httptest.NewRequest("GET", path, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get, b
	}

	status, h, body := get("/a", "gzip, deflate, br", "")
	if status != 200 || h("Content-Encoding") != "gzip" {
		t.Fatalf("a browser got status %d, Content-Encoding %q", status, h("Content-Encoding"))
	}
	if !strings.Contains(h("Vary"), "Accept-Encoding") || !strings.Contains(h("Vary"), "Cookie") {
		t.Errorf("Vary = %q, want Accept-Encoding and Cookie", h("Vary"))
	}
	if len(body)*4 > len(page) {
		t.Errorf("gzipped body is %d bytes for %d", len(body), len(page))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, page) {
		t.Fatalf("the gzip copy does not decompress to the page (err %v)", err)
	}
	gzETag := h("ETag")

	status, h, body = get("/a", "", "")
	if status != 200 || h("Content-Encoding") != "" || !bytes.Equal(body, page) {
		t.Fatalf("a client without gzip got status %d, encoding %q, %d bytes", status, h("Content-Encoding"), len(body))
	}
	plainETag := h("ETag")
	if plainETag == gzETag || !strings.HasPrefix(gzETag, `"`) || !strings.HasSuffix(gzETag, `"`) {
		t.Errorf("validators: identity %s, gzip %s; want two distinct strong ETags", plainETag, gzETag)
	}
	if _, h, body := get("/a", "gzip;q=0", ""); h("Content-Encoding") != "" || !bytes.Equal(body, page) {
		t.Errorf("gzip;q=0 got Content-Encoding %q", h("Content-Encoding"))
	}
	for _, inm := range []string{gzETag, plainETag, `"autre", ` + gzETag} {
		for _, ae := range []string{"gzip", ""} {
			if status, _, body := get("/a", ae, inm); status != 304 || len(body) != 0 {
				t.Errorf("If-None-Match %s with Accept-Encoding %q: status %d, %d bytes", inm, ae, status, len(body))
			}
		}
	}
	if status, _, _ := get("/a", "gzip", `"autre"`); status != 200 {
		t.Errorf("a stale validator got %d", status)
	}

	for _, path := range []string{"/b", "/c"} {
		if _, h, _ := get(path, "gzip", ""); h("Content-Encoding") != "" || strings.Contains(h("Vary"), "Accept-Encoding") {
			t.Errorf("%s: Content-Encoding %q, Vary %q; small and binary bodies are sent as they are", path, h("Content-Encoding"), h("Vary"))
		}
	}
}

// TestKeyOutlivesItsRequest: a page's key is kept in the cache's maps after
// its request; it must not share the request's buffer, which fasthttp reuses
// for the next request (a key turned into another page's path served one
// meeting's minutes under another's URL).
func TestKeyOutlivesItsRequest(t *testing.T) {
	app := fiber.New()
	var keys []string
	app.Get("/*", func(c *fiber.Ctx) error {
		keys = append(keys, Key(c))
		return nil
	})
	var paths []string
	for i := 0; i < 20; i++ {
		path := "/seances/" + string(rune('a'+i)) + "/compte-rendu"
		paths = append(paths, path)
		if _, err := app.Test(httptest.NewRequest("GET", path, nil)); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		if k != paths[i] {
			t.Fatalf("key of request %d is now %q, was %q", i, k, paths[i])
		}
	}
}
