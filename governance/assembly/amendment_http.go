package assembly

import (
	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// amendPanel is the amendments part of a minutes page.
type amendPanel struct {
	Amendments []Amendment
	// CanSuggest: the viewer was present and the minutes are a draft.
	CanSuggest bool
	// Form and Errors are a refused suggestion as typed, with its messages.
	Form   Amendment
	Errors apperr.Fields
	// AnswerFor is the amendment whose refused answer is shown again, with
	// AnswerErrors and what was typed (Answer).
	AnswerFor    int64
	Answer       string
	AnswerErrors apperr.Fields
}

// fillAmendPanel adds the amendments and the approving meeting to a minutes
// page.
func (h *Handlers) fillAmendPanel(c *fiber.Ctx, view *minutesView) error {
	view.Amend = &amendPanel{}
	if view.Minutes == nil {
		return nil
	}
	ctx, co := c.UserContext(), web.Council(c)
	if view.Minutes.ApprovedInID != nil {
		in, err := GetMeeting(ctx, h.DB, co.ID, *view.Minutes.ApprovedInID)
		if err != nil {
			return err
		}
		view.ApprovedIn = in
	}
	if !auth.Can(c, authz.ReadDraftMinutes) {
		return nil
	}
	var err error
	if view.Amend.Amendments, err = Amendments(ctx, h.DB, co.ID, view.Meeting.ID); err != nil {
		return err
	}
	if viewer := web.ViewerOf(c); viewer != nil && !view.Minutes.Approved() && auth.Can(c, authz.AmendMinutes) {
		view.Amend.CanSuggest, err = h.DB.NewSelect().Model((*Attendance)(nil)).
			Where("meeting_id = ? AND council_id = ? AND member_id = ? AND status = ?", view.Meeting.ID, co.ID, viewer.AccountID, Present).Exists(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// refuseAmend shows the minutes page again (status) with a refused form.
func (h *Handlers) refuseAmend(c *fiber.Ctx, status int, fill func(*amendPanel)) error {
	view, err := h.minutesView(c)
	if err != nil {
		return err
	}
	if view.Minutes == nil {
		return apperr.New(apperr.NotFound, "Le compte rendu de cette séance n'est pas encore rédigé.")
	}
	fill(view.Amend)
	return web.RenderStatus(c, status, "governance/minutes", view)
}

func (h *Handlers) suggestAmendment(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	a := &Amendment{CouncilID: web.Council(c).ID, MeetingID: id, Passage: web.Form(c, "passage"),
		Replacement: web.Form(c, "replacement"), Note: web.Form(c, "note")}
	typed := *a
	err = SuggestAmendment(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), a)
	if status, errs, ok := refusal(err, "passage"); ok {
		return h.refuseAmend(c, status, func(p *amendPanel) {
			p.Form, p.Errors, p.CanSuggest = typed, errs, true
		})
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, MeetingPath(id)+"/compte-rendu#amendements", "Amendement proposé : l'animation y répondra.")
}

func (h *Handlers) answerAmendment(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	aid, err := web.ParamID(c, "amendment")
	if err != nil {
		return err
	}
	answer := web.Form(c, "answer")
	err = AnswerAmendment(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id, aid, web.FormIs(c, "decision", "accepter"), answer)
	if status, errs, ok := refusal(err, "answer"); ok {
		return h.refuseAmend(c, status, func(p *amendPanel) {
			p.AnswerFor, p.Answer, p.AnswerErrors = aid, answer, errs
		})
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, MeetingPath(id)+"/compte-rendu#amendements", "Réponse à l'amendement enregistrée.")
}
