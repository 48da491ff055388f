package lokavaluto

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/odoo"
	"cla/internal/siret"
	"cla/internal/text"
	"cla/internal/web"
)

// Handlers serve the facilitators' pages of the connector.
type Handlers struct {
	DB        *bun.DB
	Connector *Connector
}

// Routes lists the connector's pages, all for facilitators.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/gestion/odoo", auth.Require(authz.ManageOdoo), web.Gated(h.overview))
	app.Get("/gestion/odoo/essai", auth.Require(authz.ManageOdoo), h.dryRun)
	app.Post("/gestion/odoo/envoi", auth.Require(authz.ManageOdoo), h.pushNow)
	app.Get("/gestion/odoo/points-de-vente/:slug", auth.Require(authz.ManageOdoo), h.linkPage)
	app.Post("/gestion/odoo/points-de-vente/:slug", auth.Require(authz.ManageOdoo), h.link)
	app.Post("/gestion/odoo/points-de-vente/:slug/suppression", auth.Require(authz.ManageOdoo), h.unlink)
}

// ShopLine is a point de vente on the overview, with its link if any.
type ShopLine struct {
	Shop catalog.PartnerShop
	Link *odoo.Link
}

// OverviewView is /gestion/odoo.
type OverviewView struct {
	web.Page
	Configured bool
	Shops      []ShopLine
	Linked     int
	Failed     int
}

func (h *Handlers) overview(c *fiber.Ctx) error {
	ctx, co := c.UserContext(), web.Council(c)
	shops, err := catalog.PartnerShops(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	links, err := odoo.Links(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	v := OverviewView{Page: web.NewPage(c, "Outil de paiement (Lokavaluto / Odoo)"), Configured: h.Connector.Configured()}
	for _, s := range shops {
		line := ShopLine{Shop: s}
		if l, ok := links[s.ID]; ok {
			line.Link = &l
			v.Linked++
			if l.Error != "" {
				v.Failed++
			}
		}
		v.Shops = append(v.Shops, line)
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return web.Render(c, "governance/odoo", v)
}

// DryRunView is /gestion/odoo/essai: what a push would change, per shop.
type DryRunView struct {
	web.Page
	Configured bool
	Lines      []PlanLine
	Changing   int
	Error      string
}

func (h *Handlers) dryRun(c *fiber.Ctx) error {
	v := DryRunView{Page: web.NewPage(c, "Essai à blanc : ce que l'envoi vers Odoo changerait"), Configured: h.Connector.Configured()}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	if !v.Configured {
		return web.Render(c, "governance/odoo_dryrun", v)
	}
	// Not behind the gate: this page waits on Odoo.
	lines, err := h.Connector.Plan(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		v.Error = odoo.Describe(err)
		return web.RenderStatus(c, fiber.StatusBadGateway, "governance/odoo_dryrun", v)
	}
	v.Lines = lines
	for _, l := range lines {
		if len(l.Changes) > 0 || l.Missing {
			v.Changing++
		}
	}
	return web.Render(c, "governance/odoo_dryrun", v)
}

func (h *Handlers) pushNow(c *fiber.Ctx) error {
	if !h.Connector.Configured() {
		return apperr.New(apperr.Conflict, "Le connecteur Odoo n'est pas configuré sur cette instance.")
	}
	co := web.Council(c)
	if err := odoo.EnqueuePush(c.UserContext(), h.DB, co.ID); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/odoo", "Envoi vers Odoo demandé : il part dans quelques secondes.")
}

// LinkView is the page that links one shop to its Odoo partner: search by
// name or SIRET, then confirm.
type LinkView struct {
	web.Page
	Configured bool
	Shop       *catalog.Shop
	Link       *odoo.Link
	Q          string
	Searched   bool
	Partners   []odoo.Partner
	Errors     apperr.Fields
	Error      string // Odoo's failure, in French
}

// maxPartners bounds a search's results: refine the query beyond.
const maxPartners = 20

func (h *Handlers) linkView(c *fiber.Ctx) (*LinkView, error) {
	ctx, co := c.UserContext(), web.Council(c)
	shop, err := catalog.ShopBySlug(ctx, h.DB, co.ID, c.Params("slug"))
	if err != nil {
		return nil, err
	}
	v := &LinkView{Page: web.NewPage(c, "Lier à Odoo : "+shop.Name), Configured: h.Connector.Configured(), Shop: shop}
	links, err := odoo.Links(ctx, h.DB, co.ID)
	if err != nil {
		return nil, err
	}
	if l, ok := links[shop.ID]; ok {
		v.Link = &l
	}
	return v, nil
}

// checkQuery validates a partner search: a query that looks like a SIRET
// must be a valid one (Luhn), so that a typo is caught here rather than
// found nowhere in Odoo.
func checkQuery(q string) (string, apperr.Fields) {
	q = strings.TrimSpace(q)
	f := apperr.Fields{}
	switch {
	case q == "":
		f.Add("q", "Indiquez un nom ou un SIRET à chercher dans Odoo.")
	case len([]rune(q)) > 100:
		f.Add("q", "La recherche ne doit pas dépasser 100 caractères.")
	case siret.LooksLike(q) && !siret.Valid(siret.Normalize(q)):
		f.Add("q", "Ce SIRET n'est pas valide (la clé de contrôle ne correspond pas) : vérifiez les 14 chiffres.")
	}
	if siret.LooksLike(q) {
		q = siret.Normalize(q)
	}
	if len(f) == 0 {
		return q, nil
	}
	return q, f
}

func (h *Handlers) linkPage(c *fiber.Ctx) error {
	v, err := h.linkView(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	v.Q = text.Normalize(strings.Clone(c.Query("q")))
	if v.Q == "" || !v.Configured {
		return web.Render(c, "governance/odoo_link", v)
	}
	q, f := checkQuery(v.Q)
	if f != nil {
		v.Errors = f
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/odoo_link", v)
	}
	v.Searched = true
	v.Partners, err = h.Connector.Client.FindPartners(c.UserContext(), q, maxPartners)
	if err != nil {
		v.Error = odoo.Describe(err)
		return web.RenderStatus(c, fiber.StatusBadGateway, "governance/odoo_link", v)
	}
	return web.Render(c, "governance/odoo_link", v)
}

func (h *Handlers) link(c *fiber.Ctx) error {
	v, err := h.linkView(c)
	if err != nil {
		return err
	}
	if !v.Configured {
		return apperr.New(apperr.Conflict, "Le connecteur Odoo n'est pas configuré sur cette instance.")
	}
	v.Q = web.Form(c, "q")
	id, perr := strconv.Atoi(web.Form(c, "partner"))
	if perr != nil || id <= 0 {
		v.Errors = apperr.Fields{"partner": "Choisissez le partenaire Odoo de ce point de vente."}
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/odoo_link", v)
	}
	// The partner is read again from Odoo: the link is made to what exists.
	ps, err := h.Connector.Client.Partners(c.UserContext(), []int{id})
	if err != nil {
		v.Error = odoo.Describe(err)
		return web.RenderStatus(c, fiber.StatusBadGateway, "governance/odoo_link", v)
	}
	if len(ps) == 0 {
		v.Errors = apperr.Fields{"partner": "Ce partenaire n'existe pas (ou plus) dans Odoo : cherchez-le de nouveau."}
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/odoo_link", v)
	}
	p := ps[0]
	co := web.Council(c)
	err = h.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := odoo.SaveLink(ctx, tx, co.ID, v.Shop.ID, p.ID, p.Name); err != nil {
			return err
		}
		var before any
		if v.Link != nil {
			before = map[string]any{"partner_id": v.Link.PartnerID, "partner_name": v.Link.PartnerName}
		}
		e := auth.ActorOf(web.ViewerOf(c)).Entry(&co.ID, "odoo.link", "shop", strconv.FormatInt(v.Shop.ID, 10),
			"Point de vente "+v.Shop.Name+" lié au partenaire Odoo "+p.Name+" (n° "+strconv.Itoa(p.ID)+")")
		if err := recordAudit(ctx, tx, e, before, map[string]any{"partner_id": p.ID, "partner_name": p.Name}); err != nil {
			return err
		}
		// The first push follows the link.
		return odoo.EnqueuePush(ctx, tx, co.ID)
	})
	if f := apperr.FieldsOf(err); f != nil {
		v.Errors = f
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/odoo_link", v)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/odoo", v.Shop.Name+" est lié au partenaire Odoo « "+p.Name+" ».")
}

func (h *Handlers) unlink(c *fiber.Ctx) error {
	v, err := h.linkView(c)
	if err != nil {
		return err
	}
	co := web.Council(c)
	err = h.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		had, err := odoo.DeleteLink(ctx, tx, co.ID, v.Shop.ID)
		if err != nil || !had {
			return err
		}
		e := auth.ActorOf(web.ViewerOf(c)).Entry(&co.ID, "odoo.unlink", "shop", strconv.FormatInt(v.Shop.ID, 10),
			"Point de vente "+v.Shop.Name+" délié de son partenaire Odoo")
		return recordAudit(ctx, tx, e, map[string]any{"partner_id": v.Link.PartnerID, "partner_name": v.Link.PartnerName}, nil)
	})
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/odoo", v.Shop.Name+" n'est plus lié à Odoo.")
}
