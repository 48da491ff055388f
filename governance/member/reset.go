package member

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/web"
)

// Handlers of the self-service password reset (auth/reset.go): the request
// form, and the form behind the mailed link.

// resetRequestedMessage is the one answer to a reset request, whatever the
// address: it says neither that an account exists nor that mail went out.
const resetRequestedMessage = "Demande enregistrée. Si cette adresse est celle d'un compte membre de ce conseil, " +
	"un e-mail va lui être envoyé avec un lien pour choisir un nouveau mot de passe, valable une heure. " +
	"Rien reçu d'ici quelques minutes ? Vérifiez vos indésirables, ou demandez un lien à un·e animateur·ice du conseil."

// resetRequestView is the form asking for a reset link.
type resetRequestView struct {
	web.Page
	Email  string
	Errors apperr.Fields
}

func (h *Handlers) resetRequestForm(c *fiber.Ctx) error {
	return web.Render(c, "auth/reset_request", resetRequestView{Page: web.NewPage(c, "Mot de passe oublié")})
}

func (h *Handlers) requestReset(c *fiber.Ctx) error {
	email := auth.NormalizeEmail(web.Form(c, "email"))
	var err error
	if msg := auth.CheckEmail(email); msg != "" {
		err = apperr.Fields{"email": msg}.Err()
	}
	var base string
	if err == nil {
		base, err = auth.ResetBaseURL(c)
	}
	if err == nil {
		co, ip := web.Council(c).ID, web.ClientIP(c)
		_, err = web.CreateOnce(c, h.DB, func(ctx context.Context, tx bun.Tx) (string, error) {
			return "/connexion/oubli", auth.RequestPasswordReset(ctx, tx, co, ip, email, base)
		})
	}
	fields := apperr.FieldsOf(err)
	if fields == nil && apperr.CodeOf(err) == apperr.TooMany {
		fields = apperr.Fields{"email": apperr.MessageOf(err)}
	}
	if fields != nil {
		view := resetRequestView{Page: web.NewPage(c, "Mot de passe oublié"), Email: email, Errors: fields}
		c.Status(fiber.StatusUnprocessableEntity)
		if apperr.CodeOf(err) == apperr.TooMany {
			web.TooMany(c, err)
		}
		return web.Render(c, "auth/reset_request", view)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/connexion/oubli", resetRequestedMessage)
}

// resetView is the form behind a reset link, or, when the link cannot serve,
// the reason and the way to ask again (Problem set, no form).
type resetView struct {
	web.Page
	Token   string
	Problem string
	Errors  apperr.Fields
}

// resetProblem renders the page of a link that cannot serve, when err says
// so; it reports whether it did.
func (h *Handlers) resetProblem(c *fiber.Ctx, err error) (bool, error) {
	status, msg := auth.ResetError(err)
	if msg == "" {
		return false, err
	}
	c.Status(status)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return true, web.Render(c, "auth/reset", resetView{Page: web.NewPage(c, "Lien de nouveau mot de passe"), Problem: msg})
}

func (h *Handlers) resetForm(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if _, err := auth.FindLink(c.UserContext(), h.DB, web.Council(c).ID, auth.KindReset, token); err != nil {
		_, err := h.resetProblem(c, err)
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "auth/reset", resetView{Page: web.NewPage(c, "Choisir un nouveau mot de passe"), Token: token})
}

func (h *Handlers) useReset(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	accountID, err := auth.UseResetLink(c.UserContext(), h.DB, web.Council(c).ID, token, web.Form(c, "password"))
	if fields := apperr.FieldsOf(err); fields != nil {
		c.Status(fiber.StatusUnprocessableEntity)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return web.Render(c, "auth/reset", resetView{Page: web.NewPage(c, "Choisir un nouveau mot de passe"), Token: token, Errors: fields})
	}
	if done, err := h.resetProblem(c, err); done || err != nil {
		return err
	}
	// Every session of the account ended with the change; this browser,
	// which holds the link, gets the one new session.
	if err := auth.SignIn(c, accountID); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/compte", "Votre nouveau mot de passe est enregistré et vous êtes connecté·e. Vos autres sessions sont fermées.")
}
