package pagecache

import (
	"bytes"
	"net/url"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"cla/internal/web"
)

// Cache-Control of the cached pages: revalidate every time, with the ETag.
const htmlCacheControl = "no-cache"

// replayed are the response headers a cached entry keeps besides its type,
// validator and policy.
var replayed = []string{fiber.HeaderContentDisposition, fiber.HeaderContentLanguage, fiber.HeaderLink, "X-Robots-Tag"}

// maxQuery bounds the query string of a page worth keeping: longer ones are
// rendered every time.
const maxQuery = 256

type localKey struct{}

// Middleware makes cache the one Handler wraps use for this app's requests.
// After a state-changing request that succeeded, it also drops the council's
// pages of this instance at once: the NOTIFY of the change reaches every
// instance a few milliseconds after the commit, and the writer, redirected to
// the page it changed, must see its change. Ballots, signing in and out are
// the exceptions (localWriteKeepsPages): frequent, and shown on no cached page.
func Middleware(cache *Cache) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localKey{}, cache)
		err := c.Next()
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		default:
			if err == nil && c.Response().StatusCode() < 400 && !localWriteKeepsPages(c.Path()) {
				if co := web.Council(c); co != nil {
					cache.InvalidateCouncil(co.ID)
				}
			}
		}
		return err
	}
}

// localWriteKeepsPages reports whether a successful POST to path changes no
// cached page: a ballot (cast by the thousand during a vote; no cached page
// shows a live count), signing in or out (no data of the council). Were one of
// them to change a page, the triggers' NOTIFY would still drop it.
func localWriteKeepsPages(path string) bool {
	return strings.HasSuffix(path, "/bulletin") || path == "/connexion" || path == "/deconnexion"
}

// Of returns the request's cache (Middleware), or nil.
func Of(c *fiber.Ctx) *Cache {
	cache, _ := c.Locals(localKey{}).(*Cache)
	return cache
}

// Shared reports whether the request may be answered from, and its answer
// stored into, the cache shared by every visitor: an anonymous GET without a
// flash to show. A signed-in member's pages differ by session (menus, CSRF
// tokens, flashes) and are never cached.
func Shared(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodGet && web.ViewerOf(c) == nil && !web.HasFlash(c)
}

// Key is the page's key: its path and its query, normalised (parameters in
// order), or "" when the query is too long to be worth keeping.
func Key(c *fiber.Ctx) string {
	args := c.Request().URI().QueryArgs()
	if args.Len() == 0 {
		// A copy: c.Path() shares the request's buffer (Immutable is off),
		// which the next request on the context overwrites, and the key
		// outlives the request in the cache's maps.
		return strings.Clone(c.Path())
	}
	if len(c.Request().URI().QueryString()) > maxQuery {
		return ""
	}
	var pairs [][2]string
	args.VisitAll(func(k, v []byte) {
		pairs = append(pairs, [2]string{string(k), string(v)})
	})
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var b strings.Builder
	b.WriteString(c.Path())
	for i, p := range pairs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[1]))
	}
	return b.String()
}

// Send writes e, or 304 Not Modified when the request's If-None-Match matches.
// A stored entry is sent gzipped to the clients that accept it.
func (e *Entry) Send(c *fiber.Ctx) error {
	body, etag := e.Body, e.ETag
	if e.gzip != nil {
		c.Vary(fiber.HeaderAcceptEncoding)
		if acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
			body, etag = e.gzip, e.gzipETag
			c.Set(fiber.HeaderContentEncoding, "gzip")
		}
	}
	c.Set(fiber.HeaderContentType, e.ContentType)
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, e.CacheControl)
	for _, h := range e.Headers {
		c.Set(h[0], h[1])
	}
	if strings.HasPrefix(e.ContentType, "text/html") {
		c.Vary(fiber.HeaderCookie)
	}
	// Either encoding's validator names the same content: a client holding
	// one is up to date.
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && (ETagMatches(inm, e.ETag) || e.gzip != nil && ETagMatches(inm, e.gzipETag)) {
		c.Response().ResetBody()
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(body)
}

// Handler serves page from the cache for anonymous visitors (Shared), and
// otherwise runs h. On a miss one request per page renders (single flight)
// while the others wait for its answer; the answer is stored when it is a 200
// with no cookie set and no per-visitor token in its body (an anonymous form's
// CSRF token: such a page is rendered for each visitor). Wrap the route's
// handler, gate included (web.Gated): a hit never waits for the gate.
func Handler(page Page, h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cache := Of(c)
		if cache == nil || cache.disabled || !Shared(c) {
			c.Vary(fiber.HeaderCookie)
			return h(c)
		}
		key := Key(c)
		if key == "" {
			return h(c)
		}
		co := web.Council(c)
		if e, _ := cache.Get(co.ID, page, key); e != nil {
			return e.Send(c)
		}
		rendered := false
		v, err := cache.Flight(co.ID, string(page)+" "+key, func() (any, error) {
			_, epoch := cache.Get(co.ID, page, "")
			rendered = true
			if err := h(c); err != nil {
				return nil, err
			}
			e := capture(c)
			if e != nil {
				cache.Put(co.ID, page, key, epoch, e)
			}
			return e, nil
		})
		if rendered {
			// This request rendered the page: its response is in place.
			if e, _ := v.(*Entry); err == nil && e != nil {
				return e.Send(c)
			}
			return err
		}
		if e, _ := v.(*Entry); err == nil && e != nil {
			return e.Send(c)
		}
		// The page the other request rendered could not be shared (an error,
		// a cookie, a form with its own token): render this visitor's own.
		return h(c)
	}
}

// capture makes an entry of the response h wrote, or nil when it must not be
// shared.
func capture(c *fiber.Ctx) *Entry {
	resp := c.Response()
	if resp.StatusCode() != fiber.StatusOK || resp.IsBodyStream() {
		return nil
	}
	cookie := false
	resp.Header.VisitAllCookie(func(_, _ []byte) { cookie = true })
	if cookie {
		return nil
	}
	body := resp.Body()
	// The session middleware gives an anonymous form a token of the visitor's
	// own (double-submit cookie, internal/auth), set after this handler runs:
	// a page carrying it is the visitor's, not everyone's.
	if tok := web.CSRFTokenOf(c); tok != "" && bytes.Contains(body, []byte(tok)) {
		return nil
	}
	cacheControl := string(resp.Header.Peek(fiber.HeaderCacheControl))
	if cacheControl == "" {
		cacheControl = htmlCacheControl
	}
	if strings.Contains(cacheControl, "no-store") || strings.Contains(cacheControl, "private") {
		return nil
	}
	e := NewEntry(bytes.Clone(body), string(resp.Header.ContentType()), cacheControl)
	for _, name := range replayed {
		if v := resp.Header.Peek(name); len(v) > 0 {
			e.Headers = append(e.Headers, [2]string{name, string(v)})
		}
	}
	return e
}
