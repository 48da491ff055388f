package web

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
)

// ParamID reads a positive id; anything else is NotFound.
func TestParamIDAcceptsOnlyPositiveIDs(t *testing.T) {
	app := fiber.New()
	app.Get("/x/:id", func(c *fiber.Ctx) error {
		id, err := ParamID(c, "id")
		if err != nil {
			return c.SendString(string(apperr.CodeOf(err)))
		}
		return c.SendString(c.Params("id") + "=" + fmt.Sprint(id))
	})
	for path, want := range map[string]string{
		"/x/12":                   "12=12",
		"/x/0":                    string(apperr.NotFound),
		"/x/-3":                   string(apperr.NotFound),
		"/x/abc":                  string(apperr.NotFound),
		"/x/99999999999999999999": string(apperr.NotFound),
	} {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != want {
			t.Errorf("GET %s: %q, want %q", path, body, want)
		}
	}
}
