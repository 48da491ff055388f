package assembly

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/web"
)

// proxyPanel is the proxies part of a meeting's page.
type proxyPanel struct {
	Proxies []Proxy // members only
	Active  int
	Members []auth.Member // the council's active members, for the forms
	Mine    *Proxy        // the viewer's active proxy, given for this meeting
	// CanGive: the viewer may give a proxy now; CanRecord: the facilitator
	// may record one from a signed paper.
	CanGive, CanRecord bool
	Rules              MeetingRules
	// Errors and Form are a refused form's messages and what was typed.
	Errors apperr.Fields
	Form   proxyForm
}

// proxyForm is a proxy form as typed.
type proxyForm struct {
	Giver, Holder int64
	Paper         bool // the facilitator's form (from a signed paper)
}

// refusal turns a refused action's error into the status and messages that
// re-show its form (ok false: the error is no refusal, answer it as such).
func refusal(err error, field string) (int, apperr.Fields, bool) {
	if f := apperr.FieldsOf(err); f != nil {
		return fiber.StatusUnprocessableEntity, f, true
	}
	switch apperr.CodeOf(err) {
	case apperr.Conflict:
		return fiber.StatusConflict, apperr.Fields{field: apperr.MessageOf(err)}, true
	case apperr.Forbidden:
		return fiber.StatusForbidden, apperr.Fields{field: apperr.MessageOf(err)}, true
	case apperr.NotFound:
		return fiber.StatusNotFound, apperr.Fields{field: apperr.MessageOf(err)}, true
	}
	return 0, nil, false
}

// fillProxyPanel adds the proxies to a meeting's page.
func (h *Handlers) fillProxyPanel(c *fiber.Ctx, view *MeetingView) error {
	panel := &proxyPanel{Rules: view.Quorum.Rules}
	view.Proxy = panel
	if !view.CanVote && !view.CanManage {
		return nil
	}
	ctx, co := c.UserContext(), web.Council(c)
	var err error
	// The meeting's proxies and roll come with its shared data (meetingData):
	// the proxies are copied, since the panel marks them for this viewer.
	panel.Proxies = append([]Proxy(nil), view.data.proxies...)
	onRoll := view.data.roll
	viewer := web.ViewerOf(c)
	holds := false
	for i := range panel.Proxies {
		p := &panel.Proxies[i]
		if p.State != ProxyActive {
			continue
		}
		panel.Active++
		_, answered := onRoll[p.GiverID]
		p.Revocable = !answered && (view.CanManage || (viewer != nil && p.GiverID == viewer.AccountID))
		if viewer != nil && p.GiverID == viewer.AccountID {
			panel.Mine = p
		}
		if viewer != nil && p.HolderID == viewer.AccountID {
			holds = true
		}
	}
	open := view.Meeting.State == MeetingPlanned || view.Meeting.State == MeetingOpen
	panel.CanGive = open && view.CanVote && viewer != nil && panel.Mine == nil && !holds && onRoll[viewer.AccountID] != Present
	panel.CanRecord = open && view.CanManage
	if panel.CanGive || panel.CanRecord {
		if panel.Members, err = auth.ActiveMembersByName(ctx, h.DB, co.ID); err != nil {
			return err
		}
	}
	return nil
}

// refuseProxy shows the meeting page again with a proxy form's messages and
// what was typed.
func (h *Handlers) refuseProxy(c *fiber.Ctx, status int, errs apperr.Fields, form proxyForm) error {
	view, err := h.meetingPage(c)
	if err != nil {
		return err
	}
	view.Proxy.Errors, view.Proxy.Form = errs, form
	// The refused form is shown again, as typed, even when the page would
	// not offer it now (the proxy given meanwhile from another tab).
	if _, revoke := errs["revoke"]; !revoke && view.CanVote {
		if form.Paper {
			view.Proxy.CanRecord = view.CanManage
		} else {
			view.Proxy.CanGive = true
		}
		if view.Proxy.Members == nil {
			if view.Proxy.Members, err = auth.ActiveMembersByName(c.UserContext(), h.DB, web.Council(c).ID); err != nil {
				return err
			}
		}
	}
	return web.RenderStatus(c, status, "governance/meeting", view)
}

// giveProxy: a member gives their proxy for the meeting (on the site), or
// the facilitator records one from a signed paper (paper).
func (h *Handlers) giveProxy(paper bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := web.ParamID(c, "id")
		if err != nil {
			return err
		}
		viewer := web.ViewerOf(c)
		form := proxyForm{Paper: paper}
		form.Holder, _ = web.FormInt64(c, "holder")
		p := &Proxy{CouncilID: web.Council(c).ID, MeetingID: id, HolderID: form.Holder, GiverID: viewer.AccountID, Source: ProxyOnSite}
		if paper {
			form.Giver, _ = web.FormInt64(c, "giver")
			p.GiverID, p.Source = form.Giver, ProxyPaper
		}
		err = GiveProxy(c.UserContext(), h.DB, auth.ActorOf(viewer), p)
		if status, errs, ok := refusal(err, "holder"); ok {
			return h.refuseProxy(c, status, errs, form)
		} else if err != nil {
			return err
		}
		return web.RedirectWithFlash(c, MeetingPath(id)+"#procurations", "Procuration de "+p.GiverName+" à "+p.HolderName+" enregistrée.")
	}
}

func (h *Handlers) revokeProxy(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	pid, err := web.ParamID(c, "proxy")
	if err != nil {
		return err
	}
	asGiver := !auth.Can(c, authz.ManageMeeting)
	err = RevokeProxy(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id, pid, asGiver)
	if status, errs, ok := refusal(err, "revoke"); ok {
		return h.refuseProxy(c, status, errs, proxyForm{})
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, MeetingPath(id)+"#procurations", "Procuration révoquée.")
}

// voteProxyPanel is the part of an open vote's page where a proxy's holder
// casts the ballots they carry, and the facilitator enters paper ballots.
type voteProxyPanel struct {
	Held  []ballotForm // one per proxy the viewer holds
	Paper *ballotForm  // the facilitator's paper ballot form
	// Present are the members present, for the paper ballot.
	Present []rollEntry
	// Errors is a refusal that has no form to show again (a proxy gone).
	Errors apperr.Fields
}

// ballotForm is a ballot form for someone else's ballot: by proxy or on
// paper.
type ballotForm struct {
	Vote    *Vote
	For     int64  // the member whose ballot it is (0: chosen in the form)
	ForName string // their name
	Ballot  *Ballot
	Prefix  string // of the form's element ids
	Action  string
	Errors  apperr.Fields
	Grades  []boussole.Grade
	CSRF    string
	// Members are the members present to choose from (paper ballots).
	Members []rollEntry
}

// Order is the fields' order for the form's error summary.
func (f ballotForm) Order() string {
	if f.Members != nil {
		return "member choice: grades: reason"
	}
	return "member: choice: grades: reason"
}

// Choices are the answers of a majority vote.
func (f ballotForm) Choices() []Choice { return []Choice{ChoiceFor, ChoiceAgainst, ChoiceAbstain} }

// Chose reports whether the ballot holds choice ch.
func (f ballotForm) Chose(ch Choice) bool { return f.Ballot != nil && f.Ballot.Choice == ch }

// Grade is the ballot's grade for option i.
func (f ballotForm) Grade(i int) boussole.Grade {
	if f.Ballot == nil || i >= len(f.Ballot.Grades) {
		return boussole.NoOpinion
	}
	return boussole.Grade(f.Ballot.Grades[i])
}

// Reason is the ballot's reason.
func (f ballotForm) Reason() string {
	if f.Ballot == nil {
		return ""
	}
	return f.Ballot.Reason
}

// fillVoteProxies adds the proxy holder's and the paper ballot forms to an
// open online vote of a meeting.
func (h *Handlers) fillVoteProxies(c *fiber.Ctx, view *voteView) error {
	v := view.Vote
	view.Proxy = &voteProxyPanel{}
	if v.Closed() || v.InRoom() || v.ClosesAt != nil {
		return nil
	}
	ctx, co, viewer := c.UserContext(), web.Council(c), web.ViewerOf(c)
	csrf := view.CSRFToken
	if view.CanVote && viewer != nil {
		held, err := heldProxies(ctx, h.DB, co.ID, v.MeetingID, viewer.AccountID)
		if err != nil {
			return err
		}
		for _, p := range held {
			mine, err := MyBallot(ctx, h.DB, co.ID, v.ID, p.GiverID)
			if err != nil {
				return err
			}
			if mine != nil && mine.Via != BallotByProxy {
				mine = nil
			}
			view.Proxy.Held = append(view.Proxy.Held, ballotForm{Vote: v, For: p.GiverID, ForName: p.GiverName, Ballot: mine,
				Prefix: "p" + strconv.FormatInt(p.GiverID, 10) + "-", Action: "/votes/" + strconv.FormatInt(v.ID, 10) + "/procuration",
				Grades: boussole.Grades, CSRF: csrf})
		}
	}
	if view.CanManage {
		roll, err := Roll(ctx, h.DB, co.ID, v.MeetingID)
		if err != nil {
			return err
		}
		for _, r := range roll {
			if r.Status == Present {
				view.Proxy.Present = append(view.Proxy.Present, r)
			}
		}
		view.Proxy.Paper = &ballotForm{Vote: v, Prefix: "papier-", Action: "/votes/" + strconv.FormatInt(v.ID, 10) + "/papier",
			Grades: boussole.Grades, CSRF: csrf, Members: view.Proxy.Present}
		if view.Proxy.Paper.Members == nil {
			view.Proxy.Paper.Members = []rollEntry{}
		}
	}
	return nil
}

// ballotFromForm reads a ballot's fields.
func ballotFromForm(c *fiber.Ctx) *Ballot {
	b := &Ballot{Choice: Choice(web.Form(c, "choice")), Reason: web.Form(c, "reason")}
	for i := 1; i <= maxVoteOptions; i++ {
		raw := web.Form(c, "g"+strconv.Itoa(i))
		if raw == "" {
			break
		}
		g, _ := boussole.ParseGrade(raw)
		b.Grades = append(b.Grades, int16(g))
	}
	return b
}

// castOther casts a ballot for another member: by proxy (its holder, the
// viewer) or on paper (the facilitator). A refusal shows the vote page again
// with the form as typed and the reason.
func (h *Handlers) castOther(via BallotVia) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := web.ParamID(c, "id")
		if err != nil {
			return err
		}
		ctx, co, viewer := c.UserContext(), web.Council(c), web.ViewerOf(c)
		member, _ := web.FormInt64(c, "member")
		b := ballotFromForm(c)
		typed := *b
		if via == BallotOnPaper {
			err = RecordPaperBallot(ctx, h.DB, auth.ActorOf(viewer), co.ID, id, member, b)
		} else {
			err = h.ballots.CastAs(ctx, co.ID, id, member, viewer.AccountID, via, b)
		}
		if status, errs, ok := refusal(err, "member"); ok {
			view, verr := h.voteView(c)
			if verr != nil {
				return verr
			}
			form := view.Proxy.Paper
			for i := range view.Proxy.Held {
				if via == BallotByProxy && view.Proxy.Held[i].For == member {
					form = &view.Proxy.Held[i]
				}
			}
			if form == nil {
				// The proxy is gone: no form to show again, the reason
				// above the ballots.
				view.Proxy.Errors = errs
				return web.RenderStatus(c, status, "governance/vote", view)
			}
			form.Errors, form.Ballot = errs, &typed
			if via == BallotOnPaper {
				form.For = member
			}
			return web.RenderStatus(c, status, "governance/vote", view)
		} else if err != nil {
			return err
		}
		msg := "Bulletin par procuration enregistré."
		if via == BallotOnPaper {
			msg = "Bulletin papier enregistré, saisi par " + viewer.Name + "."
		}
		return web.RedirectWithFlash(c, "/votes/"+strconv.FormatInt(id, 10), msg)
	}
}
