// Package app builds the whole platform's HTTP app: the web defaults, the
// open data, the session and CSRF middleware, then every domain's routes in
// one list. cmd/cla serves it; every test that needs the real router builds it
// too (app/apptest), so there is one wiring.
package app

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/application"
	"cla/governance/assembly"
	"cla/governance/boussole"
	"cla/governance/debate"
	"cla/governance/exchange"
	"cla/governance/instance"
	"cla/governance/integration"
	"cla/governance/lokavaluto"
	"cla/governance/member"
	"cla/governance/notify"
	"cla/governance/proposal"
	"cla/governance/sortition"
	"cla/internal/auth"
	"cla/internal/pagecache"
	"cla/internal/web"
)

// Config is what the app needs from the command's configuration.
type Config struct {
	// BaseURL is the public base URL ("" uses the request's); https turns on
	// Secure cookies and HSTS.
	BaseURL string
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []string
	// Mailer sends invitations, password links and shops' follow-up links;
	// nil when mail is off (the links are then only shown on screen).
	Mailer auth.Mailer
	// RequestContext, when set (by tests only), wraps every request's context;
	// see web.Options.RequestContext.
	RequestContext func(context.Context) context.Context
	// WebhooksAllowPrivate accepts webhook endpoints on private networks and
	// plain http to this machine (the operator's --webhooks-allow-private).
	WebhooksAllowPrivate bool
	// Odoo is the payment tool's connector (nil or without client: off).
	Odoo *lokavaluto.Connector
	// PageCacheOff renders every public page on every request (tests and
	// benchmarks that measure what a render costs).
	PageCacheOff bool
}

// New wires every domain's routes onto the shared app, in the order they are
// matched.
func New(db *bun.DB, cfg Config, logger *slog.Logger) (*fiber.App, error) {
	app, err := web.New(web.Options{DB: db, Logger: logger, TrustedProxies: cfg.TrustedProxies, BaseURL: cfg.BaseURL, RequestContext: cfg.RequestContext})
	if err != nil {
		return nil, err
	}
	// The one cache of the public pages (internal/pagecache), shared by the
	// register's handlers and every domain's pages, stopped at shutdown.
	pages := pagecache.Disabled()
	if !cfg.PageCacheOff {
		pages = pagecache.New(db, logger)
	}
	app.Hooks().OnShutdown(func() error { pages.Close(); return nil })
	app.Use(pagecache.Middleware(pages))
	register := &catalog.Handlers{DB: db, Logger: logger, ItemDebates: debate.DebatesOfItem, Cache: pages}
	// A suspended or archived council, a private register (governance/instance).
	app.Use(instance.StateGuard, instance.PrivateOpenData)
	// Open data uses no session: served before the session middleware.
	register.OpenDataRoutes(app)
	notices := &notify.Handlers{DB: db, BaseURL: cfg.BaseURL}
	// The one-click unsubscribe (RFC 8058) is posted by mail clients with
	// no session and no CSRF token: served before that middleware.
	notices.UnsubscribeRoutes(app)
	// Sessions and CSRF protection (internal/auth) are installed here, before
	// any domain route.
	app.Use(auth.New(auth.Options{DB: db, Logger: logger, BaseURL: cfg.BaseURL, Mailer: cfg.Mailer}).Middleware())
	app.Use(instance.PrivatePages)
	register.Routes(app)
	// Every domain's routes, in the order they are matched.
	(&boussole.Handlers{DB: db}).Routes(app)
	(&member.Handlers{DB: db, DrawnSeats: drawnSeats(db)}).Routes(app)
	(&proposal.Handlers{DB: db, Debates: debate.DebatesOfProposal}).Routes(app)
	(&debate.Handlers{DB: db}).Routes(app)
	(&application.Handlers{DB: db, Mailer: cfg.Mailer, BaseURL: cfg.BaseURL}).Routes(app)
	(&assembly.Handlers{DB: db}).Routes(app)
	sortitions := &sortition.Handlers{DB: db, Mailer: cfg.Mailer, BaseURL: cfg.BaseURL}
	sortitions.Routes(app)
	sortitions.ManageRoutes(app)
	operator := &instance.Handlers{DB: db, MailOn: cfg.Mailer != nil}
	operator.Routes(app)
	(&exchange.Handlers{DB: db}).Routes(app)
	notices.Routes(app)
	notices.SubscribeRoutes(app)
	notices.InstanceRoutes(app, operator.RequireOperator)
	(&integration.Handlers{DB: db, AllowPrivate: cfg.WebhooksAllowPrivate}).Routes(app)
	(&lokavaluto.Handlers{DB: db, Connector: cfg.Odoo}).Routes(app)
	app.Use(web.NotFound)
	return app, nil
}

// drawnSeats gives the council page (governance/member) the seats drawn by
// lot (governance/sortition): a hook wired here, so that neither domain
// imports the other.
func drawnSeats(db *bun.DB) func(ctx context.Context, councilID int64, now time.Time) ([]member.DrawnSeat, error) {
	return func(ctx context.Context, councilID int64, now time.Time) ([]member.DrawnSeat, error) {
		seats, err := sortition.CouncilSeats(ctx, db, councilID, now)
		if err != nil {
			return nil, err
		}
		out := make([]member.DrawnSeat, len(seats))
		for i, s := range seats {
			out[i] = member.DrawnSeat{DrawURL: "/tirages/" + s.DrawSlug, DrawTitle: s.DrawTitle, Holder: s.Holder,
				Pseudonym: s.Pseudonym, Strata: strings.Join(s.Strata, " ; "), Held: s.Held,
				Invited: s.State == sortition.SeatInvited, TermStart: s.TermStart, TermEnd: s.TermEnd, Label: s.Label}
		}
		return out, nil
	}
}
