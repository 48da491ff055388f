package exchange

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/web"
)

// Handlers serves the exchange file.
type Handlers struct {
	DB *bun.DB
}

// Routes lists the exchange routes.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/api/v1/export", web.Gated(h.export))
}

func (h *Handlers) export(c *fiber.Ctx) error {
	co := web.Council(c)
	doc, err := Export(c.UserContext(), h.DB, Council{Slug: co.Slug, Name: co.Name, Caisse: co.CaisseName, Territory: co.Territory}, co.ID)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+co.Slug+`-echange.json"`)
	return c.Send(b)
}
