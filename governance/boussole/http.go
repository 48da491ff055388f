package boussole

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/web"
)

// Handlers serves the boussole's page.
type Handlers struct {
	DB *bun.DB
}

// Routes lists the boussole's routes.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/boussole", web.Gated(h.boussole))
}

// boussoleView shows the boussole in force (nil when the council has not
// written one yet).
type boussoleView struct {
	web.Page
	Boussole *Boussole
}

func (h *Handlers) boussole(c *fiber.Ctx) error {
	b, err := CurrentBoussole(c.UserContext(), h.DB, web.Council(c).ID)
	if errors.Is(err, ErrNoBoussole) {
		b = nil // the page says it is not written yet
	} else if err != nil {
		return err
	}
	return web.Render(c, "governance/boussole", boussoleView{Page: web.NewPage(c, "La boussole du conventionnement"), Boussole: b})
}
