// Package member holds the pages of people and trust: sign-in and sign-out,
// the account and its password, invitations and password links, the
// members' administration, the public composition of the council (/conseil)
// and the audit log (/gestion/journal). Accounts, sessions and roles
// themselves live in internal/auth and internal/authz.
package member

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/text"
	"cla/internal/web"
)

// Handlers serves sign-in, the account, the members' administration, the
// invitation and password-link pages, the council's composition and the
// audit log.
type Handlers struct {
	DB *bun.DB
	// DrawnSeats lists the seats drawn by lot (governance/sortition, wired in
	// app/app.go: sortition sits beside member, not below it). nil: none.
	DrawnSeats func(ctx context.Context, councilID int64, now time.Time) ([]DrawnSeat, error)
}

// DrawnSeat is a seat drawn by lot as /conseil shows it.
type DrawnSeat struct {
	DrawURL, DrawTitle string
	Holder             string // the holder's public name; "" while vacant or invited
	Pseudonym          string // the id the draw published
	Strata             string // "Tranche d'âge : 30-44 ans ; Genre : femme"
	Held               bool   // a term is running
	Invited            bool   // awaiting the volunteer's acceptance
	TermStart, TermEnd *time.Time
	Label              string // "en mandat", "mandat terminé", "invitation en attente"
}

// Routes lists the members' routes.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/connexion", web.Gated(h.signInForm))
	app.Post("/connexion", h.signIn)
	app.Get("/connexion/oubli", web.Gated(h.resetRequestForm))
	app.Post("/connexion/oubli", h.requestReset)
	app.Get("/connexion/reinitialiser/:token", web.Gated(h.resetForm))
	app.Post("/connexion/reinitialiser/:token", h.useReset)
	app.Post("/deconnexion", h.signOut)
	app.Get("/compte", auth.RequireSignedIn(), web.Gated(h.account))
	app.Post("/compte/mot-de-passe", auth.RequireSignedIn(), h.changePassword)
	app.Get("/invitation/:token", web.Gated(h.invitationForm))
	app.Post("/invitation/:token", h.acceptInvitation)
	app.Get("/mot-de-passe/:token", web.Gated(h.passwordLinkForm))
	app.Post("/mot-de-passe/:token", h.usePasswordLink)
	app.Get("/conseil", web.Gated(h.councilMembers))
	app.Get("/gestion/membres", auth.Require(authz.MemberList), web.Gated(h.membersAdmin))
	app.Post("/gestion/membres/invitations", auth.Require(authz.MemberInvite), h.invite)
	app.Post("/gestion/membres/:id/role", auth.Require(authz.MemberSetRole), h.setMemberRole)
	app.Post("/gestion/membres/:id/desactiver", auth.Require(authz.MemberDisable), h.disableMember)
	app.Post("/gestion/membres/:id/reactiver", auth.Require(authz.MemberDisable), h.enableMember)
	app.Post("/gestion/membres/:id/mot-de-passe", auth.Require(authz.MemberPasswordLink), h.memberPasswordLink)
	app.Get("/gestion/journal", auth.Require(authz.AuditRead), web.Gated(h.auditLog))
}

// publicMember is a member as the public composition page shows them: no email.
type publicMember struct {
	Name     string
	RoleName string
}

// councilView is the public composition of the council.
type councilView struct {
	web.Page
	Members []publicMember
	Seats   []DrawnSeat
	Held    int // seats drawn by lot whose term runs
	Draws   []drawLink
}

// drawLink is a draw the council's seats come from.
type drawLink struct{ URL, Title string }

func (h *Handlers) councilMembers(c *fiber.Ctx) error {
	ms, err := auth.Members(c.UserContext(), h.DB, web.Council(c).ID, false)
	if err != nil {
		return err
	}
	view := councilView{Page: web.NewPage(c, "Composition du conseil")}
	for _, m := range ms {
		view.Members = append(view.Members, publicMember{Name: m.Name, RoleName: m.Role.Label()})
	}
	if h.DrawnSeats != nil {
		if view.Seats, err = h.DrawnSeats(c.UserContext(), web.Council(c).ID, time.Now()); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, s := range view.Seats {
			if s.Held {
				view.Held++
			}
			if !seen[s.DrawURL] {
				seen[s.DrawURL] = true
				view.Draws = append(view.Draws, drawLink{URL: s.DrawURL, Title: s.DrawTitle})
			}
		}
	}
	return web.Render(c, "governance/members", view)
}

// roleOption is one choice of a role select.
type roleOption struct {
	Value    authz.Role
	Label    string
	Selected bool
}

// managedMember is one line of the management list, with what the viewer may
// do to that member.
type managedMember struct {
	auth.Member
	RoleName     string
	Self         bool
	CanManage    bool // disable / re-enable / password link
	RoleOptions  []roleOption
	CanSetRole   bool
	CreatedLabel string
}

// membersAdminView is /gestion/membres: members, pending invitations and the
// invitation form.
type membersAdminView struct {
	web.Page
	Members     []managedMember
	Invitations []auth.Link
	InviteRoles []roleOption
	Email       string
	Errors      apperr.Fields
}

// roleOptions lists the roles the viewer may give, the selected one marked.
func roleOptions(viewer authz.Role, selected authz.Role) []roleOption {
	var out []roleOption
	for _, r := range auth.Roles {
		if r == authz.Admin && !authz.Can(viewer, authz.MemberManageAdmin) {
			continue
		}
		out = append(out, roleOption{Value: r, Label: r.Label(), Selected: r == selected})
	}
	return out
}

func (h *Handlers) membersAdminView(c *fiber.Ctx) (membersAdminView, error) {
	ctx := c.UserContext()
	co := web.Council(c)
	viewer := auth.Role(c)
	me := web.ViewerOf(c).AccountID
	ms, err := auth.Members(ctx, h.DB, co.ID, true)
	if err != nil {
		return membersAdminView{}, err
	}
	invs, err := auth.PendingInvitations(ctx, h.DB, co.ID)
	if err != nil {
		return membersAdminView{}, err
	}
	view := membersAdminView{Page: web.NewPage(c, "Gestion des membres"), Invitations: invs,
		InviteRoles: roleOptions(viewer, authz.Member)}
	for _, m := range ms {
		mm := managedMember{Member: m, RoleName: m.Role.Label(), Self: m.AccountID == me}
		mayTouch := !mm.Self && (m.Role != authz.Admin || authz.Can(viewer, authz.MemberManageAdmin))
		mm.CanManage = mayTouch && authz.Can(viewer, authz.MemberDisable)
		mm.CanSetRole = mayTouch && authz.Can(viewer, authz.MemberSetRole)
		if mm.CanSetRole {
			mm.RoleOptions = roleOptions(viewer, m.Role)
		}
		view.Members = append(view.Members, mm)
	}
	return view, nil
}

func (h *Handlers) membersAdmin(c *fiber.Ctx) error {
	view, err := h.membersAdminView(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/members_admin", view)
}

// memberLinkView shows a single-use link just created, to pass on to its
// recipient (no mail is sent unless SMTP is configured).
type memberLinkView struct {
	web.Page
	Heading string
	For     string
	Link    string
	Expiry  string
	MailTo  string // the address the link was mailed to, "" when no mail was sent
	MailOn  bool   // mail is configured (a failure to send is then worth saying)
}

func (h *Handlers) invite(c *fiber.Ctx) error {
	email := strings.TrimSpace(web.Form(c, "email"))
	role := authz.Role(web.Form(c, "role"))
	if role == authz.Admin {
		if err := auth.Authorize(c, authz.MemberManageAdmin); err != nil {
			return err
		}
	}
	token, err := auth.Invite(c.UserContext(), h.DB, web.Council(c).ID, auth.ActorOf(web.ViewerOf(c)), email, role)
	if fields := apperr.FieldsOf(err); fields != nil {
		view, verr := h.membersAdminView(c)
		if verr != nil {
			return verr
		}
		view.Email, view.Errors = email, fields
		view.InviteRoles = roleOptions(auth.Role(c), role)
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/members_admin", view)
	}
	if err != nil {
		return err
	}
	view := memberLinkView{Page: web.NewPage(c, "Invitation créée"),
		Heading: "Invitation créée", For: email + " (" + role.Label() + ")",
		Link: auth.PublicURL(c, "/invitation/"+token), Expiry: "7 jours", MailOn: auth.MailConfigured(c)}
	if auth.SendMail(c, auth.NormalizeEmail(email), "Invitation au "+web.Council(c).Name,
		"Bonjour,\n\n"+auth.ActorOf(web.ViewerOf(c)).Name+" vous invite à rejoindre le "+web.Council(c).Name+" comme "+role.Label()+
			".\n\nPour accepter, ouvrez ce lien (valable 7 jours, à usage unique) :\n"+view.Link+
			"\n\nSi vous ne vous attendiez pas à ce message, ignorez-le.\n") {
		view.MailTo = auth.NormalizeEmail(email)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/member_link", view)
}

// targetMember loads the member named by :id in the request's council and
// checks the viewer may act on them (only admins act on admins).
func (h *Handlers) targetMember(c *fiber.Ctx) (*auth.Member, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, apperr.New(apperr.NotFound, "Ce membre n'existe pas dans ce conseil.")
	}
	m, err := auth.MemberByAccount(c.UserContext(), h.DB, web.Council(c).ID, id)
	if err != nil {
		return nil, err
	}
	if m.Role == authz.Admin {
		if err := auth.Authorize(c, authz.MemberManageAdmin); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (h *Handlers) setMemberRole(c *fiber.Ctx) error {
	m, err := h.targetMember(c)
	if err != nil {
		return err
	}
	role := authz.Role(web.Form(c, "role"))
	if role == authz.Admin {
		if err := auth.Authorize(c, authz.MemberManageAdmin); err != nil {
			return err
		}
	}
	if !auth.ValidRole(role) {
		return apperr.New(apperr.Invalid, "Choisissez un rôle dans la liste.")
	}
	if err := auth.SetRole(c.UserContext(), h.DB, web.Council(c).ID, auth.ActorOf(web.ViewerOf(c)), m.AccountID, role); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/membres", "Rôle "+text.De(m.Name)+" : "+role.Label()+".")
}

func (h *Handlers) disableMember(c *fiber.Ctx) error { return h.setDisabled(c, true) }
func (h *Handlers) enableMember(c *fiber.Ctx) error  { return h.setDisabled(c, false) }

func (h *Handlers) setDisabled(c *fiber.Ctx, disabled bool) error {
	m, err := h.targetMember(c)
	if err != nil {
		return err
	}
	if err := auth.SetDisabled(c.UserContext(), h.DB, web.Council(c).ID, auth.ActorOf(web.ViewerOf(c)), m.AccountID, disabled); err != nil {
		return err
	}
	msg := m.Name + " est de nouveau membre actif."
	if disabled {
		msg = m.Name + " est désactivé·e ; ses sessions sont fermées."
	}
	return web.RedirectWithFlash(c, "/gestion/membres", msg)
}

func (h *Handlers) memberPasswordLink(c *fiber.Ctx) error {
	m, err := h.targetMember(c)
	if err != nil {
		return err
	}
	if m.AccountID == web.ViewerOf(c).AccountID {
		return apperr.New(apperr.Forbidden, "Changez votre propre mot de passe depuis la page Mon compte.")
	}
	co := web.Council(c).ID
	token, err := auth.CreatePasswordLink(c.UserContext(), h.DB, &co, auth.ActorOf(web.ViewerOf(c)), m.AccountID)
	if err != nil {
		return err
	}
	view := memberLinkView{Page: web.NewPage(c, "Lien de mot de passe créé"),
		Heading: "Lien de nouveau mot de passe créé", For: m.Name,
		Link: auth.PublicURL(c, "/mot-de-passe/"+token), Expiry: "3 jours", MailOn: auth.MailConfigured(c)}
	if auth.SendMail(c, m.Email, "Nouveau mot de passe — "+web.Council(c).Name,
		"Bonjour "+m.Name+",\n\n"+auth.ActorOf(web.ViewerOf(c)).Name+" a créé pour vous un lien pour choisir un nouveau mot de passe (valable 3 jours, à usage unique) :\n"+
			view.Link+"\n\nSi vous n'avez rien demandé, prévenez l'équipe du conseil.\n") {
		view.MailTo = m.Email
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/member_link", view)
}
