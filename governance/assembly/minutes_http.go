package assembly

import (
	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// minutesView is a meeting's compte rendu page.
type minutesView struct {
	web.Page
	Meeting   *Meeting
	Minutes   *Minutes
	CanManage bool
	Errors    apperr.Fields
	// ApprovedIn is the meeting that approved the minutes; Amend, the
	// amendments (amendment_http.go).
	ApprovedIn *Meeting
	Amend      *amendPanel
}

func (h *Handlers) minutesView(c *fiber.Ctx) (*minutesView, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	ctx, co := c.UserContext(), web.Council(c)
	m, err := GetMeeting(ctx, h.DB, co.ID, id)
	if err != nil {
		return nil, err
	}
	mins, err := GetMinutes(ctx, h.DB, co.ID, id)
	if err != nil {
		return nil, err
	}
	view := &minutesView{Page: web.NewPage(c, "Compte rendu — "+m.Title), Meeting: m, Minutes: mins, CanManage: auth.Can(c, authz.ManageMeeting)}
	if err := h.fillAmendPanel(c, view); err != nil {
		return nil, err
	}
	return view, nil
}

func (h *Handlers) minutes(c *fiber.Ctx) error {
	view, err := h.minutesView(c)
	if err != nil {
		return err
	}
	// Drafts are for the council's members; approved minutes are public.
	if view.Minutes == nil || (!view.Minutes.Approved() && !auth.Can(c, authz.ReadDraftMinutes)) {
		return apperr.New(apperr.NotFound, "Le compte rendu de cette séance n'est pas encore approuvé.")
	}
	return web.Render(c, "governance/minutes", view)
}

func (h *Handlers) saveMinutes(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	v := web.ViewerOf(c)
	err = saveMinutes(c.UserContext(), h.DB, auth.ActorOf(v), web.Council(c).ID, id, web.Form(c, "body"), v.Name)
	if f := apperr.FieldsOf(err); f != nil {
		view, verr := h.minutesView(c)
		if verr != nil {
			return verr
		}
		view.Errors = f
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/minutes", view)
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, MeetingPath(id)+"/compte-rendu", "Compte rendu enregistré.")
}

func (h *Handlers) regenerateMinutes(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if err := regenerateMinutes(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, MeetingPath(id)+"/compte-rendu", "Brouillon régénéré à partir de la séance.")
}

func (h *Handlers) approveMinutes(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	// The meeting first, in the council: another council's is not found,
	// whatever the form says.
	if _, err := GetMeeting(c.UserContext(), h.DB, web.Council(c).ID, id); err != nil {
		return err
	}
	in, ok := web.FormInt64(c, "in")
	if !ok {
		return apperr.Fields{"in": "Choisissez la séance qui approuve."}.Err()
	}
	if err := ApproveMinutesAs(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id, in); err != nil {
		// The meeting that approves is the page the facilitator came from.
		if _, err := GetMeeting(c.UserContext(), h.DB, web.Council(c).ID, in); err != nil {
			return err
		}
		return h.refuseOnMeeting(c, in, "approve", err, nil)
	}
	return web.RedirectWithFlash(c, MeetingPath(in), "Compte rendu approuvé : il est public.")
}
