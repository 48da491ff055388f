package assembly

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/governance/debate"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/database"
	"cla/internal/pagecache"
	"cla/internal/text"
	"cla/internal/web"
)

// Handlers serves the meetings, votes, decisions, minutes and their feeds.
type Handlers struct {
	DB *bun.DB

	ballots *BallotWriter // set by Routes
}

// Routes lists the routes of meetings, votes, decisions, minutes and their
// feeds.
func (h *Handlers) Routes(app fiber.Router) {
	h.ballots = NewBallotWriter(h.DB)
	app.Get("/seances", pagecache.Handler(pagecache.PageMeetings, web.Gated(h.meetings)))
	app.Post("/seances", auth.Require(authz.ManageMeeting), h.createMeeting)
	app.Get("/seances/regles", auth.Require(authz.SetMeetingRules), web.Gated(h.rulesForm))
	app.Post("/seances/regles", auth.Require(authz.SetMeetingRules), h.saveRules)
	app.Get("/seances/:id", pagecache.Handler(pagecache.PageMeetings, web.Gated(h.meeting)))
	app.Post("/seances/:id/etat", auth.Require(authz.ManageMeeting), h.meetingState)
	app.Post("/seances/:id/modifier", auth.Require(authz.ManageMeeting), h.editMeeting)
	app.Post("/seances/:id/ordre-du-jour", auth.Require(authz.ManageMeeting), h.addAgendaItem)
	app.Post("/seances/:id/ordre-du-jour/rectification", auth.Require(authz.ManageMeeting), h.scheduleRectification)
	app.Post("/seances/:id/ordre-du-jour/:item/deplacer", auth.Require(authz.ManageMeeting), h.moveAgendaItem)
	app.Post("/seances/:id/ordre-du-jour/:item/retirer", auth.Require(authz.ManageMeeting), h.removeAgendaItem)
	app.Post("/seances/:id/appel", auth.Require(authz.ManageMeeting), h.takeRoll)
	app.Post("/seances/:id/votes", auth.Require(authz.ManageMeeting), h.openVote)
	app.Get("/seances/:id/convocation", pagecache.Handler(pagecache.PageMeetings, web.Gated(h.convocation)))
	app.Get("/seances/:id/dossier", pagecache.Handler(pagecache.PageMeetings, web.Gated(h.meetingPack)))
	app.Get("/seances/:id/compte-rendu", pagecache.Handler(pagecache.PageMinutes, web.Gated(h.minutes)))
	app.Post("/seances/:id/compte-rendu", auth.Require(authz.ManageMeeting), h.saveMinutes)
	app.Post("/seances/:id/compte-rendu/regenerer", auth.Require(authz.ManageMeeting), h.regenerateMinutes)
	app.Post("/seances/:id/compte-rendu/approuver", auth.Require(authz.ManageMeeting), h.approveMinutes)
	app.Post("/seances/:id/compte-rendu/amendements", auth.Require(authz.AmendMinutes), h.suggestAmendment)
	app.Post("/seances/:id/compte-rendu/amendements/:amendment", auth.Require(authz.ManageMeeting), h.answerAmendment)
	app.Get("/votes/:id", web.Gated(h.vote))
	app.Post("/votes/:id/bulletin", auth.Require(authz.CastBallot), h.castBallot)
	app.Post("/votes/:id/cloture", auth.Require(authz.ManageMeeting), h.closeVote)
	app.Post("/votes/:id/correction", auth.Require(authz.ManageMeeting), h.correctCount)
	app.Post("/votes/:id/publication", auth.Require(authz.ManageMeeting), h.publishVoteResult)
	app.Post("/votes/:id/procuration", auth.Require(authz.CastBallot), h.castOther(BallotByProxy))
	app.Post("/votes/:id/papier", auth.Require(authz.ManageMeeting), h.castOther(BallotOnPaper))
	app.Post("/seances/:id/procurations", auth.Require(authz.GiveProxy), h.giveProxy(false))
	app.Post("/seances/:id/procurations/papier", auth.Require(authz.ManageMeeting), h.giveProxy(true))
	app.Post("/seances/:id/procurations/:proxy/revoquer", auth.Require(authz.GiveProxy), h.revokeProxy)
	app.Get("/decisions", pagecache.Handler(pagecache.PageDecisions, web.Gated(h.decisions)))
	app.Get("/decisions.atom", pagecache.Handler(pagecache.PageFeeds, web.Gated(h.decisionsAtom)))
	app.Get("/decisions/:id", pagecache.Handler(pagecache.PageDecisions, web.Gated(h.decision)))
	app.Post("/decisions/:id/rectifier", auth.Require(authz.ManageMeeting), h.rectifyDecision)
	app.Post("/decisions/:id/rectification-votee", auth.Require(authz.ManageMeeting), h.proposeRectification)
	app.Get("/meetings.ics", pagecache.Handler(pagecache.PageFeeds, web.Gated(h.meetingsICS)))
}

// formInt is the form field name as a whole number, 0 when it is not one.
func formInt(c *fiber.Ctx, name string) int {
	n, _ := web.FormInt(c, name)
	return n
}

// formWhole reads a required whole number (0 or more) typed in a form field,
// and returns it with "" or a French message saying what is wrong. An empty
// field is missing, not 0. It is parsed within int32: a few such numbers
// added together cannot overflow.
func formWhole(c *fiber.Ctx, name string) (int, string) {
	raw := strings.TrimSpace(web.Form(c, name))
	if raw == "" {
		return 0, "Saisissez un nombre (0 s'il n'y en a pas)."
	}
	n, err := strconv.ParseInt(raw, 10, 32)
	switch {
	case errors.Is(err, strconv.ErrRange) && raw[0] != '-':
		return 0, "Ce nombre est bien trop grand."
	case err != nil:
		return 0, "Saisissez un nombre entier, en chiffres (0, 1, 2…)."
	case n < 0:
		return 0, "Saisissez un nombre positif ou nul."
	}
	return int(n), ""
}

// MeetingPath is the address of a meeting's page.
func MeetingPath(id int64) string { return "/seances/" + strconv.FormatInt(id, 10) }

// meetingsView lists the council's meetings.
type meetingsView struct {
	web.Page
	Upcoming  []Meeting
	Past      []Meeting
	CanManage bool
	CanRules  bool
	Errors    apperr.Fields
	Form      Meeting
	// StartsAt and Duration are the schedule form's fields as typed, so that a
	// rejected form gives them back unchanged.
	StartsAt string
	Duration string
}

func (h *Handlers) meetingsView(c *fiber.Ctx) (meetingsView, error) {
	ms, err := Meetings(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return meetingsView{}, err
	}
	view := meetingsView{Page: web.NewPage(c, "Séances du Conseil"), CanManage: auth.Can(c, authz.ManageMeeting), CanRules: auth.Can(c, authz.SetMeetingRules),
		Duration: "120"}
	now := time.Now()
	for _, m := range ms {
		if m.State != MeetingClosed && m.EndsAt.After(now.Add(-24*time.Hour)) {
			view.Upcoming = append([]Meeting{m}, view.Upcoming...)
		} else {
			view.Past = append(view.Past, m)
		}
	}
	return view, nil
}

func (h *Handlers) meetings(c *fiber.Ctx) error {
	view, err := h.meetingsView(c)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/meetings", view)
}

// meetingFromForm reads the schedule form (title, starts_at, duration in
// minutes, place, note) into m, and returns the refusals: the form's own
// (an unreadable date, a duration out of range) and then Meeting.Validate's.
func meetingFromForm(c *fiber.Ctx, m *Meeting) apperr.Fields {
	m.Title, m.Place, m.Note = web.Form(c, "title"), web.Form(c, "place"), web.Form(c, "note")
	errs := apperr.Fields{}
	raw := strings.TrimSpace(web.Form(c, "starts_at"))
	start, ok := web.ParseLocalTime(raw, web.Location(c))
	if !ok && raw != "" {
		errs.Add("starts_at", "Date et heure illisibles : choisissez-les dans le calendrier (jour, mois, année, heure).")
	}
	minutes, msg := formWhole(c, "duration")
	switch {
	case msg != "":
		errs.Add("ends_at", msg)
	case minutes < minMeetingMinutes || minutes > int(maxMeetingLength/time.Minute):
		errs.Add("ends_at", fmt.Sprintf("La durée va de %d à %d minutes (12 heures).", minMeetingMinutes, int(maxMeetingLength/time.Minute)))
	}
	if ok {
		// The duration is bounded before it is multiplied: no overflow.
		m.StartsAt, m.EndsAt = start, start.Add(time.Duration(max(minutes, 1))*time.Minute)
	}
	if f := apperr.FieldsOf(m.Validate()); f != nil {
		for k, v := range f {
			errs.Add(k, v)
		}
	}
	return errs
}

// meetingForm is the schedule form as typed, given back when it is refused.
type meetingForm struct {
	Title, StartsAt, Duration, Place, Note string
}

// typedMeetingForm copies the schedule form's fields (Fiber reuses their
// memory after the handler).
func typedMeetingForm(c *fiber.Ctx) meetingForm {
	return meetingForm{Title: web.Form(c, "title"), StartsAt: web.Form(c, "starts_at"),
		Duration: web.Form(c, "duration"), Place: web.Form(c, "place"), Note: web.Form(c, "note")}
}

func (h *Handlers) createMeeting(c *fiber.Ctx) error {
	m := &Meeting{CouncilID: web.Council(c).ID}
	errs := meetingFromForm(c, m)
	if len(errs) == 0 {
		path, err := web.CreateOnce(c, h.DB, func(ctx context.Context, tx bun.Tx) (string, error) {
			if err := CreateMeetingAs(ctx, tx, auth.ActorOf(web.ViewerOf(c)), m); err != nil {
				return "", err
			}
			return MeetingPath(m.ID), nil
		})
		if errs = apperr.FieldsOf(err); errs == nil {
			if err != nil {
				return err
			}
			return web.RedirectWithFlash(c, path, "Séance programmée.")
		}
	}
	view, err := h.meetingsView(c)
	if err != nil {
		return err
	}
	typed := typedMeetingForm(c)
	view.Errors, view.Form = errs, Meeting{Title: typed.Title, Place: typed.Place, Note: typed.Note}
	view.StartsAt, view.Duration = typed.StartsAt, typed.Duration
	return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/meetings", view)
}

// agendaEntry is an agenda item with what its page shows.
type agendaEntry struct {
	AgendaItem
	Votes     []Vote
	Decisions []Decision
	Link      string
}

// Votable reports whether a vote may open on the item (the open-vote form is
// offered only then; checkItemVotable is the same rule in OpenVote): a
// proposal, or a rectification, is voted once per agenda.
func (e agendaEntry) Votable() bool {
	return e.Kind != AgendaProposal && e.Kind != AgendaRectification || len(e.Votes) == 0
}

// agendaSuggestion is an item the agenda builder proposes.
type agendaSuggestion struct {
	Kind   AgendaKind
	ID     int64
	Title  string
	Reason string
}

// VoteFormFor is the open-vote form of an agenda item: as typed, with its
// messages, when it was refused; its defaults otherwise.
func (v MeetingView) VoteFormFor(it agendaEntry) voteForm {
	if v.VoteForm.Item == it.ID && v.VoteErrors != nil {
		f := v.VoteForm
		f.Errors = v.VoteErrors
		return f
	}
	f := voteForm{Item: it.ID, Method: string(MethodMajority), Threshold: string(ThresholdCast), Mode: ModeOnline, Secrecy: SecrecyAnonymous,
		Options: []voteOptionRow{{"Conventionner", string(catalog.Conventionne)}, {"Conventionner sous conditions", string(catalog.SousConditions)},
			{"Ne pas conventionner", string(catalog.NonConventionne)}}}
	switch it.Kind {
	case AgendaProposal:
		f.Question = "Adopter la proposition « " + it.Title + " » ?"
	case AgendaRectification:
		f.Question = it.Title + " ?"
	}
	return f
}

// MeetingView is a meeting's page.
type MeetingView struct {
	web.Page
	// data is the shared part the view was built from (meetingData).
	data        *meetingData
	Meeting     *Meeting
	Agenda      []agendaEntry
	Quorum      quorum
	Roll        []rollEntry
	Minutes     *Minutes
	Suggestions []agendaSuggestion
	CanManage   bool
	CanVote     bool
	Methods     []VoteMethod
	Thresholds  []Threshold
	Pending     []Minutes // closed meetings' drafts this meeting may approve
	PendingMeet []Meeting
	// EditForm is the edit form's fields (the meeting's, or as typed when
	// refused, with EditErrors).
	EditForm   meetingForm
	EditErrors apperr.Fields
	// VoteForm is the open-vote form refused for one agenda item, as typed,
	// with VoteErrors; the other items' forms show their defaults.
	VoteForm   voteForm
	VoteErrors apperr.Fields
	// Refusals are why an action of the page was refused, by the place of its
	// button: "state", "agenda", "roll", "approve" (the page is shown again
	// with the reason beside the button, never a bare error page).
	Refusals map[string]string
	// ConfirmOtherDay asks the facilitator to confirm opening, today, a
	// meeting convened for another day.
	ConfirmOtherDay bool
	// ItemForm is the free agenda item form: as typed with its messages when
	// refused, its defaults otherwise (set by loadMeetingView).
	ItemForm itemForm
	// Proxy is the proxies' part of the page (proxy_http.go).
	Proxy *proxyPanel
	// RectifyForm is the agenda builder's voted rectification form: as
	// typed with its messages when refused (rectification_http.go).
	RectifyForm rectifyForm
	// AgendaHTML is the agenda section rendered for every viewer of the
	// role (sharedAgenda), ManageHTML the facilitator's part
	// (sharedManage); empty, the page renders them itself.
	AgendaHTML, ManageHTML template.HTML
}

// itemForm is the free agenda item form.
type itemForm struct {
	Title, Minutes string
	Errors         apperr.Fields
}

// AgendaMinutes is the agenda's planned duration, in minutes.
func (v MeetingView) AgendaMinutes() int {
	n := 0
	for _, it := range v.Agenda {
		n += it.Minutes
	}
	return n
}

// AgendaLength says the planned duration in French: "1 h 45", "40 min".
func (v MeetingView) AgendaLength() string {
	n := v.AgendaMinutes()
	switch {
	case n < 60:
		return strconv.Itoa(n) + " min"
	case n%60 == 0:
		return strconv.Itoa(n/60) + " h"
	}
	return fmt.Sprintf("%d h %02d", n/60, n%60)
}

// plannedEnd is when the agenda ends if each item keeps its planned duration.
func (v MeetingView) plannedEnd() time.Time {
	return v.Meeting.StartsAt.Add(time.Duration(v.AgendaMinutes()) * time.Minute)
}

// PlannedEnd is the agenda's planned end, as a clock time ("20h15") in the
// council's time zone.
func (v MeetingView) PlannedEnd() string { return v.clock(v.plannedEnd()) }

// MeetingEnd is the meeting's planned end, as a clock time.
func (v MeetingView) MeetingEnd() string { return v.clock(v.Meeting.EndsAt) }

// Overruns reports whether the agenda ends after the meeting's planned end.
func (v MeetingView) Overruns() bool { return v.plannedEnd().After(v.Meeting.EndsAt) }

// ItemStart is when item i of the agenda is planned to start, as a clock
// time.
func (v MeetingView) ItemStart(i int) string {
	t := v.Meeting.StartsAt
	for _, it := range v.Agenda[:min(max(i, 0), len(v.Agenda))] {
		t = t.Add(time.Duration(it.Minutes) * time.Minute)
	}
	return v.clock(t)
}

// clock is t's time of day in the council's time zone: "18h30".
func (v MeetingView) clock(t time.Time) string {
	loc := web.Paris()
	if v.Council != nil {
		loc = v.Council.Location()
	}
	return t.In(loc).Format("15h04")
}

// voteForm is the open-vote form as typed.
type voteForm struct {
	Item                                       int64
	Question, Method, Threshold, Mode, Secrecy string
	Options                                    []voteOptionRow
	ClosesAt                                   string
	Errors                                     apperr.Fields // set by MeetingView.VoteFormFor
}

// voteOptionRows is how many option rows the open-vote form shows: a
// majority-judgment vote rarely has more, and the rules allow up to
// maxVoteOptions through more rows if ever needed.
const voteOptionRows = 6

// voteOptionRow is one majority-judgment option as the form shows it: a
// label typed freely, an effect chosen from a list (issue 20, point 8: no
// more "intitulé | sous_conditions" typed as codes).
type voteOptionRow struct {
	Label, Effect string
}

// optionEffectChoice is one entry of the effect list.
type optionEffectChoice struct {
	Value, Label string
}

// optionEffectChoices are the effects in French, in optionEffects' order.
var optionEffectChoices = []optionEffectChoice{
	{"", "Sans effet sur le registre"},
	{string(catalog.Conventionne), "Conventionner"},
	{string(catalog.SousConditions), "Conventionner sous conditions"},
	{string(catalog.NonConventionne), "Ne pas conventionner"},
	{string(catalog.DebatSouhaite), "Laisser en débat souhaité"},
	{"ajourner", "Ajourner"},
}

// OptionEffects lists the effects an option may have, for the form's lists.
func (MeetingView) OptionEffects() []optionEffectChoice { return optionEffectChoices }

// OptionRows is the form's option rows: the typed ones, then empty rows up
// to voteOptionRows.
func (f voteForm) OptionRows() []voteOptionRow {
	rows := append([]voteOptionRow(nil), f.Options...)
	for len(rows) < voteOptionRows {
		rows = append(rows, voteOptionRow{})
	}
	return rows
}

func (h *Handlers) loadMeetingView(c *fiber.Ctx, title string) (*MeetingView, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.loadMeetingViewOf(c, id, title)
}

// meetingData is what a meeting's page shows every viewer alike: the meeting,
// its agenda, votes (never their live ballots) and decisions, the roll's
// counts and the minutes. The page cache keeps it (pagecache.Cache.Value, the
// meetings' page group, dropped by any change to them and bounded by the
// group's MaxAge like the pages), so that the members following a meeting
// during a vote do not each run its six queries.
type meetingData struct {
	meeting   *Meeting
	items     []AgendaItem
	votes     []Vote
	decisions []Decision
	quorum    quorum
	minutes   *Minutes
	// proxies (names filled) and roll (member → status) are the proxy
	// panel's; copy the proxies before marking them for a viewer.
	proxies []Proxy
	roll    map[int64]AttendanceStatus
	// agenda is the agenda section rendered once for readers ([0]) and
	// once for facilitators ([1]), manage the facilitator's part, with
	// csrfStandIn in their forms (MeetingView.sharedAgenda,
	// Handlers.sharedManage).
	agenda [2]renderedOnce
	manage renderedOnce
}

// renderedOnce is a part of a page rendered on its first successful use:
// concurrent first uses wait for one rendering; a failed one (a request
// cancelled while it queried) is not kept.
type renderedOnce struct {
	mu   sync.Mutex
	done bool
	html string
}

// get returns the part, rendering it with render the first time.
func (r *renderedOnce) get(render func(w io.Writer) error) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done {
		var b strings.Builder
		if err := render(&b); err != nil {
			return "", err
		}
		r.html, r.done = b.String(), true
	}
	return r.html, nil
}

// withToken is a part rendered with csrfStandIn, carrying token instead.
func withToken(html, token string) template.HTML {
	return template.HTML(strings.ReplaceAll(html, csrfStandIn, token)) //nolint:gosec // html/template's output; the token is URL-safe base64
}

// csrfStandIn takes the place of the CSRF token in a part of a page rendered
// once for many viewers; each request puts its own token in its place. It is
// drawn at start so that no text a member writes can contain it.
var csrfStandIn = "csrf-stand-in-" + auth.NewToken()

// agendaShared turns sharedAgenda on; a test compares both renderings.
var agendaShared = func() *atomic.Bool { var b atomic.Bool; b.Store(true); return &b }()

// loadMeetingData reads a meeting's shared data, in a fixed number of queries.
func loadMeetingData(ctx context.Context, db bun.IDB, councilID, id int64) (*meetingData, error) {
	var d meetingData
	var err error
	if d.meeting, err = GetMeeting(ctx, db, councilID, id); err != nil {
		return nil, err
	}
	if d.items, err = Agenda(ctx, db, councilID, id); err != nil {
		return nil, err
	}
	if d.votes, err = MeetingVotes(ctx, db, councilID, id); err != nil {
		return nil, err
	}
	if d.decisions, err = meetingDecisions(ctx, db, councilID, id); err != nil {
		return nil, err
	}
	if d.quorum, err = quorumOf(ctx, db, councilID, id); err != nil {
		return nil, err
	}
	if d.minutes, err = GetMinutes(ctx, db, councilID, id); err != nil {
		return nil, err
	}
	if d.proxies, err = MeetingProxies(ctx, db, councilID, id); err != nil {
		return nil, err
	}
	var roll []Attendance
	if err := db.NewSelect().Model(&roll).Column("member_id", "status").
		Where("council_id = ? AND meeting_id = ?", councilID, id).Scan(ctx); err != nil {
		return nil, err
	}
	d.roll = make(map[int64]AttendanceStatus, len(roll))
	for _, a := range roll {
		d.roll[a.MemberID] = a.Status
	}
	return &d, nil
}

// loadMeetingViewOf is loadMeetingView of meeting id.
func (h *Handlers) loadMeetingViewOf(c *fiber.Ctx, id int64, title string) (*MeetingView, error) {
	ctx, co := c.UserContext(), web.Council(c)
	load := func() (any, error) { return loadMeetingData(ctx, h.DB, co.ID, id) }
	var v any
	var err error
	if cache := pagecache.Of(c); cache != nil {
		v, err = cache.Value(co.ID, pagecache.PageMeetings, "meeting:"+strconv.FormatInt(id, 10), load)
	} else {
		v, err = load()
	}
	if err != nil {
		return nil, err
	}
	d := v.(*meetingData)
	m, items, votes, decisions, q, mins := d.meeting, d.items, d.votes, d.decisions, d.quorum, d.minutes
	if title == "" {
		title = m.Title
	}
	view := &MeetingView{Page: web.NewPage(c, title), data: d, Meeting: m, Quorum: q, Minutes: mins,
		EditForm: meetingForm{Title: m.Title, Place: m.Place, Note: m.Note,
			StartsAt: m.StartsAt.In(web.Location(c)).Format("2006-01-02T15:04"), Duration: strconv.Itoa(int(m.EndsAt.Sub(m.StartsAt).Minutes()))},
		CanManage: auth.Can(c, authz.ManageMeeting), CanVote: auth.Can(c, authz.CastBallot), ItemForm: itemForm{Minutes: strconv.Itoa(defaultItemMinutes)},
		RectifyForm: rectifyForm{Minutes: strconv.Itoa(defaultItemMinutes)},
		Methods:     []VoteMethod{MethodMajority, MethodConsent, MethodJudgment}, Thresholds: []Threshold{ThresholdCast, ThresholdTwoThirds, ThresholdOfPresents}}
	for _, it := range items {
		e := agendaEntry{AgendaItem: it}
		switch {
		case it.ProposalID != nil:
			e.Link = "/propositions/" + strconv.FormatInt(*it.ProposalID, 10)
		case it.DebateID != nil:
			e.Link = "/debats/" + it.DebateSlug
		case it.RectifiesID != nil:
			e.Link = "/decisions/" + strconv.FormatInt(*it.RectifiesID, 10)
		}
		for _, v := range votes {
			if v.AgendaItemID == it.ID {
				e.Votes = append(e.Votes, v)
			}
		}
		for _, d := range decisions {
			if d.AgendaItemID == it.ID {
				e.Decisions = append(e.Decisions, d)
			}
		}
		view.Agenda = append(view.Agenda, e)
	}
	return view, nil
}

func (h *Handlers) meeting(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	view, err := h.loadMeetingViewOf(c, id, "")
	if err != nil {
		return err
	}
	if view.ManageHTML, err = h.sharedManage(c, view); err != nil {
		return err
	}
	if view.ManageHTML == "" {
		if err := h.fillManagerView(c, view); err != nil {
			return err
		}
	}
	if err := h.fillProxyPanel(c, view); err != nil {
		return err
	}
	if view.AgendaHTML, err = view.sharedAgenda(c); err != nil {
		return err
	}
	return web.Render(c, "governance/meeting", view)
}

// shareable reports whether the view's shared parts may be used: it has
// them (meetingData), and no form of the page is shown again as typed.
func (v *MeetingView) shareable() bool {
	return v.data != nil && agendaShared.Load() && v.VoteForm.Item == 0 && v.VoteErrors == nil &&
		len(v.Refusals) == 0 && !v.ConfirmOtherDay && v.EditErrors == nil && v.ItemForm.Errors == nil && v.RectifyForm.Errors == nil
}

// sharedAgenda is the agenda section (template governance/meeting-agenda)
// for the viewer's role, rendered once per change of the meeting: during a
// vote every present member reloads the page, and a facilitator's agenda
// (a vote-opening form per item) was most of the page's cost. Each request
// only puts its CSRF token in the forms. A page shown again with a refused
// form renders its agenda itself (the form as typed, its messages).
func (v *MeetingView) sharedAgenda(c *fiber.Ctx) (template.HTML, error) {
	if !v.shareable() {
		return "", nil
	}
	part := &v.data.agenda[0]
	if v.CanManage {
		part = &v.data.agenda[1]
	}
	return v.renderShared(c, part, "governance/meeting-agenda", nil)
}

// renderShared is part, rendered the first time from a copy of the view
// carrying csrfStandIn (fill, when given, completes that copy first), with
// the viewer's token in its forms.
func (v *MeetingView) renderShared(c *fiber.Ctx, part *renderedOnce, name string, fill func(*MeetingView) error) (template.HTML, error) {
	html, err := part.get(func(w io.Writer) error {
		standIn := *v
		standIn.CSRFToken = csrfStandIn
		if fill != nil {
			if err := fill(&standIn); err != nil {
				return err
			}
		}
		return web.RenderTo(c, w, name, &standIn)
	})
	return withToken(html, v.CSRFToken), err
}

// sharedManage is the facilitator's part of the page (template
// governance/meeting-manage), its data read (fillManagerView: the roll, the
// agenda builder's suggestions, the minutes to approve) and rendered once per
// change of the meeting, or "" for a reader or a page shown again with a
// refusal.
func (h *Handlers) sharedManage(c *fiber.Ctx, v *MeetingView) (template.HTML, error) {
	if !v.CanManage || !v.shareable() {
		return "", nil
	}
	return v.renderShared(c, &v.data.manage, "governance/meeting-manage", func(standIn *MeetingView) error {
		return h.fillManagerView(c, standIn)
	})
}

// meetingPage is the whole page of the meeting of the request's :id: what
// everyone sees, the facilitator's part and the proxies. The page and every
// form re-shown on it with a refusal start from it, so none lacks a part.
func (h *Handlers) meetingPage(c *fiber.Ctx) (*MeetingView, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.meetingPageOf(c, id)
}

// meetingPageOf is meetingPage of meeting id.
func (h *Handlers) meetingPageOf(c *fiber.Ctx, id int64) (*MeetingView, error) {
	view, err := h.loadMeetingViewOf(c, id, "")
	if err != nil {
		return nil, err
	}
	if err := h.fillManagerView(c, view); err != nil {
		return nil, err
	}
	if err := h.fillProxyPanel(c, view); err != nil {
		return nil, err
	}
	return view, nil
}

// fillManagerView adds what the facilitator's part of a meeting page shows:
// the roll, the agenda suggestions and the minutes waiting for approval.
func (h *Handlers) fillManagerView(c *fiber.Ctx, view *MeetingView) error {
	if !view.CanManage {
		return nil
	}
	ctx, co := c.UserContext(), web.Council(c)
	var err error
	if view.Roll, err = rollOf(ctx, h.DB, view.Meeting); err != nil {
		return err
	}
	if view.Meeting.State != MeetingClosed {
		if view.Suggestions, err = agendaSuggestions(ctx, h.DB, co.ID, view.Meeting.ID); err != nil {
			return err
		}
	}
	if view.Meeting.State == MeetingOpen {
		if err := h.DB.NewSelect().Model(&view.PendingMeet).Column("id", "title", "starts_at").
			Where("council_id = ? AND state = ? AND starts_at < ?", co.ID, MeetingClosed, view.Meeting.StartsAt).
			Where("EXISTS (SELECT 1 FROM minutes mi WHERE mi.meeting_id = meeting.id AND mi.council_id = meeting.council_id AND mi.state = ?)", minutesDraft).
			Order("starts_at").Limit(20).Scan(ctx); err != nil {
			return err
		}
	}
	return nil
}

// agendaSuggestions is the agenda builder: open proposals with enough graders,
// adjourned proposals, and the most supported requested debates, leaving out
// what this meeting's agenda already holds. Three queries.
func agendaSuggestions(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]agendaSuggestion, error) {
	const minGraders = 3
	var out []agendaSuggestion
	var ripe []struct {
		ID      int64  `bun:"id"`
		Title   string `bun:"title"`
		State   string `bun:"state"`
		Graders int    `bun:"graders"`
		onAgenda
	}
	// on_* is the latest other meeting (not cancelled) whose agenda holds the
	// proposal: the builder knows every meeting's agenda, not only this one's.
	err := db.NewRaw(`SELECT p.id, p.title, p.state, count(DISTINCT s.account_id) AS graders,
		om.id AS on_id, om.title AS on_title, om.starts_at AS on_starts_at, om.state AS on_state
		FROM proposals p LEFT JOIN proposal_scores s ON s.proposal_id = p.id AND s.council_id = p.council_id
		LEFT JOIN LATERAL (SELECT m.id, m.title, m.starts_at, m.state FROM agenda_items a
			JOIN meetings m ON m.id = a.meeting_id AND m.council_id = a.council_id
			WHERE a.proposal_id = p.id AND a.council_id = p.council_id AND m.state <> ?
			ORDER BY m.starts_at DESC LIMIT 1) om ON true
		WHERE p.council_id = ? AND p.state IN (?)
		AND NOT EXISTS (SELECT 1 FROM agenda_items a WHERE a.meeting_id = ? AND a.proposal_id = p.id)
		GROUP BY p.id, om.id, om.title, om.starts_at, om.state
		HAVING p.state <> ? OR count(DISTINCT s.account_id) >= ?
		ORDER BY (p.state = ?) DESC, graders DESC, p.id LIMIT 15`,
		MeetingCancelled, councilID, bun.List([]proposal.ProposalState{proposal.ProposalOpen, proposal.ProposalAdjourned, proposal.ProposalScheduled}),
		meetingID, proposal.ProposalOpen, minGraders, proposal.ProposalAdjourned).Scan(ctx, &ripe)
	if err != nil {
		return nil, err
	}
	for _, p := range ripe {
		reason := text.Count(p.Graders, "membre l'a évaluée", "membres l'ont évaluée")
		switch {
		case p.State == string(proposal.ProposalAdjourned):
			reason = "Ajournée lors d'une séance précédente"
			if p.OnID != nil {
				reason = "Ajournée à la " + p.describe()
			}
		case p.State == string(proposal.ProposalScheduled) && p.OnID != nil:
			reason = "Déjà à l'ordre du jour de la " + p.describe()
		case p.State == string(proposal.ProposalScheduled):
			reason = "Inscrite, mais à l'ordre du jour d'aucune séance"
		}
		out = append(out, agendaSuggestion{Kind: AgendaProposal, ID: p.ID, Title: p.Title, Reason: reason})
	}
	var debates []struct {
		ID       int64  `bun:"id"`
		Title    string `bun:"title"`
		Supports int    `bun:"supports"`
		onAgenda
	}
	err = db.NewRaw(`SELECT d.id, d.title, (SELECT count(*) FROM debate_supports s WHERE s.debate_id = d.id AND s.council_id = d.council_id) AS supports,
		om.id AS on_id, om.title AS on_title, om.starts_at AS on_starts_at, om.state AS on_state
		FROM debates d
		LEFT JOIN LATERAL (SELECT m.id, m.title, m.starts_at, m.state FROM agenda_items a
			JOIN meetings m ON m.id = a.meeting_id AND m.council_id = a.council_id
			WHERE a.debate_id = d.id AND a.council_id = d.council_id AND m.state <> ?
			ORDER BY m.starts_at DESC LIMIT 1) om ON true
		WHERE d.council_id = ? AND d.state = ?
		AND NOT EXISTS (SELECT 1 FROM agenda_items a WHERE a.meeting_id = ? AND a.debate_id = d.id)
		ORDER BY supports DESC, d.id LIMIT 5`, MeetingCancelled, councilID, debate.DebateRequested, meetingID).Scan(ctx, &debates)
	if err != nil {
		return nil, err
	}
	for _, d := range debates {
		reason := "Débat souhaité, " + text.Count(d.Supports, "soutien", "soutiens")
		if d.OnID != nil {
			reason += " ; déjà à l'ordre du jour de la " + d.describe()
		}
		out = append(out, agendaSuggestion{Kind: AgendaDebate, ID: d.ID, Title: d.Title, Reason: reason})
	}
	return out, nil
}

// onAgenda is the other meeting whose agenda holds a suggested proposal or
// debate (nil fields: none).
type onAgenda struct {
	OnID       *int64        `bun:"on_id"`
	OnTitle    *string       `bun:"on_title"`
	OnStartsAt *time.Time    `bun:"on_starts_at"`
	OnState    *MeetingState `bun:"on_state"`
}

// describe names the meeting: "séance « Séance de mars » du 12 mars 2025".
func (o onAgenda) describe() string {
	if o.OnTitle == nil || o.OnStartsAt == nil {
		return "séance"
	}
	return "séance « " + *o.OnTitle + " » du " + web.FrenchDate(*o.OnStartsAt)
}

func (h *Handlers) meetingState(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	to := MeetingState(web.Form(c, "to"))
	err = SetMeetingStateAs(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id,
		StateChange{To: to, OtherDay: web.FormIs(c, "other_day", "1")})
	if errors.Is(err, ErrOtherDay) {
		return h.refuseOnMeeting(c, id, "state", err, func(v *MeetingView) { v.ConfirmOtherDay = true })
	} else if err != nil {
		return h.refuseOnMeeting(c, id, "state", err, nil)
	}
	return web.RedirectWithFlash(c, MeetingPath(id), "Séance : "+to.Label()+".")
}

// refuseOnMeeting shows meeting id's page again with the reason err gives
// beside the button of the refused action (key, see MeetingView.Refusals):
// 409 for a conflict (no quorum, a closed meeting…), 422 for invalid input.
// Other errors (not found, forbidden, internal) go to the error page.
func (h *Handlers) refuseOnMeeting(c *fiber.Ctx, id int64, key string, err error, more func(*MeetingView)) error {
	status := fiber.StatusConflict
	msg := apperr.MessageOf(err)
	switch apperr.CodeOf(err) {
	case apperr.Conflict:
	case apperr.Invalid:
		status = fiber.StatusUnprocessableEntity
		if f := apperr.FieldsOf(err); len(f) > 0 {
			msgs := make([]string, 0, len(f))
			for _, m := range f {
				msgs = append(msgs, m)
			}
			slices.Sort(msgs)
			msg = strings.Join(msgs, " ")
		}
	default:
		return err
	}
	view, verr := h.meetingPageOf(c, id)
	if verr != nil {
		return verr
	}
	view.Refusals = map[string]string{key: msg}
	if more != nil {
		more(view)
	}
	return web.RenderStatus(c, status, "governance/meeting", view)
}

// editMeeting changes a meeting's title, date, place or note (calendars see a
// new SEQUENCE). A refused form shows the meeting again with the messages and
// what was typed.
func (h *Handlers) editMeeting(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, co := c.UserContext(), web.Council(c)
	current, err := GetMeeting(ctx, h.DB, co.ID, id)
	if err != nil {
		return err
	}
	if current.State == MeetingClosed {
		return errMeetingClosed
	}
	m := &Meeting{ID: id, CouncilID: co.ID}
	errs := meetingFromForm(c, m)
	if len(errs) == 0 {
		err = h.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return updateMeeting(ctx, tx, auth.ActorOf(web.ViewerOf(c)), m)
		})
		errs = apperr.FieldsOf(err)
		if errs == nil && err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		view, err := h.meetingPage(c)
		if err != nil {
			return err
		}
		view.EditErrors, view.EditForm = errs, typedMeetingForm(c)
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/meeting", view)
	}
	return web.RedirectWithFlash(c, MeetingPath(id), "Séance modifiée.")
}

func (h *Handlers) addAgendaItem(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	it := &AgendaItem{CouncilID: web.Council(c).ID, MeetingID: id, Kind: AgendaKind(web.Form(c, "kind")),
		Title: web.Form(c, "title"), Notes: web.Form(c, "notes"), Minutes: defaultItemMinutes}
	// Every item has a planned duration: 15 minutes unless typed otherwise.
	if strings.TrimSpace(web.Form(c, "minutes")) != "" {
		n, msg := formWhole(c, "minutes")
		if msg == "" && (n < 1 || n > 600) {
			msg = "La durée prévue va de 1 à 600 minutes."
		}
		if msg != "" {
			return h.refuseAgendaItem(c, id, apperr.Fields{"minutes": msg})
		}
		it.Minutes = n
	}
	if ref, ok := web.FormInt64(c, "ref"); ok && ref > 0 {
		switch it.Kind {
		case AgendaProposal:
			it.ProposalID = &ref
		case AgendaDebate:
			it.DebateID = &ref
		}
	}
	if err := AddAgendaItem(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), it); err != nil {
		if f := apperr.FieldsOf(err); f != nil && it.Kind == AgendaFree {
			return h.refuseAgendaItem(c, id, f)
		}
		return h.refuseOnMeeting(c, id, "agenda", err, nil)
	}
	return web.RedirectWithFlash(c, MeetingPath(id), "Point ajouté à l'ordre du jour.")
}

// defaultItemMinutes is an agenda item's planned duration when none is typed.
const defaultItemMinutes = 15

// refuseAgendaItem shows the meeting again with the free item form as typed
// and its messages beside their fields (422); a suggestion's refusal is shown
// above the agenda.
func (h *Handlers) refuseAgendaItem(c *fiber.Ctx, id int64, errs apperr.Fields) error {
	if AgendaKind(web.Form(c, "kind")) != AgendaFree {
		return h.refuseOnMeeting(c, id, "agenda", errs.Err(), nil)
	}
	view, err := h.meetingPageOf(c, id)
	if err != nil {
		return err
	}
	view.ItemForm = itemForm{Title: web.Form(c, "title"), Minutes: web.Form(c, "minutes"), Errors: errs}
	return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/meeting", view)
}

func (h *Handlers) moveAgendaItem(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	item, err := web.ParamID(c, "item")
	if err != nil {
		return err
	}
	delta := 1
	if web.FormIs(c, "dir", "up") {
		delta = -1
	}
	if err := moveAgendaItem(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id, item, delta); err != nil {
		return h.refuseOnMeeting(c, id, "agenda", err, nil)
	}
	return web.RedirectWithFlash(c, MeetingPath(id)+"#ordre-du-jour", "")
}

func (h *Handlers) removeAgendaItem(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	item, err := web.ParamID(c, "item")
	if err != nil {
		return err
	}
	if err := removeAgendaItem(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id, item); err != nil {
		return h.refuseOnMeeting(c, id, "agenda", err, nil)
	}
	return web.RedirectWithFlash(c, MeetingPath(id), "Point retiré de l'ordre du jour.")
}

func (h *Handlers) takeRoll(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	answers := map[int64]AttendanceStatus{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		if !strings.HasPrefix(key, "m") || len(v) == 0 {
			return
		}
		if mid, err := strconv.ParseInt(key[1:], 10, 64); err == nil {
			answers[mid] = AttendanceStatus(string(v))
		}
	})
	if err := RecordAttendanceAs(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, id, answers); err != nil {
		return h.refuseOnMeeting(c, id, "roll", err, nil)
	}
	return web.RedirectWithFlash(c, MeetingPath(id)+"#appel", "Appel enregistré.")
}

func (h *Handlers) openVote(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	form := voteForm{Question: web.Form(c, "question"), Method: web.Form(c, "method"),
		Threshold: web.Form(c, "threshold"),
		Mode:      web.Form(c, "mode"), Secrecy: web.Form(c, "secrecy"), ClosesAt: web.Form(c, "closes_at")}
	form.Item, _ = strconv.ParseInt(web.Form(c, "item"), 10, 64)
	v := &Vote{CouncilID: web.Council(c).ID, MeetingID: id, AgendaItemID: form.Item, Question: form.Question,
		Method: VoteMethod(form.Method), Mode: form.Mode, Secrecy: form.Secrecy, Threshold: Threshold(form.Threshold)}
	for i := 1; i <= maxVoteOptions; i++ {
		n := strconv.Itoa(i)
		label, effect := strings.TrimSpace(web.Form(c, "option_label_"+n)), strings.TrimSpace(web.Form(c, "option_effect_"+n))
		if label != "" {
			form.Options = append(form.Options, voteOptionRow{Label: label, Effect: effect})
		}
	}
	if v.Method == MethodJudgment {
		for _, o := range form.Options {
			v.Options = append(v.Options, VoteOption{Label: o.Label, Effect: o.Effect})
		}
	}
	if raw := strings.TrimSpace(form.ClosesAt); raw != "" {
		t, ok := web.ParseLocalTime(raw, web.Location(c))
		if !ok {
			return h.refuseVote(c, apperr.Fields{"closes_at": "Date et heure illisibles : choisissez-les dans le calendrier."}, form)
		}
		v.ClosesAt = &t
	}
	err = OpenVote(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), v)
	if f := apperr.FieldsOf(err); f != nil {
		return h.refuseVote(c, f, form)
	} else if apperr.CodeOf(err) == apperr.Conflict {
		// No quorum, a vote already held on the item, a meeting not open:
		// the form again, the reason beside its button.
		return h.refuseVote(c, apperr.Fields{"refus": apperr.MessageOf(err)}, form)
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/votes/"+strconv.FormatInt(v.ID, 10), "Vote ouvert.")
}

// refuseVote shows the meeting again with the open-vote form of the item as
// typed and its messages (422; 409 when the opening itself was refused,
// errs["refus"]).
func (h *Handlers) refuseVote(c *fiber.Ctx, errs apperr.Fields, form voteForm) error {
	view, err := h.meetingPage(c)
	if err != nil {
		return err
	}
	_, refused := errs["refus"]
	refused = refused && len(errs) == 1
	if !slices.ContainsFunc(view.Agenda, func(e agendaEntry) bool { return e.ID == form.Item }) {
		if refused {
			// Refused before the item was read (the meeting is not open):
			// the reason beside the meeting's state buttons.
			view.Refusals = map[string]string{"state": errs["refus"]}
			return web.RenderStatus(c, fiber.StatusConflict, "governance/meeting", view)
		}
		return apperr.New(apperr.Invalid, "Ce point n'est pas à l'ordre du jour de la séance.")
	}
	view.VoteForm, view.VoteErrors = form, errs
	if refused {
		return web.RenderStatus(c, fiber.StatusConflict, "governance/meeting", view)
	}
	return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/meeting", view)
}

// voteView is a vote's page: the ballot form while open, the results after.
type voteView struct {
	web.Page
	Vote      *Vote
	Meeting   *Meeting
	Item      *AgendaItem
	Mine      *Ballot
	Nominal   []NominalBallot
	Decision  *Decision
	CanVote   bool
	CanManage bool
	Grades    []boussole.Grade
	Errors    apperr.Fields
	// CloseErrors and CloseForm are a refused close's messages and what was
	// typed in its form, shown again.
	CloseErrors apperr.Fields
	CloseForm   closeForm
	// Present is the number of members present, which bounds the in-room
	// counts (read for the facilitator of an open in-room vote only).
	Present int
	// Refusal is why an action on this page was refused, shown beside its
	// button (the page is re-shown rather than a bare error page).
	Refusal string
	// Progress is how many of the members present have voted so far (an open
	// online vote, for the facilitator only; never what they voted).
	Progress *ballotProgress
	// Proxy holds the ballots by proxy and on paper (proxy_http.go).
	Proxy *voteProxyPanel
}

// closeForm is what the facilitator typed in the close form.
type closeForm struct {
	Counts     map[string]string // in-room counts by field name, as typed
	Reasons    string
	Motivation string
	Adjourn    bool
	// Reason is the reason typed in the correction form.
	Reason string
}

// countField is one count input of the in-room close form.
type countField struct {
	Name, Label, Value, Error string
	Max                       int // the members present
}

// CountInput describes the in-room count input name: its value as typed after
// a refusal ("0" at first) and its message.
func (v voteView) CountInput(name, label string) countField {
	f := countField{Name: name, Label: label, Value: "0", Error: v.CloseErrors[name], Max: v.Present}
	if typed, ok := v.CloseForm.Counts[name]; ok {
		f.Value = typed
	}
	return f
}

// countsForm is the correction form filled with the counts of a counted vote.
func countsForm(v *Vote) closeForm {
	t := v.Tally
	f := closeForm{Counts: map[string]string{"pour": strconv.Itoa(t.For), "contre": strconv.Itoa(t.Against),
		"abstention": strconv.Itoa(t.Abstain), "objections": strconv.Itoa(t.Objections)}, Reasons: strings.Join(t.ObjectionReasons, "\n")}
	for i, p := range t.Profiles {
		for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
			f.Counts[RoomCountField(i+1, g)] = strconv.Itoa(p.Counts[g])
		}
	}
	return f
}

// GradeCountInput is CountInput for the count of grade g of the option at
// position pos (majority judgment).
func (v voteView) GradeCountInput(pos int, g boussole.Grade) countField {
	return v.CountInput(RoomCountField(pos, g), g.Label())
}

// OptionError is the message about the counts of the option at position pos.
func (v voteView) OptionError(pos int) string { return v.CloseErrors["o"+strconv.Itoa(pos)] }

// optionResult is one option's line in a majority-judgment result.
type optionResult struct {
	Rank    int
	Label   string
	Profile MeritProfile
	Median  boussole.Grade
	Above   int
	Below   int
	Winner  bool
}

// Results returns the majority-judgment lines in ranking order.
func (v voteView) Results() []optionResult {
	t := v.Vote.Tally
	if t == nil || v.Vote.Method != MethodJudgment {
		return nil
	}
	var out []optionResult
	for i, pos := range t.Ranking {
		if pos < 1 || pos > len(t.Profiles) || pos > len(v.Vote.Options) {
			continue
		}
		p := t.Profiles[pos-1]
		above, med, below := p.Gauge()
		out = append(out, optionResult{Rank: i + 1, Label: v.Vote.Options[pos-1].Label, Profile: p, Median: med, Above: above, Below: below,
			Winner: v.Vote.WinnerOption != nil && *v.Vote.WinnerOption == pos})
	}
	return out
}

// MyGrade is the viewer's grade for option i ("" when none).
func (v voteView) MyGrade(i int) boussole.Grade {
	if v.Mine == nil || i >= len(v.Mine.Grades) {
		return boussole.NoOpinion
	}
	return boussole.Grade(v.Mine.Grades[i])
}

// Choices are the answers of a majority vote.
func (v voteView) Choices() []Choice { return []Choice{ChoiceFor, ChoiceAgainst, ChoiceAbstain} }

// TallyLine is the result in one sentence.
func (v voteView) TallyLine() string { return tallyLine(v.Vote) }

func (h *Handlers) voteView(c *fiber.Ctx) (*voteView, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	ctx, co := c.UserContext(), web.Council(c)
	v, err := GetVote(ctx, h.DB, co.ID, id)
	if err != nil {
		return nil, err
	}
	m, err := GetMeeting(ctx, h.DB, co.ID, v.MeetingID)
	if err != nil {
		return nil, err
	}
	item := new(AgendaItem)
	if err := h.DB.NewSelect().Model(item).Where("id = ? AND council_id = ?", v.AgendaItemID, co.ID).Scan(ctx); err != nil {
		return nil, err
	}
	view := &voteView{Page: web.NewPage(c, "Vote : "+v.Question), Vote: v, Meeting: m, Item: item,
		CanVote: auth.Can(c, authz.CastBallot) && !v.Closed() && !v.InRoom(), CanManage: auth.Can(c, authz.ManageMeeting), Grades: boussole.Grades}
	if viewer := web.ViewerOf(c); viewer != nil && view.CanVote {
		if view.Mine, err = MyBallot(ctx, h.DB, co.ID, v.ID, viewer.AccountID); err != nil {
			return nil, err
		}
	}
	if view.CanManage && !v.Closed() && !v.InRoom() {
		if view.Progress, err = voteProgress(ctx, h.DB, co.ID, v); err != nil {
			return nil, err
		}
	}
	if view.CanManage && !v.Closed() && v.InRoom() {
		if view.Present, err = maxInRoomVotes(ctx, h.DB, co.ID, v.MeetingID); err != nil {
			return nil, err
		}
	}
	if v.Counted() && v.Tally != nil {
		// The correction form starts from the counts being checked.
		view.CloseForm = countsForm(v)
	}
	if v.Closed() {
		if view.Nominal, err = NominalBallots(ctx, h.DB, v); err != nil {
			return nil, err
		}
		d := new(Decision)
		err := selectDecisions(h.DB, d).Where("d.vote_id = ? AND d.council_id = ?", v.ID, co.ID).Scan(ctx)
		if err == nil {
			view.Decision = d
		} else if !database.IsNoRows(err) {
			return nil, err
		}
	}
	if err := h.fillVoteProxies(c, view); err != nil {
		return nil, err
	}
	return view, nil
}

func (h *Handlers) vote(c *fiber.Ctx) error {
	view, err := h.voteView(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/vote", view)
}

func (h *Handlers) castBallot(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, co := c.UserContext(), web.Council(c)
	b := &Ballot{Choice: Choice(web.Form(c, "choice")), Reason: web.Form(c, "reason")}
	// Grades g1…gN of a majority-judgment ballot, read without loading the vote:
	// casting is the hot path, and its statement checks them against the vote's
	// options (other methods ignore them).
	for i := 1; i <= maxVoteOptions; i++ {
		raw := web.Form(c, "g"+strconv.Itoa(i))
		if raw == "" {
			break
		}
		g, _ := boussole.ParseGrade(raw)
		b.Grades = append(b.Grades, int16(g))
	}
	err = h.ballots.Cast(ctx, co.ID, id, web.ViewerOf(c).AccountID, b)
	if f := apperr.FieldsOf(err); f != nil {
		view, verr := h.voteView(c)
		if verr != nil {
			return verr
		}
		view.Errors, view.Mine = f, b
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/vote", view)
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/votes/"+strconv.FormatInt(id, 10), "Votre bulletin est enregistré. Vous pouvez le modifier jusqu'à la clôture.")
}

func (h *Handlers) closeVote(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, co := c.UserContext(), web.Council(c)
	v, err := GetVote(ctx, h.DB, co.ID, id)
	if err != nil {
		return err
	}
	switch v.State {
	case VoteClosed:
		return h.refuseClose(c, nil, closeForm{}, errVoteAlreadyClosed)
	case VoteCounted:
		return h.refuseClose(c, nil, closeForm{}, errVoteAlreadyCounted)
	}
	form := closeForm{Counts: map[string]string{}, Reasons: web.Form(c, "reasons"),
		Motivation: web.Form(c, "motivation"), Adjourn: web.FormIs(c, "adjourn", "1")}
	in := CloseInput{Adjourn: form.Adjourn, Motivation: form.Motivation}
	if v.InRoom() {
		rc, errs := roomCountsFromForm(c, v, &form)
		if len(errs) > 0 {
			return h.refuseClose(c, errs, form, nil)
		}
		in.Room = rc
	}
	closed, d, err := CloseVote(ctx, h.DB, co.ID, id, auth.ActorOf(web.ViewerOf(c)), in)
	if f := apperr.FieldsOf(err); f != nil {
		return h.refuseClose(c, f, form, nil)
	} else if apperr.CodeOf(err) == apperr.Conflict {
		return h.refuseClose(c, nil, form, err)
	} else if err != nil {
		return err
	}
	if closed.Counted() {
		return web.RedirectWithFlash(c, "/votes/"+strconv.FormatInt(closed.ID, 10)+"#verification",
			"Décompte enregistré : vérifiez-le avec la salle, corrigez-le s'il le faut, puis publiez le résultat.")
	}
	if d != nil {
		return web.RedirectWithFlash(c, d.Path(), "Vote clos, décision enregistrée.")
	}
	return web.RedirectWithFlash(c, "/votes/"+strconv.FormatInt(closed.ID, 10), "Vote clos.")
}

// roomCountsFromForm reads the counts of a show of hands from the close or
// correction form, keeping what was typed in form; a count that is not a
// whole number is refused beside its field.
func roomCountsFromForm(c *fiber.Ctx, v *Vote, form *closeForm) (*RoomCounts, apperr.Fields) {
	errs := apperr.Fields{}
	if form.Counts == nil {
		form.Counts = map[string]string{}
	}
	form.Reasons = web.Form(c, "reasons")
	count := func(name string) int {
		form.Counts[name] = web.Form(c, name)
		n, msg := formWhole(c, name)
		if msg != "" {
			errs.Add(name, msg)
		}
		return n
	}
	rc := &RoomCounts{}
	switch v.Method {
	case MethodMajority:
		rc.For, rc.Against, rc.Abstain = count("pour"), count("contre"), count("abstention")
	case MethodConsent:
		rc.Objections = count("objections")
		for _, r := range strings.Split(form.Reasons, "\n") {
			if r = strings.TrimSpace(r); r != "" {
				rc.ObjectionReasons = append(rc.ObjectionReasons, r)
			}
		}
	case MethodJudgment:
		for _, o := range v.Options {
			var p MeritProfile
			for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
				p.Counts[g] = count(RoomCountField(o.Position, g))
			}
			rc.Profiles = append(rc.Profiles, p)
		}
	}
	return rc, errs
}

// correctCount corrects the counts of an in-room vote awaiting publication;
// a refusal (a count out of bounds, no reason) re-shows the vote page with
// what was typed and the message beside its field.
func (h *Handlers) correctCount(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, co := c.UserContext(), web.Council(c)
	v, err := GetVote(ctx, h.DB, co.ID, id)
	if err != nil {
		return err
	}
	form := closeForm{Reason: web.Form(c, "correction_reason")}
	rc, errs := roomCountsFromForm(c, v, &form)
	if !v.Counted() {
		errs = nil // the state's refusal below says more than the counts'
	}
	if len(errs) > 0 {
		if form.Reason == "" {
			errs.Add("correction_reason", "Dites pourquoi le décompte est corrigé : le motif est publié avec le résultat.")
		}
		return h.refuseClose(c, errs, form, nil)
	}
	_, err = CorrectCounts(ctx, h.DB, co.ID, id, auth.ActorOf(web.ViewerOf(c)), rc, form.Reason)
	if f := apperr.FieldsOf(err); f != nil {
		return h.refuseClose(c, f, form, nil)
	} else if apperr.CodeOf(err) == apperr.Conflict {
		return h.refuseClose(c, nil, form, err)
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/votes/"+strconv.FormatInt(id, 10)+"#verification", "Décompte corrigé ; la correction et son motif seront publiés avec le résultat.")
}

// publishVoteResult publishes the checked counts of an in-room vote.
func (h *Handlers) publishVoteResult(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	form := closeForm{Motivation: web.Form(c, "motivation"), Adjourn: web.FormIs(c, "adjourn", "1")}
	v, d, err := PublishVote(c.UserContext(), h.DB, web.Council(c).ID, id, auth.ActorOf(web.ViewerOf(c)),
		CloseInput{Adjourn: form.Adjourn, Motivation: form.Motivation})
	if apperr.CodeOf(err) == apperr.Conflict {
		return h.refuseClose(c, nil, form, err)
	} else if err != nil {
		return err
	}
	if d != nil {
		return web.RedirectWithFlash(c, d.Path(), "Résultat publié, décision enregistrée.")
	}
	return web.RedirectWithFlash(c, "/votes/"+strconv.FormatInt(v.ID, 10), "Résultat publié.")
}

// refuseClose shows the vote page again with the close form's messages and
// what was typed (422), or, when the close itself was refused (the vote was
// closed meanwhile, by another facilitator or the same form sent twice), the
// page as it now stands with the reason (409).
func (h *Handlers) refuseClose(c *fiber.Ctx, errs apperr.Fields, form closeForm, refusal error) error {
	view, err := h.voteView(c)
	if err != nil {
		return err
	}
	view.CloseErrors, view.CloseForm = errs, form
	if refusal != nil {
		view.Refusal = apperr.MessageOf(refusal)
		return web.RenderStatus(c, fiber.StatusConflict, "governance/vote", view)
	}
	return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/vote", view)
}

// errVoteAlreadyClosed refuses a second close.
var errVoteAlreadyClosed = apperr.New(apperr.Conflict, "Ce vote était déjà clos : son résultat ci-dessous n'a pas changé.")

// rulesView is the quorum rule form.
type rulesView struct {
	web.Page
	Rules  MeetingRules
	Errors apperr.Fields
}

func (h *Handlers) rulesForm(c *fiber.Ctx) error {
	r, err := Rules(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/meeting_rules", rulesView{Page: web.NewPage(c, "Règles des séances"), Rules: r})
}

func (h *Handlers) saveRules(c *fiber.Ctx) error {
	r := &MeetingRules{CouncilID: web.Council(c).ID, QuorumKind: QuorumKind(web.Form(c, "quorum_kind")),
		QuorumCount: formInt(c, "quorum_count"), QuorumPercent: formInt(c, "quorum_percent"),
		VoteWithoutQuorum: web.FormIs(c, "vote_without_quorum", "1"), ConvocationDays: formInt(c, "convocation_days"),
		ProxiesPerHolder: formInt(c, "proxies_per_holder"), ProxiesInQuorum: web.FormIs(c, "proxies_in_quorum", "1")}
	if err := SaveRules(c.UserContext(), h.DB, r); err != nil {
		if f := apperr.FieldsOf(err); f != nil {
			return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/meeting_rules", rulesView{Page: web.NewPage(c, "Règles des séances"), Rules: *r, Errors: f})
		}
		return err
	}
	return web.RedirectWithFlash(c, "/seances", "Règles des séances enregistrées.")
}
