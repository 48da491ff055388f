package boussole

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/pagecache"
	"cla/internal/web"
)

// Handlers serves the boussole's pages.
type Handlers struct {
	DB *bun.DB
}

// Routes lists the boussole's routes.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/boussole", pagecache.Handler(pagecache.PageBoussole, web.Gated(h.boussole)))
	app.Get("/boussole/versions", pagecache.Handler(pagecache.PageBoussole, web.Gated(h.versions)))
	app.Get("/boussole/premiere", auth.Require(authz.PublishFirstBoussole), web.Gated(h.firstForm))
	app.Post("/boussole/premiere", h.publishFirst)
}

// boussoleView shows the boussole in force (nil when the council has not
// written one yet).
type boussoleView struct {
	web.Page
	Boussole      *Boussole
	CanWriteFirst bool // an admin of a council without boussole may write version 1
}

func (h *Handlers) boussole(c *fiber.Ctx) error {
	b, err := CurrentBoussole(c.UserContext(), h.DB, web.Council(c).ID)
	if errors.Is(err, ErrNoBoussole) {
		b = nil // the page says it is not written yet
	} else if err != nil {
		return err
	}
	return web.Render(c, "governance/boussole", boussoleView{Page: web.NewPage(c, "La boussole du conventionnement"), Boussole: b,
		CanWriteFirst: b == nil && auth.Can(c, authz.PublishFirstBoussole)})
}

// versionsView is the history of the boussole and the diff of two versions.
type versionsView struct {
	web.Page
	Versions []BoussoleVersion
	From, To int // the versions compared (0 when fewer than two exist)
	Diff     []CriterionDiff
}

func (h *Handlers) versions(c *fiber.Ctx) error {
	ctx, co := c.UserContext(), web.Council(c)
	view := versionsView{Page: web.NewPage(c, "Les versions de la boussole")}
	var err error
	if view.Versions, err = Versions(ctx, h.DB, co.ID); err != nil {
		return err
	}
	if len(view.Versions) < 2 {
		return web.Render(c, "governance/boussole_versions", view)
	}
	// By default, the version in force against the one before it.
	view.To, view.From = view.Versions[0].Number, view.Versions[1].Number
	if n, err := strconv.Atoi(c.Query("a")); err == nil {
		view.To = n
	}
	if n, err := strconv.Atoi(c.Query("de")); err == nil {
		view.From = n
	}
	bs, err := VersionsByNumber(ctx, h.DB, co.ID, view.From, view.To)
	if err != nil {
		return err
	}
	view.Diff = Diff(bs[0], bs[1])
	return web.Render(c, "governance/boussole_versions", view)
}

// firstFormView is the form of a council's first boussole.
type firstFormView struct {
	web.Page
	Form CriteriaForm
}

// errBoussoleWritten refuses the direct path once a version exists: the
// boussole then changes only by a council decision.
var errBoussoleWritten = apperr.New(apperr.Conflict, "La boussole de ce conseil est déjà écrite : elle ne change plus que par une proposition « Modification de la boussole » adoptée en séance.")

func (h *Handlers) firstForm(c *fiber.Ctx) error {
	ok, err := BoussoleExists(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	if ok {
		return errBoussoleWritten
	}
	return web.Render(c, "governance/boussole_first", firstFormView{Page: web.NewPage(c, "Écrire la première boussole"),
		Form: NewCriteriaForm(nil)})
}

func (h *Handlers) publishFirst(c *fiber.Ctx) error {
	if err := auth.Authorize(c, authz.PublishFirstBoussole); err != nil {
		return err
	}
	co := web.Council(c)
	if ok, err := BoussoleExists(c.UserContext(), h.DB, co.ID); err != nil {
		return err
	} else if ok {
		return errBoussoleWritten
	}
	get := func(k string) string { return web.Form(c, k) }
	spec, form, err := ParseCriteriaForm(get)
	if err != nil {
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "governance/boussole_first", firstFormView{Page: web.NewPage(c, "Écrire la première boussole"), Form: form})
	}
	actor := auth.ActorOf(web.ViewerOf(c))
	err = h.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := BoussoleExists(ctx, tx, co.ID)
		if err != nil {
			return err
		}
		if ok {
			return errBoussoleWritten
		}
		_, err = Publish(ctx, tx, co.ID, spec, Publication{AdoptedOn: time.Now().In(web.Location(c)),
			Note: "Première boussole, écrite par l'administration du conseil.", ActorID: actor.NullableID(), ActorName: actor.Name})
		return err
	})
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/boussole", "La boussole (version 1) est publiée. Elle ne changera plus que par une proposition adoptée en séance.")
}
