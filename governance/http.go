package governance

import (
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/governance/application"
	"cla/governance/debate"
	"cla/governance/proposal"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// Handlers serves the council's process pages.
type Handlers struct {
	DB *bun.DB
	// Mailer sends shops their follow-up link; nil when SMTP is off (the link
	// is then only shown on screen).
	Mailer auth.Mailer
	// BaseURL is the public base URL for links in mails ("" uses the request's).
	BaseURL string

	ballots *BallotWriter // set by Routes
}

// Routes lists every route of the governance side in one place, grouped by
// part of the process.
func (h *Handlers) Routes(app fiber.Router) {
	h.ballots = NewBallotWriter(h.DB)
	// Members, sign-in and the audit trail.
	app.Get("/connexion", web.Gated(h.signInForm))
	app.Post("/connexion", h.signIn)
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

	// Proposals and scoring.
	(&proposal.Handlers{DB: h.DB}).Routes(app)

	// Debates and search.
	(&debate.Handlers{DB: h.DB}).Routes(app)

	// Shop applications.
	(&application.Handlers{DB: h.DB, Mailer: h.Mailer, BaseURL: h.BaseURL}).Routes(app)

	// Meetings, votes and decisions.
	h.meetingRoutes(app)
}
