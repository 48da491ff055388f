package web

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"cla/internal/text"
)

var (
	formURLEncoded = []byte(fiber.MIMEApplicationForm)
	multipartForm  = []byte(fiber.MIMEMultipartForm)
)

// normalizeInput is the edge of DESIGN.md's rule "text is normalised once,
// before validation, storage and hashing": it runs before every route and
// rewrites the request in place, so that whatever a handler reads — c.Params
// (slices of the path), c.Query, c.FormValue, QueryArgs, PostArgs, the
// multipart form and the User-Agent that sessions store — is already
// text.Normalize'd and no handler can forget it.
//
// No route takes a JSON body today; one that does must run text.Normalize on
// the strings it decodes, where it decodes them.
//
// The cost is a scan of bytes that are already in memory: a GET without a
// query string checks its path and User-Agent and allocates nothing; clean
// input is parsed no more than handlers would parse it anyway (docs/perf.md).
func normalizeInput(c *fiber.Ctx) error {
	req := c.Request()
	// Fiber matches routes on the raw path (UnescapePath is off), so params
	// are slices of it: percent-escapes stay ASCII, raw bytes are fixed here.
	if p := c.Path(); !text.IsNormal(p) {
		c.Path(text.Normalize(p))
	}
	if ua := req.Header.UserAgent(); !text.IsNormalBytes(ua) {
		req.Header.SetUserAgent(text.Normalize(string(ua)))
	}
	uri := req.URI()
	if qs := uri.QueryString(); len(qs) > 0 && !plainArgs(qs) {
		if q := normalizedArgs(uri.QueryArgs()); q != nil {
			uri.SetQueryStringBytes(q.QueryString()) // QueryArgs are parsed again from it
			req.Header.SetRequestURIBytes(uri.RequestURI())
			fasthttp.ReleaseArgs(q)
		}
	}
	ct := req.Header.ContentType()
	switch {
	case bytes.HasPrefix(ct, formURLEncoded):
		if body := req.Body(); len(body) > 0 && !plainArgs(body) {
			args := req.PostArgs()
			if f := normalizedArgs(args); f != nil {
				req.SetBody(f.QueryString())
				f.CopyTo(args) // PostArgs are parsed once: replace them too
				fasthttp.ReleaseArgs(f)
			}
		}
	case bytes.HasPrefix(ct, multipartForm):
		// Parsed here once and cached by fasthttp: FormValue and
		// MultipartForm in handlers read these normalised values. A
		// malformed form is left for the handler to refuse.
		if form, err := req.MultipartForm(); err == nil {
			form.Value = normalizedValues(form.Value)
			for _, files := range form.File {
				for _, fh := range files {
					fh.Filename = text.Normalize(fh.Filename)
				}
			}
		}
	}
	return c.Next()
}

// plainArgs reports whether an urlencoded string can only decode to
// printable ASCII: no escape and no byte outside printable ASCII ('+' is a
// space). Most query strings and forms without accents pass this byte scan.
func plainArgs(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '%' {
			return false
		}
	}
	return true
}

// normalizedArgs returns a copy of args with every key and value normalised,
// in the same order, or nil when they all are already (nothing to rewrite).
func normalizedArgs(args *fasthttp.Args) *fasthttp.Args {
	clean := true
	args.VisitAll(func(k, v []byte) {
		clean = clean && text.IsNormalBytes(k) && text.IsNormalBytes(v)
	})
	if clean {
		return nil
	}
	out := fasthttp.AcquireArgs()
	args.VisitAll(func(k, v []byte) {
		if !text.IsNormalBytes(k) {
			k = []byte(text.Normalize(string(k)))
		}
		if !text.IsNormalBytes(v) {
			v = []byte(text.Normalize(string(v)))
		}
		out.AddBytesKV(k, v)
	})
	return out
}

// normalizedValues normalises a multipart form's text fields, keys included.
func normalizedValues(values map[string][]string) map[string][]string {
	out := make(map[string][]string, len(values))
	for k, vs := range values {
		k = text.Normalize(k)
		for i := range vs {
			vs[i] = text.Normalize(vs[i])
		}
		out[k] = append(out[k], vs...)
	}
	return out
}
