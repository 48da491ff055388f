package catalog

import (
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/web"
)

// Handlers serves the register's public pages.
type Handlers struct {
	DB *bun.DB
}

// Routes lists every route of the register in one place.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/", h.home)
	app.Get("/registre", h.register)
	app.Get("/points-de-vente", h.shops)
}

// StatusCount is one line of the register summary.
type StatusCount struct {
	Status Status
	Count  int
}

// HomeView is the home page: the current register at a glance.
type HomeView struct {
	web.Page
	Counts   []StatusCount
	Families []*Node
}

func (h *Handlers) home(c *fiber.Ctx) error {
	co := web.Council(c)
	ctx := c.UserContext()
	families, err := Tree(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	counts, err := StatusCounts(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	view := HomeView{Page: web.NewPage(c, "Accueil"), Families: families}
	for _, s := range Statuses {
		view.Counts = append(view.Counts, StatusCount{Status: s, Count: counts[s]})
	}
	return web.Render(c, "catalog/home", view)
}

// RegisterView is the full register page.
type RegisterView struct {
	web.Page
	Families []*Node
}

func (h *Handlers) register(c *fiber.Ctx) error {
	families, err := Tree(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	return web.Render(c, "catalog/register", RegisterView{Page: web.NewPage(c, "Ce que mon allocation peut payer"), Families: families})
}

// ShopsView is the directory of points de vente.
type ShopsView struct {
	web.Page
	Shops []Shop
}

func (h *Handlers) shops(c *fiber.Ctx) error {
	shops, err := Shops(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	return web.Render(c, "catalog/shops", ShopsView{Page: web.NewPage(c, "Points de vente"), Shops: shops})
}
