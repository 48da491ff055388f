package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
)

// ParamID reads the route parameter name as a positive id; anything else is
// a page that does not exist (NotFound).
func ParamID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "Page introuvable.")
	}
	return id, nil
}
