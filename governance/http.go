package governance

import (
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/governance/application"
	"cla/governance/debate"
	"cla/governance/member"
	"cla/governance/proposal"
	"cla/internal/auth"
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
	(&member.Handlers{DB: h.DB}).Routes(app)

	// Proposals and scoring.
	(&proposal.Handlers{DB: h.DB}).Routes(app)

	// Debates and search.
	(&debate.Handlers{DB: h.DB}).Routes(app)

	// Shop applications.
	(&application.Handlers{DB: h.DB, Mailer: h.Mailer, BaseURL: h.BaseURL}).Routes(app)

	// Meetings, votes and decisions.
	h.meetingRoutes(app)
}
