package web

import (
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
)

// statusOf maps an application error code to its HTTP status: the one place
// where that mapping lives.
func statusOf(err error) int {
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return fiber.StatusUnprocessableEntity
	case apperr.NotFound:
		return fiber.StatusNotFound
	case apperr.Conflict:
		return fiber.StatusConflict
	case apperr.Unauthorized:
		return fiber.StatusUnauthorized
	case apperr.Forbidden:
		return fiber.StatusForbidden
	case apperr.TooMany:
		return fiber.StatusTooManyRequests
	case apperr.Unavailable:
		return fiber.StatusServiceUnavailable
	default:
		return fiber.StatusInternalServerError
	}
}

// ErrorView is the French error page.
type ErrorView struct {
	Page
	Status  int
	Heading string
	Message string
	// Back is the page concerned, on this site: the page the request came
	// from, or the one above the address refused ("" for none beyond the
	// home page).
	Back string
}

// backPath is where an error page leads back to: the referring page when it
// is on this site (its path only, so never elsewhere), else, for an action on
// a page (/seances/12/ordre-du-jour/5/retirer), that page: its first two
// segments (/seances/12); "" otherwise (the home page link remains).
func backPath(c *fiber.Ctx) string {
	if ref, err := url.Parse(c.Get(fiber.HeaderReferer)); err == nil && ref.Host != "" && ref.Host == string(c.Request().Host()) &&
		strings.HasPrefix(ref.Path, "/") && !strings.HasPrefix(ref.Path, "//") && ref.Path != c.Path() {
		return ref.Path
	}
	parts := strings.SplitN(strings.Trim(c.Path(), "/"), "/", 3)
	if len(parts) == 3 && parts[0] != "" && parts[1] != "" {
		return "/" + parts[0] + "/" + parts[1]
	}
	return ""
}

// messages for errors that Fiber itself raises (no route, body too large…).
var fiberMessages = map[int][2]string{
	fiber.StatusNotFound:              {"Page introuvable", "Cette page n'existe pas ou a été déplacée. Vérifiez l'adresse, ou repartez de l'accueil."},
	fiber.StatusMethodNotAllowed:      {"Action impossible", "Cette adresse n'accepte pas ce type de requête."},
	fiber.StatusRequestEntityTooLarge: {"Envoi trop volumineux", "Ce que vous avez envoyé dépasse la taille autorisée. Raccourcissez le texte et réessayez."},
	fiber.StatusForbidden:             {"Accès refusé", "Vous n'avez pas le droit de faire cette action."},
	fiber.StatusUnauthorized:          {"Connexion nécessaire", "Connectez-vous pour continuer."},
	fiber.StatusTooManyRequests:       {"Trop de tentatives", "Trop de demandes en peu de temps. Patientez une minute avant de réessayer."},
	fiber.StatusBadRequest:            {"Requête invalide", "La requête n'a pas pu être comprise."},
	fiber.StatusRequestHeaderFieldsTooLarge: {"En-têtes trop volumineux", "La requête porte des en-têtes trop volumineux, souvent trop de cookies. " +
		"Effacez les cookies de ce site, puis réessayez."},
	fiber.StatusRequestTimeout:     {"Délai dépassé", "La requête a mis trop de temps à arriver. Réessayez."},
	fiber.StatusBadGateway:         {"Connexion interrompue", "La connexion a été interrompue avant la fin de la requête. Réessayez."},
	fiber.StatusServiceUnavailable: {"Service indisponible", "Le service est momentanément indisponible. Réessayez dans un instant."},
}

var codeHeadings = map[apperr.Code]string{
	apperr.Invalid:      "Données invalides",
	apperr.NotFound:     "Page introuvable",
	apperr.Conflict:     "Conflit",
	apperr.Unauthorized: "Connexion nécessaire",
	apperr.Forbidden:    "Accès refusé",
	apperr.TooMany:      "Trop de tentatives",
	apperr.Unavailable:  "Service indisponible",
	apperr.Internal:     "Erreur interne",
}

// errorHandler is Fiber's single error handler: application codes and Fiber's own
// errors become a status and a French page (or JSON under /api/). The text of an
// internal error is logged, never shown.
func errorHandler(log *slog.Logger, tls bool) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		setSecurityHeaders(c, tls)
		var status int
		var heading, message string
		var fe *fiber.Error
		if errors.As(err, &fe) {
			status = fe.Code
			if m, ok := fiberMessages[status]; ok {
				heading, message = m[0], m[1]
			} else {
				heading, message = "Erreur", "La requête n'a pas pu aboutir."
			}
		} else {
			status = statusOf(err)
			heading = codeHeadings[apperr.CodeOf(err)]
			message = apperr.MessageOf(err)
		}
		if status >= 500 {
			log.Error("internal error", "method", c.Method(), "path", c.Path(), "err", err)
		}
		if status == fiber.StatusTooManyRequests {
			TooMany(c, err)
		} else {
			c.Status(status)
		}
		if strings.HasPrefix(c.Path(), "/api/") || strings.Contains(c.Get(fiber.HeaderAccept), "application/json") && !strings.Contains(c.Get(fiber.HeaderAccept), "text/html") {
			return c.JSON(fiber.Map{"error": fiber.Map{"status": status, "message": message}})
		}
		view := ErrorView{Page: NewPage(c, heading), Status: status, Heading: heading, Message: message, Back: backPath(c)}
		if rerr := c.Render("errors/error", view); rerr != nil {
			log.Error("rendering the error page failed", "err", rerr)
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			return c.SendString(heading + " — " + message)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return nil
	}
}

// TooMany sets the status of a refusal beyond a rate limit, 429, and its
// Retry-After header: the wait err carries (apperr.TooManyFor), else a minute.
// Handlers that re-render their form on such a refusal call it too.
func TooMany(c *fiber.Ctx, err error) {
	wait := apperr.RetryAfterOf(err)
	if wait <= 0 {
		wait = time.Minute
	}
	c.Status(fiber.StatusTooManyRequests)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((wait+time.Second-1)/time.Second)))
}
