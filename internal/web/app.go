// Package web holds the HTTP plumbing shared by every domain: the Fiber app with
// its middleware, rendering, the single error handler, static assets, client
// addresses behind proxies, and health checks.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	fiberrecover "github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/uptrace/bun"
	"github.com/valyala/fasthttp"

	"cla/internal/apperr"
	"cla/internal/council"
	"cla/internal/database"
)

// Options configure the shared app.
type Options struct {
	DB             *bun.DB
	Logger         *slog.Logger
	TrustedProxies []string // CIDRs or addresses of reverse proxies whose X-Forwarded-* headers count
	BaseURL        string   // public base URL, e.g. https://cla.example.org; "" for local use
	BodyLimit      int      // bytes; 0 means 1 MiB
	// RequestContext, when set, wraps each request's UserContext before any
	// other middleware. A test hook: the query-budget tests attach a per-request
	// SQL statement counter that a bun.QueryHook finds in the context.
	RequestContext func(context.Context) context.Context
}

// New builds the Fiber app with the middleware every route shares. Domains add
// their routes afterwards.
func New(opts Options) (*fiber.App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.BodyLimit == 0 {
		opts.BodyLimit = 1 << 20
	}
	tls := strings.HasPrefix(opts.BaseURL, "https://")
	proxies, err := ParseTrustedProxies(opts.TrustedProxies)
	if err != nil {
		return nil, err
	}
	engine, err := newEngine()
	if err != nil {
		return nil, err
	}
	cfg := fiber.Config{
		Views:                 engine,
		ErrorHandler:          errorHandler(opts.Logger, tls),
		BodyLimit:             opts.BodyLimit,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		AppName:               "cla",
	}
	// Fiber honours X-Forwarded-Proto/Host only from these peers (none by
	// default); the client address itself is computed by ClientIP.
	cfg.EnableTrustedProxyCheck = true
	cfg.TrustedProxies = opts.TrustedProxies
	app := fiber.New(cfg)
	guardServer(app, opts.Logger, tls)
	// A panic in a handler or middleware becomes the French 500 page (the
	// error handler logs it) and a log line with its stack: it ends the
	// request, never the process.
	app.Use(fiberrecover.New(fiberrecover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		opts.Logger.Error("panic in a request", "method", c.Method(), "path", string([]byte(c.Path())), "panic", fmt.Sprint(e),
			"stack", string(debug.Stack()))
	}}))
	if opts.RequestContext != nil {
		app.Use(func(c *fiber.Ctx) error {
			c.SetUserContext(opts.RequestContext(c.UserContext()))
			return c.Next()
		})
	}
	// Before anything reads the request: handlers, CSRF check and logs see
	// normalised text only.
	app.Use(normalizeInput)
	gate := NewGate(defaultGateSize())
	flash := &flashState{secure: strings.HasPrefix(opts.BaseURL, "https://")}
	if opts.DB != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		flash.key, err = InstanceSecret(ctx, opts.DB, flashSecretName)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("clé des messages de confirmation : %w", err)
		}
	}
	app.Use(func(c *fiber.Ctx) error {
		c.Locals(proxiesKey, proxies)
		c.Locals(gateKey, gate)
		if flash.key != nil {
			c.Locals(flashKey, flash)
		}
		return c.Next()
	})
	app.Use(requestLogger(opts.Logger))
	app.Use(func(c *fiber.Ctx) error {
		setSecurityHeaders(c, tls)
		return c.Next()
	})
	mountStatic(app)
	app.Get("/healthz", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.SendString("ok")
	})
	app.Get("/readyz", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		if err := database.Ready(ctx, opts.DB); err != nil {
			opts.Logger.Warn("readiness check failed", "err", err)
			return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
		}
		return c.SendString("ok")
	})
	resolver := council.NewResolver(opts.DB, 30*time.Second)
	app.Use(func(c *fiber.Ctx) error {
		co, err := resolver.Resolve(c.UserContext(), c.Hostname())
		if err == council.ErrNone {
			// A fresh instance: the operator's pages and links work under a
			// placeholder council (id 0, which no row has); every other page
			// says what to run.
			if !InstancePath(c.Path()) {
				return errNoCouncil
			}
			co, err = &council.Council{Name: "Instance cla", State: council.Active, RegisterPublic: true}, nil
		}
		if err != nil {
			return err
		}
		c.Locals(councilKey, co)
		return c.Next()
	})
	return app, nil
}

// errNoCouncil is the answer of a fresh instance, with what to run.
var errNoCouncil = apperr.New(apperr.Unavailable, "Aucun conseil n'est encore configuré sur cette instance. "+
	"Pour commencer, sur le serveur : « cla operator create --email vous@exemple.fr --name \"Votre nom\" », "+
	"ouvrez le lien affiché pour choisir votre mot de passe, puis la page /instance pour créer un conseil ; "+
	"ou créez-le directement : « cla council create --slug mon-conseil --name \"Conseil Local de l'Alimentation de …\" "+
	"--host cla.exemple.fr --admin-email admin@exemple.fr --start model ».")

// InstancePath reports whether path is one of the instance operator's pages
// (/instance…), a password link or a static asset: served whatever the
// council's state, and on an instance without council.
func InstancePath(path string) bool {
	return path == "/instance" || strings.HasPrefix(path, "/instance/") || strings.HasPrefix(path, "/mot-de-passe/") ||
		strings.HasPrefix(path, "/static/")
}

// NotFound is the last handler: anything no route matched gets the French 404.
func NotFound(c *fiber.Ctx) error {
	return fiber.ErrNotFound
}

type localKey int

const (
	councilKey localKey = iota
	proxiesKey
	viewerKey
	csrfKey
	gateKey
	flashKey
)

// Council returns the council resolved for this request.
func Council(c *fiber.Ctx) *council.Council {
	co, _ := c.Locals(councilKey).(*council.Council)
	return co
}

func requestLogger(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			if fe, ok := err.(*fiber.Error); ok {
				status = fe.Code
			} else {
				status = statusOf(err)
			}
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		// Copy: fasthttp reuses these buffers after the handler returns.
		log.Log(c.UserContext(), level, "request",
			"method", c.Method(), "path", string([]byte(c.Path())), "status", status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "ip", ClientIP(c))
		return err
	}
}

// setSecurityHeaders sets the headers every response carries (DESIGN.md,
// "Web"): set by a middleware for routed requests and again by the error
// handler, which also answers requests that never reach a route (431, 400).
func setSecurityHeaders(c *fiber.Ctx, tls bool) {
	setSecurityHeadersOn(&c.Response().Header, tls || c.Protocol() == "https")
}

func setSecurityHeadersOn(h *fasthttp.ResponseHeader, tls bool) {
	// Keys already in canonical form, as bytes made once: Set would copy and
	// normalize each key and convert each value on every response.
	for _, kv := range securityHeaders {
		h.SetCanonical(kv[0], kv[1])
	}
	if tls {
		h.SetCanonical(hstsHeader[0], hstsHeader[1])
	}
}

// securityHeaders are the headers of every response (setSecurityHeadersOn).
var securityHeaders = [][2][]byte{
	{[]byte("Content-Security-Policy"), []byte("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")},
	{[]byte("X-Content-Type-Options"), []byte("nosniff")},
	{[]byte("X-Frame-Options"), []byte("DENY")},
	{[]byte("Referrer-Policy"), []byte("strict-origin-when-cross-origin")},
	{[]byte("Permissions-Policy"), []byte("camera=(), microphone=(), geolocation=(), interest-cohort=()")},
	{[]byte("Cross-Origin-Opener-Policy"), []byte("same-origin")},
}

// hstsHeader is added to the responses sent over TLS.
var hstsHeader = [2][]byte{[]byte("Strict-Transport-Security"), []byte("max-age=31536000; includeSubDomains")}

// guardServer wraps the fasthttp handler under Fiber's router, for what Fiber
// answers before any middleware runs: a request whose method Fiber does not
// know (a garbage request line) gets the French 400 page through the error
// handler instead of Fiber's English text, and a panic that escapes Fiber
// itself (in the error handler, say) ends with a French 500, never the process.
// Errors fasthttp meets while reading a request (431, 400, 408) already reach
// the error handler through Fiber's Server.ErrorHandler.
func guardServer(app *fiber.App, log *slog.Logger, tls bool) {
	srv := app.Server()
	next := srv.Handler
	known := map[string]bool{}
	for _, m := range app.Config().RequestMethods {
		known[m] = true
	}
	srv.Handler = func(fctx *fasthttp.RequestCtx) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic outside the router", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				fctx.Response.Reset()
				setSecurityHeadersOn(&fctx.Response.Header, tls)
				fctx.SetStatusCode(fiber.StatusInternalServerError)
				fctx.SetContentType(fiber.MIMETextPlainCharsetUTF8)
				fctx.SetBodyString("Erreur interne — " + apperr.MessageOf(nil))
			}
		}()
		if !known[string(fctx.Method())] {
			c := app.AcquireCtx(fctx)
			defer app.ReleaseCtx(c)
			if err := app.ErrorHandler(c, fiber.ErrBadRequest); err != nil {
				log.Error("error handler failed", "err", err)
			}
			return
		}
		next(fctx)
	}
}
