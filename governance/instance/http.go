package instance

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/web"
)

// Handlers serves the operator's pages (/instance) and the council's
// settings page (/gestion/conseil).
type Handlers struct {
	DB *bun.DB
	// MailOn says mail is configured: the first admin's invitation is then
	// mailed too (internal/mail job), besides being shown once.
	MailOn bool
}

// Routes lists the operator's and the settings' routes. /instance is served
// on every host name, to operators only.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/instance/connexion", web.Gated(h.signInForm))
	app.Post("/instance/connexion", h.signIn)
	app.Get("/instance", h.requireOperator, web.Gated(h.list))
	app.Get("/instance/conseils/nouveau", h.requireOperator, web.Gated(h.createForm))
	app.Post("/instance/conseils", h.requireOperator, h.create)
	app.Get("/instance/conseils/:slug", h.requireOperator, web.Gated(h.show))
	app.Post("/instance/conseils/:slug/hotes", h.requireOperator, h.setHosts)
	app.Post("/instance/conseils/:slug/etat", h.requireOperator, h.setState)
	app.Get("/gestion/conseil", auth.Require(authz.CouncilSettings), web.Gated(h.settingsForm))
	app.Post("/gestion/conseil", auth.Require(authz.CouncilSettings), h.saveSettings)
}

// requireOperator lets operators of the instance through; an anonymous
// visitor asking for a page is sent to the operator's sign-in form, anyone
// else is refused.
// RequireOperator is the guard of the operator's pages, for the pages of
// other packages under /instance (governance/notify's subscribers).
func (h *Handlers) RequireOperator(c *fiber.Ctx) error { return h.requireOperator(c) }

func (h *Handlers) requireOperator(c *fiber.Ctx) error {
	v := web.ViewerOf(c)
	if v == nil {
		if c.Method() == fiber.MethodGet {
			return c.Redirect("/instance/connexion?suite="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		return apperr.New(apperr.Unauthorized, "Connectez-vous comme opérateur·ice de l'instance pour continuer.")
	}
	ok, err := IsOperator(c.UserContext(), h.DB, v.AccountID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.Forbidden, "Ces pages sont réservées aux opérateur·ices de l'instance.")
	}
	return c.Next()
}

// signInView is the operator's sign-in form.
type signInView struct {
	web.Page
	Email string
	Next  string
	Error string
}

func (h *Handlers) signInForm(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "instance/signin", signInView{Page: web.NewPage(c, "Connexion de l'opérateur·ice"), Next: safeNext(c.Query("suite"))})
}

// safeNext keeps the sign-in's return address under /instance.
func safeNext(next string) string {
	next = auth.SafeNext(next)
	if next != "/instance" && !strings.HasPrefix(next, "/instance/") {
		return "/instance"
	}
	return next
}

// errNotOperator is the refusal of a sign-in by an account that is not an
// operator: the same words as bad credentials, so that the form tells
// nothing about who has an account.
var errNotOperator = auth.ErrBadCredentials

func (h *Handlers) signIn(c *fiber.Ctx) error {
	email := web.Form(c, "email")
	next := safeNext(web.Form(c, "suite"))
	ctx := c.UserContext()
	// Council 0: the password alone; the operator role is checked below.
	acct, err := auth.Authenticate(ctx, h.DB, 0, web.ClientIP(c), email, web.Form(c, "password"))
	if err == nil {
		ok, oerr := IsOperator(ctx, h.DB, acct.ID)
		if oerr != nil {
			return oerr
		}
		if !ok {
			err = errNotOperator
		}
	}
	return auth.FinishSignIn(c, acct, err, next, func(reason string) error {
		return web.Render(c, "instance/signin", signInView{Page: web.NewPage(c, "Connexion de l'opérateur·ice"),
			Email: strings.TrimSpace(email), Next: next, Error: reason})
	})
}

// listView is the operator's home: every council of the instance.
type listView struct {
	web.Page
	Councils []Summary
}

func (h *Handlers) list(c *fiber.Ctx) error {
	cos, err := Councils(c.UserContext(), h.DB)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "instance/list", listView{Page: web.NewPage(c, "Instance : les conseils"), Councils: cos})
}

// createView is the council creation form, its input kept on error.
type createView struct {
	web.Page
	In     Input
	Starts []Start
	Errors apperr.Fields
}

func (h *Handlers) createForm(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "instance/create", createView{Page: web.NewPage(c, "Créer un conseil"),
		In: Input{Timezone: "Europe/Paris", Start: StartModel}, Starts: Starts})
}

// createdView shows the new council and its first admin's link, once.
type createdView struct {
	web.Page
	Created *council.Council
	Hosts   []string
	For     string
	Link    string
	MailTo  string
	Warning string
}

// maxExchangeFile bounds an uploaded exchange file (the body limit applies
// first).
const maxExchangeFile = 1 << 20

func (h *Handlers) create(c *fiber.Ctx) error {
	in := Input{
		Slug: web.Form(c, "slug"), Name: web.Form(c, "name"),
		CaisseName: web.Form(c, "caisse_name"), Commune: web.Form(c, "commune"),
		Territory: web.Form(c, "territory"), ContactEmail: web.Form(c, "contact_email"),
		Timezone: web.Form(c, "timezone"), Hosts: web.Form(c, "hosts"),
		AdminEmail: web.Form(c, "admin_email"), Start: Start(web.Form(c, "start")),
	}
	if in.Start == StartFile {
		if fh, err := c.FormFile("file"); err == nil {
			f, err := fh.Open()
			if err != nil {
				return err
			}
			body, err := io.ReadAll(io.LimitReader(f, maxExchangeFile))
			_ = f.Close()
			if err != nil {
				return err
			}
			in.File = bytes.NewReader(body)
		}
	}
	v := web.ViewerOf(c)
	res, err := Create(c.UserContext(), h.DB, in, auth.ActorOf(v))
	if fields := apperr.FieldsOf(err); fields != nil {
		in.normalise()
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "instance/create", createView{Page: web.NewPage(c, "Créer un conseil"), In: in, Starts: Starts, Errors: fields})
	}
	if res == nil {
		return err
	}
	view := createdView{Page: web.NewPage(c, "Conseil créé"), Created: res.Council, Hosts: res.Hosts, For: res.AdminEmail}
	if err != nil {
		view.Warning = apperr.MessageOf(err)
	} else {
		view.Link = h.councilURL(c, res.Hosts) + "/invitation/" + res.InviteToken
		if h.MailOn {
			if err := InviteMail(c.UserContext(), h.DB, res.Council, res.AdminEmail, view.Link); err == nil {
				view.MailTo = res.AdminEmail
			}
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "instance/created", view)
}

// councilURL is the base URL of a council: its first host name, with this
// request's scheme and port; this request's own base when it has none.
func (h *Handlers) councilURL(c *fiber.Ctx, hosts []string) string {
	if len(hosts) == 0 {
		return auth.PublicURL(c, "")
	}
	return LinkBase(c.Protocol()+"://"+string(c.Request().Host()), hosts[0])
}

// LinkBase returns the base URL of a council served at host, with the scheme
// and port of base (an instance's public URL or a request's): links to a
// council must carry one of its own host names.
func LinkBase(base, host string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return "http://" + host
	}
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		host += ":" + p
	}
	return u.Scheme + "://" + host
}

// showView is one council for the operator: host names and state.
type showView struct {
	web.Page
	Target *council.Council
	Hosts  string
	States []council.State
	Errors apperr.Fields
}

func (h *Handlers) target(ctx context.Context, c *fiber.Ctx) (*council.Council, error) {
	return council.BySlug(ctx, h.DB, strings.Clone(c.Params("slug")))
}

func (h *Handlers) showView(c *fiber.Ctx, co *council.Council, hosts string, errs apperr.Fields) (showView, error) {
	if hosts == "" && errs == nil {
		hs, err := Hosts(c.UserContext(), h.DB, co.ID)
		if err != nil {
			return showView{}, err
		}
		hosts = strings.Join(hs, "\n")
	}
	return showView{Page: web.NewPage(c, "Conseil : "+co.Name), Target: co, Hosts: hosts,
		States: []council.State{council.Active, council.Suspended, council.Archived}, Errors: errs}, nil
}

func (h *Handlers) show(c *fiber.Ctx) error {
	co, err := h.target(c.UserContext(), c)
	if err != nil {
		return err
	}
	view, err := h.showView(c, co, "", nil)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "instance/council", view)
}

func (h *Handlers) setHosts(c *fiber.Ctx) error {
	co, err := h.target(c.UserContext(), c)
	if err != nil {
		return err
	}
	hosts := web.Form(c, "hosts")
	err = SetHosts(c.UserContext(), h.DB, co.ID, hosts, auth.ActorOf(web.ViewerOf(c)))
	if fields := apperr.FieldsOf(err); fields != nil {
		view, verr := h.showView(c, co, hosts, fields)
		if verr != nil {
			return verr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "instance/council", view)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/instance/conseils/"+co.Slug, "Noms d'hôte enregistrés.")
}

func (h *Handlers) setState(c *fiber.Ctx) error {
	co, err := h.target(c.UserContext(), c)
	if err != nil {
		return err
	}
	state := council.State(web.Form(c, "state"))
	err = SetState(c.UserContext(), h.DB, co.ID, state, auth.ActorOf(web.ViewerOf(c)))
	if fields := apperr.FieldsOf(err); fields != nil {
		view, verr := h.showView(c, co, "", fields)
		if verr != nil {
			return verr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "instance/council", view)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/instance/conseils/"+co.Slug, "État du conseil : "+state.Label()+".")
}

// settingsView is the council's settings form.
type settingsView struct {
	web.Page
	In Settings
	// CanMakePrivate: the register has no version yet, or is private already.
	CanMakePrivate bool
	Errors         apperr.Fields
}

func (h *Handlers) settingsView(c *fiber.Ctx, in Settings, errs apperr.Fields) (settingsView, error) {
	co := web.Council(c)
	can := !co.RegisterPublic
	if !can {
		v, err := catalog.CurrentVersion(c.UserContext(), h.DB, co.ID)
		if err != nil {
			return settingsView{}, err
		}
		can = v == nil
	}
	return settingsView{Page: web.NewPage(c, "Réglages du conseil"), In: in, CanMakePrivate: can, Errors: errs}, nil
}

func (h *Handlers) settingsForm(c *fiber.Ctx) error {
	co := web.Council(c)
	hosts, err := Hosts(c.UserContext(), h.DB, co.ID)
	if err != nil {
		return err
	}
	view, err := h.settingsView(c, Settings{Name: co.Name, PresentationMD: co.PresentationMD, ContactEmail: co.ContactEmail,
		Hosts: strings.Join(hosts, "\n"), RegisterPublic: co.RegisterPublic}, nil)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "instance/settings", view)
}

func (h *Handlers) saveSettings(c *fiber.Ctx) error {
	in := Settings{Name: web.Form(c, "name"), PresentationMD: web.Form(c, "presentation"),
		ContactEmail: web.Form(c, "contact_email"), Hosts: web.Form(c, "hosts"),
		RegisterPublic: web.Form(c, "register_public") == "1"}
	err := SaveSettings(c.UserContext(), h.DB, web.Council(c), in, auth.ActorOf(web.ViewerOf(c)))
	if fields := apperr.FieldsOf(err); fields != nil {
		view, verr := h.settingsView(c, in, fields)
		if verr != nil {
			return verr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "instance/settings", view)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/conseil", "Réglages enregistrés.")
}
