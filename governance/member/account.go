package member

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// Handlers of one's own account: sign-in, sign-out, the account page with the
// change of password, and the single-use links (invitation, new password).

// signInView is the sign-in form. The password is never sent back.
type signInView struct {
	web.Page
	Email string
	Next  string
	Error string
}

func (h *Handlers) signInForm(c *fiber.Ctx) error {
	view := signInView{Page: web.NewPage(c, "Connexion"), Next: auth.SafeNext(c.Query("suite"))}
	return web.Render(c, "auth/signin", view)
}

func (h *Handlers) signIn(c *fiber.Ctx) error {
	email := web.Form(c, "email")
	next := auth.SafeNext(web.Form(c, "suite"))
	acct, err := auth.Authenticate(c.UserContext(), h.DB, web.Council(c).ID, web.ClientIP(c), email, web.Form(c, "password"))
	// The form again, with the reason (and, when limited, when to retry).
	return auth.FinishSignIn(c, acct, err, next, func(reason string) error {
		return web.Render(c, "auth/signin", signInView{Page: web.NewPage(c, "Connexion"),
			Email: strings.TrimSpace(email), Next: next, Error: reason})
	})
}

func (h *Handlers) signOut(c *fiber.Ctx) error {
	if err := auth.SignOut(c); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/", "Vous êtes déconnecté·e.")
}

// accountView is the signed-in person's own page.
type accountView struct {
	web.Page
	Email    string
	RoleName string
	Errors   apperr.Fields
}

func (h *Handlers) accountView(c *fiber.Ctx, errs apperr.Fields) (accountView, error) {
	v := web.ViewerOf(c)
	a, err := auth.AccountByID(c.UserContext(), h.DB, v.AccountID)
	if err != nil {
		return accountView{}, err
	}
	return accountView{Page: web.NewPage(c, "Mon compte"), Email: a.Email, RoleName: authz.Role(v.Role).Label(), Errors: errs}, nil
}

func (h *Handlers) account(c *fiber.Ctx) error {
	view, err := h.accountView(c, nil)
	if err != nil {
		return err
	}
	return web.Render(c, "auth/account", view)
}

func (h *Handlers) changePassword(c *fiber.Ctx) error {
	v := web.ViewerOf(c)
	err := auth.ChangePassword(c.UserContext(), h.DB, web.Council(c).ID, v.AccountID, web.Form(c, "current"), web.Form(c, "password"))
	if fields := apperr.FieldsOf(err); fields != nil {
		view, err := h.accountView(c, fields)
		if err != nil {
			return err
		}
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "auth/account", view)
	}
	if err != nil {
		return err
	}
	// Every session ended with the change; this browser gets a new one.
	if err := auth.SignIn(c, v.AccountID); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/compte", "Votre mot de passe a été changé. Vos autres sessions sont fermées.")
}

// invitationView is the form that accepts an invitation. It is the same
// whether the invited email already has an account or not (name and password
// in both cases), so that whoever holds the link cannot tell.
type invitationView struct {
	web.Page
	Token    string
	Email    string
	RoleName string
	Name     string
	Errors   apperr.Fields
}

func (h *Handlers) invitationView(c *fiber.Ctx, token string) (invitationView, error) {
	l, err := auth.FindLink(c.UserContext(), h.DB, web.Council(c).ID, auth.KindInvitation, token)
	if err != nil {
		return invitationView{}, err
	}
	return invitationView{Page: web.NewPage(c, "Rejoindre le conseil"), Token: token, Email: l.Email, RoleName: l.Role.Label()}, nil
}

func (h *Handlers) invitationForm(c *fiber.Ctx) error {
	view, err := h.invitationView(c, strings.Clone(c.Params("token")))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "auth/invitation", view)
}

func (h *Handlers) acceptInvitation(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	name := web.Form(c, "name")
	accountID, err := auth.AcceptInvitation(c.UserContext(), h.DB, web.Council(c).ID, web.ClientIP(c), token, name, web.Form(c, "password"))
	fields := apperr.FieldsOf(err)
	if fields == nil && apperr.CodeOf(err) == apperr.TooMany {
		fields = apperr.Fields{"password": apperr.MessageOf(err)}
	}
	if fields != nil {
		view, verr := h.invitationView(c, token)
		if verr != nil {
			return verr
		}
		view.Name, view.Errors = strings.TrimSpace(name), fields
		c.Status(fiber.StatusUnprocessableEntity)
		if apperr.CodeOf(err) == apperr.TooMany {
			web.TooMany(c, err)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return web.Render(c, "auth/invitation", view)
	}
	if err != nil {
		return err
	}
	if err := auth.SignIn(c, accountID); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/compte", "Bienvenue dans le conseil !")
}

// passwordLinkView is the form behind a single-use new-password link.
type passwordLinkView struct {
	web.Page
	Token  string
	Errors apperr.Fields
}

func (h *Handlers) passwordLinkForm(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if _, err := auth.FindLink(c.UserContext(), h.DB, web.Council(c).ID, auth.KindPassword, token); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "auth/password", passwordLinkView{Page: web.NewPage(c, "Choisir un mot de passe"), Token: token})
}

func (h *Handlers) usePasswordLink(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	_, err := auth.UsePasswordLink(c.UserContext(), h.DB, web.Council(c).ID, token, web.Form(c, "password"))
	if fields := apperr.FieldsOf(err); fields != nil {
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "auth/password", passwordLinkView{Page: web.NewPage(c, "Choisir un mot de passe"), Token: token, Errors: fields})
	}
	if err != nil {
		return err
	}
	// Sessions of the account ended; sign in again with the new password.
	if err := auth.SignOut(c); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/connexion", "Mot de passe enregistré. Connectez-vous avec votre nouveau mot de passe.")
}
