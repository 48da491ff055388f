package assembly

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"cla/catalog"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// rectifyForm is the voted rectification form, as typed (strings, so that a
// refused number comes back as it was typed), with its messages.
type rectifyForm struct {
	Decision, Meeting, Status, Reason, Minutes string
	Errors                                     apperr.Fields
}

// Statuses are the choices of the form's status select, after "keep".
func (rectifyForm) Statuses() []catalog.Status { return catalog.Statuses }

// typedRectifyForm reads the form as typed.
func typedRectifyForm(c *fiber.Ctx) rectifyForm {
	return rectifyForm{Decision: web.Form(c, "decision"), Meeting: web.Form(c, "meeting"), Status: web.Form(c, "status"),
		Reason: web.Form(c, "reason"), Minutes: web.Form(c, "minutes")}
}

// votedRectification parses the typed form; a number that does not parse is
// a message on its field.
func (f rectifyForm) votedRectification() (*VotedRectification, apperr.Fields) {
	errs := apperr.Fields{}
	r := &VotedRectification{Status: catalog.Status(f.Status), Reason: f.Reason, Minutes: defaultItemMinutes}
	if id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(f.Decision), "n° "), 10, 64); err == nil && id > 0 {
		r.DecisionID = id
	} else {
		errs.Add("decision", "Donnez le numéro de la décision à rectifier (il figure dans l'adresse de sa page : /decisions/42).")
	}
	if strings.TrimSpace(f.Minutes) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.Minutes))
		if err != nil || n < 1 || n > 600 {
			errs.Add("minutes", "La durée prévue va de 1 à 600 minutes.")
		}
		r.Minutes = n
	}
	return r, errs
}

// schedule runs ScheduleRectification when the form is valid. It returns
// status 0 once scheduled, or the status and reasons of a refusal to show
// beside the form; err only for a failure that is not a refusal.
func (h *Handlers) schedule(c *fiber.Ctx, meetingID int64, r *VotedRectification, errs apperr.Fields) (int, apperr.Fields, error) {
	if len(errs) > 0 {
		return fiber.StatusUnprocessableEntity, errs, nil
	}
	_, err := ScheduleRectification(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, meetingID, r)
	if err == nil {
		return 0, nil, nil
	}
	status, refused, ok := refusal(err, "rectify")
	if !ok {
		return 0, nil, err
	}
	return status, refused, nil
}

// scheduleRectification puts a voted rectification on the meeting's agenda
// (the agenda builder's form: the decision's number is typed). A refusal
// shows the meeting again with the form as typed and the reason beside the
// button.
func (h *Handlers) scheduleRectification(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	form := typedRectifyForm(c)
	r, errs := form.votedRectification()
	status, refused, err := h.schedule(c, id, r, errs)
	switch {
	case err != nil:
		return err
	case status == 0:
		return web.RedirectWithFlash(c, MeetingPath(id)+"#ordre-du-jour", "Rectification de la décision n° "+strconv.FormatInt(r.DecisionID, 10)+" inscrite à l'ordre du jour : elle sera votée.")
	case status == fiber.StatusNotFound:
		return apperr.New(apperr.NotFound, "%s", refused["rectify"]) // the meeting itself is not in this council
	}
	view, verr := h.meetingPageOf(c, id)
	if verr != nil {
		return verr
	}
	form.Errors = refused
	view.RectifyForm = form
	return web.RenderStatus(c, status, "governance/meeting", view)
}

// proposeRectification is the same from the decision's page: the meeting is
// chosen among those to come. A refusal shows the decision again with the
// form as typed.
func (h *Handlers) proposeRectification(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	form := typedRectifyForm(c)
	form.Decision = strconv.FormatInt(id, 10)
	r, errs := form.votedRectification()
	meeting, ok := web.FormInt64(c, "meeting")
	if !ok || meeting <= 0 {
		errs.Add("meeting", "Choisissez la séance où la rectification sera votée.")
	}
	status, refused, err := h.schedule(c, meeting, r, errs)
	switch {
	case err != nil:
		return err
	case status == 0:
		return web.RedirectWithFlash(c, MeetingPath(meeting)+"#ordre-du-jour", "Rectification de la décision n° "+strconv.FormatInt(id, 10)+" inscrite à l'ordre du jour : elle sera votée.")
	case status == fiber.StatusNotFound:
		// Another council's meeting, or one since deleted: said beside the select.
		status, refused = fiber.StatusUnprocessableEntity, apperr.Fields{"meeting": "Cette séance n'existe pas dans ce conseil."}
	}
	view, verr := h.decisionView(c)
	if verr != nil {
		return verr
	}
	form.Errors = refused
	view.Correction.Voted = form
	view.Correction.CanRectify = auth.Can(c, authz.ManageMeeting)
	return web.RenderStatus(c, status, "governance/decision", view)
}

// fillVotedRectification adds the meetings a voted rectification may go to,
// for the decision page's form.
func (h *Handlers) fillVotedRectification(c *fiber.Ctx, p *correctionPanel) error {
	if !p.CanRectify {
		return nil
	}
	p.Voted.Minutes = strconv.Itoa(defaultItemMinutes)
	return h.DB.NewSelect().Model(&p.Meetings).Column("id", "title", "starts_at", "state").
		Where("council_id = ? AND state IN (?, ?)", web.Council(c).ID, MeetingPlanned, MeetingOpen).
		Order("starts_at").Limit(20).Scan(c.UserContext())
}
