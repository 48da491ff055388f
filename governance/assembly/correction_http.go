package assembly

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// correctionPanel is the corrections part of a decision's page.
type correctionPanel struct {
	Supersedes   *Decision // the decision this one rectifies
	SupersededBy *Decision // the decision that rectifies this one
	CanRectify   bool
	// Form and Errors are the rectification form (as typed after a refusal).
	Form   Rectification
	Errors apperr.Fields
	// Voted is the voted rectification form and Meetings the meetings to
	// come, where it may be voted (rectification_http.go).
	Voted    rectifyForm
	Meetings []Meeting
}

// fillCorrections links a decision's page to its rectifications.
func (h *Handlers) fillCorrections(c *fiber.Ctx, view *decisionView) error {
	ctx, co, d := c.UserContext(), web.Council(c), view.Decision
	p := &view.Correction
	var err error
	if d.SupersedesID != nil {
		if p.Supersedes, err = getDecision(ctx, h.DB, co.ID, *d.SupersedesID); err != nil {
			return err
		}
	}
	if p.SupersededBy, err = rectificationOf(ctx, h.DB, co.ID, d.ID); err != nil {
		return err
	}
	p.CanRectify = p.SupersededBy == nil && auth.Can(c, authz.ManageMeeting)
	p.Form = Rectification{Title: d.Title, Motivation: d.MotivationMD}
	return h.fillVotedRectification(c, p)
}

func (h *Handlers) rectifyDecision(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	r := &Rectification{Title: web.Form(c, "title"), Motivation: web.Form(c, "motivation"), Reason: web.Form(c, "reason")}
	typed := *r
	d, err := RectifyDecision(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id, r)
	if status, errs, ok := refusal(err, "reason"); ok {
		view, verr := h.decisionView(c)
		if verr != nil {
			return verr
		}
		view.Correction.Form, view.Correction.Errors = typed, errs
		view.Correction.CanRectify = auth.Can(c, authz.ManageMeeting)
		return web.RenderStatus(c, status, "governance/decision", view)
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, d.Path(), "Rectification publiée : elle remplace la décision n° "+strconv.FormatInt(id, 10)+".")
}
