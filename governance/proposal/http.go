package proposal

import (
	"context"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/pagecache"
	"cla/internal/web"
)

// Handlers serves the proposal and scoring pages.
type Handlers struct {
	DB *bun.DB
	// Debates lists the debates linked to a proposal, for the links back
	// from its page (issue 20, point 5). The debate package owns those links
	// and sits above this one: app wires debate.DebatesOfProposal here. Nil
	// shows none.
	Debates func(ctx context.Context, db bun.IDB, councilID, proposalID int64) ([]DebateLink, error)
}

// DebateLink is a debate a proposal is linked to.
type DebateLink struct {
	Slug  string `bun:"slug"`
	Title string `bun:"title"`
}

// Routes lists the proposal and scoring routes.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/propositions", pagecache.Handler(pagecache.PageProposals, web.Gated(h.proposals)))
	app.Get("/propositions/nouvelle", auth.Require(authz.CreateProposal), web.Gated(h.proposalForm))
	app.Post("/propositions/nouvelle", auth.Require(authz.CreateProposal), h.createProposal)
	app.Get("/propositions/nouvelle-boussole", auth.Require(authz.CreateProposal), web.Gated(h.boussoleProposalForm))
	app.Post("/propositions/nouvelle-boussole", auth.Require(authz.CreateProposal), h.createBoussoleProposal)
	app.Get("/propositions/comparer", pagecache.Handler(pagecache.PageProposals, web.Gated(h.compareProposals)))
	app.Get("/propositions/:id/radar.svg", pagecache.Handler(pagecache.PageProposal, web.Gated(h.proposalRadar)))
	app.Get("/propositions/:id/evaluer", auth.Require(authz.ScoreProposal), web.Gated(h.scoreForm))
	app.Post("/propositions/:id/evaluer", auth.Require(authz.ScoreProposal), h.saveScores)
	app.Post("/propositions/:id/etat", h.transitionProposal)
	app.Get("/propositions/:id", pagecache.Handler(pagecache.PageProposal, web.Gated(h.proposal)))
}

// proposalID reads the :id parameter; anything but a positive integer is not found.
func proposalID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errProposalNotFound
	}
	return id, nil
}

// visibleProposal reads a proposal the viewer may see (a draft only by its author).
func (h *Handlers) visibleProposal(c *fiber.Ctx) (*Proposal, error) {
	id, err := proposalID(c)
	if err != nil {
		return nil, err
	}
	p, err := GetProposal(c.UserContext(), h.DB, web.Council(c).ID, id)
	if err != nil {
		return nil, err
	}
	if !p.VisibleTo(web.ViewerOf(c)) {
		return nil, errProposalNotFound
	}
	return p, nil
}

// proposalsView lists proposals by state and kind, with the viewer's "à évaluer".
type proposalsView struct {
	web.Page
	State     ProposalState
	Kind      ProposalKind
	States    []ProposalState
	Kinds     []ProposalKind
	Proposals []proposalSummary
	ToScore   []proposalSummary
	CanScore  bool
	CanCreate bool
	Members   int // active members of the council: the scoring progress's denominator
}

func (h *Handlers) proposals(c *fiber.Ctx) error {
	ctx, co, v := c.UserContext(), web.Council(c), web.ViewerOf(c)
	view := proposalsView{Page: web.NewPage(c, "Propositions"), States: ProposalStates, Kinds: proposalKinds}
	if s := ProposalState(c.Query("etat")); s.Valid() {
		view.State = s
	}
	if k := ProposalKind(c.Query("type")); k.Valid() {
		view.Kind = k
	}
	actor := auth.ActorOf(v)
	view.CanScore = authz.Can(actor.Role, authz.ScoreProposal)
	view.CanCreate = authz.Can(actor.Role, authz.CreateProposal)
	var err error
	if view.Proposals, err = listProposals(ctx, h.DB, co.ID, proposalFilter{State: view.State, Kind: view.Kind, ViewerID: actor.AccountID}); err != nil {
		return err
	}
	if view.CanScore {
		if view.ToScore, err = listProposals(ctx, h.DB, co.ID, proposalFilter{ViewerID: actor.AccountID, ToScore: true}); err != nil {
			return err
		}
	}
	if view.Members, err = auth.CountActiveMembers(ctx, h.DB, co.ID); err != nil {
		return err
	}
	return web.Render(c, "governance/proposals", view)
}

// proposalFormView is the form of a new proposal.
type proposalFormView struct {
	web.Page
	Proposal     *Proposal
	TargetItem   string // as typed, to keep it on re-render
	TargetShop   string
	Errors       apperr.Fields
	Kinds        []ProposalKind
	ItemStatuses []catalog.Status
	Items        []catalog.Named
	Shops        []catalog.Named
	NoBoussole   bool // the council has no boussole yet: only the boussole may be proposed
}

func (h *Handlers) proposalFormView(c *fiber.Ctx, p *Proposal, errs apperr.Fields) (proposalFormView, error) {
	ctx, co := c.UserContext(), web.Council(c)
	view := proposalFormView{Page: web.NewPage(c, "Nouvelle proposition"), Proposal: p, Errors: errs,
		Kinds: proposalKinds, ItemStatuses: catalog.Statuses}
	if p.TargetItemID != nil {
		view.TargetItem = strconv.FormatInt(*p.TargetItemID, 10)
	}
	if p.TargetShopID != nil {
		view.TargetShop = strconv.FormatInt(*p.TargetShopID, 10)
	}
	var err error
	if view.Items, err = catalog.ItemNames(ctx, h.DB, co.ID); err != nil {
		return view, err
	}
	ok, err := boussole.BoussoleExists(ctx, h.DB, co.ID)
	if err != nil {
		return view, err
	}
	view.NoBoussole = !ok
	view.Shops, err = catalog.ShopNames(ctx, h.DB, co.ID)
	return view, err
}

func (h *Handlers) proposalForm(c *fiber.Ctx) error {
	p := &Proposal{Kind: ProposalKind(c.Query("type"))}
	view, err := h.proposalFormView(c, p, nil)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/proposal_form", view)
}

func optionalID(s string) *int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return nil
	}
	return &id
}

func (h *Handlers) createProposal(c *fiber.Ctx) error {
	form := func(k string) string { return web.Form(c, k) }
	p := &Proposal{CouncilID: web.Council(c).ID, Kind: ProposalKind(form("kind")), Title: form("title"),
		TargetItemID: optionalID(form("target_item")), TargetShopID: optionalID(form("target_shop")),
		ItemName: form("item_name"), ProposedStatus: catalog.Status(form("proposed_status")),
		Conditions: form("conditions"), Reason: form("reason"), Outcome: form("outcome"),
		RationaleMD: form("rationale"), Sources: form("sources"), RegisterExplanationMD: form("register_explanation")}
	path, err := web.CreateOnce(c, h.DB, func(ctx context.Context, tx bun.Tx) (string, error) {
		if err := CreateProposal(ctx, tx, p, auth.ActorOf(web.ViewerOf(c))); err != nil {
			return "", err
		}
		return "/propositions/" + strconv.FormatInt(p.ID, 10), nil
	})
	if fields := apperr.FieldsOf(err); fields != nil {
		view, verr := h.proposalFormView(c, p, fields)
		if verr != nil {
			return verr
		}
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/proposal_form", view)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, path, "Brouillon enregistré. Ouvrez-le à l'évaluation quand il est prêt.")
}

// criterionDetail is one member's grade of a criterion, shown to council members.
type criterionDetail struct {
	Name    string
	Grade   boussole.Grade
	Comment string
}

// proposalView is a proposal's page: its text, timeline, aggregated scores and radar.
type proposalView struct {
	web.Page
	Proposal    *Proposal
	Sources     []Source
	Events      []ProposalEvent
	Results     *Results
	Radar       template.HTML
	Members     int
	CanScore    bool // the viewer may grade it now
	HasScored   bool // the viewer has graded at least one criterion
	ShowDetails bool // the viewer may read individual grades and comments
	// ResultsRows is the body of the results table (ResultsRows), with the
	// individual grades when ShowDetails.
	ResultsRows template.HTML
	Transitions []Transition
	OtherScores int        // scores given against other boussole versions
	Older       []*Results // results against earlier boussole versions, newest first
	Spec        []BoussoleSpecGroup
	Debates     []DebateLink // the debates that bear on it
}

// proposalShared is what a proposal's page shows every viewer alike, or
// every viewer of one kind (ResultsRows with and without the individual
// grades): the page read (loadProposalPage), its debates, results, radar and
// results table. The page cache keeps it per proposal (pagecache.Cache.Value,
// the proposal group: scores, events, the boussole, debates and members'
// names drop it), so that members following a proposal while scoring do not
// each read and aggregate its scores.
type proposalShared struct {
	pg          *proposalPage
	debates     []DebateLink
	results     *Results
	otherScores int
	older       []*Results
	radar       template.HTML
	rows        template.HTML // without the individual grades
	rowsDetails template.HTML // with them
}

// loadProposalShared reads and computes a proposal's shared part.
func (h *Handlers) loadProposalShared(ctx context.Context, councilID, id int64) (*proposalShared, error) {
	pg, err := loadProposalPage(ctx, h.DB, councilID, id)
	if err != nil {
		return nil, err
	}
	sh := &proposalShared{pg: pg}
	p, b, scores := pg.Proposal, pg.Boussole, pg.Scores
	if h.Debates != nil {
		if sh.debates, err = h.Debates(ctx, h.DB, councilID, p.ID); err != nil {
			return nil, err
		}
	}
	if b == nil {
		return sh, nil
	}
	sh.results = Aggregate(b, scores)
	sh.otherScores = sh.results.OtherVersionScores()
	if sh.otherScores > 0 {
		var ids []int64
		for id := range sh.results.OtherVersions {
			ids = append(ids, id)
		}
		older, err := BoussolesByVersion(ctx, h.DB, councilID, ids)
		if err != nil {
			return nil, err
		}
		for _, ob := range older {
			sh.older = append(sh.older, Aggregate(ob, scores))
		}
	}
	sh.radar = boussole.RadarSVG("radar", "Boussole de « "+p.Title+" »", boussole.RadarAxesOf(b), []boussole.RadarSeries{{Label: p.Title, Values: sh.results.Majorities()}}, false)
	details := map[int64][]criterionDetail{}
	for _, s := range scores {
		if s.BoussoleVersionID == b.Version.ID {
			details[s.CriterionID] = append(details[s.CriterionID], criterionDetail{Name: s.GraderName, Grade: s.Grade, Comment: s.Comment})
		}
	}
	sh.rows = resultsRows(sh.results, nil)
	sh.rowsDetails = resultsRows(sh.results, details)
	return sh, nil
}

func (h *Handlers) proposal(c *fiber.Ctx) error {
	id, err := proposalID(c)
	if err != nil {
		return err
	}
	ctx, co, v := c.UserContext(), web.Council(c), web.ViewerOf(c)
	load := func() (any, error) { return h.loadProposalShared(ctx, co.ID, id) }
	var val any
	if cache := pagecache.Of(c); cache != nil {
		val, err = cache.Value(co.ID, pagecache.PageProposal, "proposal:"+strconv.FormatInt(id, 10), load)
	} else {
		val, err = load()
	}
	if err != nil {
		return err
	}
	sh := val.(*proposalShared)
	pg := sh.pg
	p, b, scores := pg.Proposal, pg.Boussole, pg.Scores
	if !p.VisibleTo(v) {
		return errProposalNotFound
	}
	actor := auth.ActorOf(v)
	view := proposalView{Page: web.NewPage(c, p.Title), Proposal: p, Sources: p.SourceList(),
		Transitions: availableTransitions(p, actor),
		CanScore:    p.State.Scorable() && authz.Can(actor.Role, authz.ScoreProposal),
		ShowDetails: authz.Can(actor.Role, authz.ReadScoreDetails)}
	view.Spec = p.BoussoleSpec()
	view.Events, view.Members = pg.Events, pg.Members
	view.Debates = sh.debates
	if b == nil {
		// No boussole yet: the page says so instead of the results.
		view.CanScore = false
		return web.Render(c, "governance/proposal", view)
	}
	view.Results, view.OtherScores, view.Older, view.Radar = sh.results, sh.otherScores, sh.older, sh.radar
	view.ResultsRows = sh.rows
	if view.ShowDetails {
		view.ResultsRows = sh.rowsDetails
	}
	for _, s := range scores {
		if s.AccountID == actor.AccountID {
			view.HasScored = true
		}
	}
	return web.Render(c, "governance/proposal", view)
}

func (h *Handlers) proposalRadar(c *fiber.Ctx) error {
	p, err := h.visibleProposal(c)
	if err != nil {
		return err
	}
	ctx, co := c.UserContext(), web.Council(c)
	b, err := boussole.CurrentBoussole(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	scores, err := ProposalScores(ctx, h.DB, co.ID, p.ID)
	if err != nil {
		return err
	}
	svg := boussole.RadarSVG("radar", "Boussole de « "+p.Title+" »", boussole.RadarAxesOf(b), []boussole.RadarSeries{{Label: p.Title, Values: Aggregate(b, scores).Majorities()}}, true)
	c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.SendString(string(svg))
}

// scoreFormView is the scoring form of one proposal for the signed-in member.
type scoreFormView struct {
	web.Page
	Proposal *Proposal
	Boussole *boussole.Boussole
	Grades   []boussole.Grade
	Values   map[int64]ScoreInput
	Errors   apperr.Fields
}

// Checked reports whether grade g is the value of criterion id.
func (v scoreFormView) Checked(id int64, g boussole.Grade) bool {
	in, ok := v.Values[id]
	return ok && in.Set && in.Grade == g
}

// Unset reports whether criterion id has no grade yet.
func (v scoreFormView) Unset(id int64) bool { return !v.Values[id].Set }

// Comment is the comment of criterion id.
func (v scoreFormView) Comment(id int64) string { return v.Values[id].Comment }

// Error is the message of a field of criterion id ("grade" or "comment").
func (v scoreFormView) Error(field string, id int64) string {
	return v.Errors[field+"_"+strconv.FormatInt(id, 10)]
}

// scorable reads a proposal the viewer may grade now, or the error to show.
func (h *Handlers) scorable(c *fiber.Ctx) (*Proposal, *boussole.Boussole, error) {
	p, err := h.visibleProposal(c)
	if err != nil {
		return nil, nil, err
	}
	if !p.State.Scorable() {
		return nil, nil, apperr.New(apperr.Conflict, "Les évaluations de cette proposition sont closes : elle est « %s ».", p.State.Label())
	}
	b, err := boussole.CurrentBoussole(c.UserContext(), h.DB, p.CouncilID)
	return p, b, err
}

func (h *Handlers) scoreForm(c *fiber.Ctx) error {
	p, b, err := h.scorable(c)
	if err != nil {
		return err
	}
	v := web.ViewerOf(c)
	scores, err := h.myScores(c.UserContext(), p, v.AccountID)
	if err != nil {
		return err
	}
	view := scoreFormView{Page: web.NewPage(c, "Évaluer « "+p.Title+" »"), Proposal: p, Boussole: b, Grades: boussole.Grades, Values: map[int64]ScoreInput{}}
	for _, s := range scores {
		if s.BoussoleVersionID == b.Version.ID {
			view.Values[s.CriterionID] = ScoreInput{CriterionID: s.CriterionID, Set: true, Grade: s.Grade, Comment: s.Comment}
		}
	}
	return web.Render(c, "governance/proposal_score", view)
}

func (h *Handlers) myScores(ctx context.Context, p *Proposal, accountID int64) ([]Score, error) {
	var out []Score
	err := h.DB.NewSelect().Model(&out).Column("criterion_id", "boussole_version_id", "grade", "comment").
		Where("council_id = ? AND proposal_id = ? AND account_id = ?", p.CouncilID, p.ID, accountID).Scan(ctx)
	return out, err
}

func (h *Handlers) saveScores(c *fiber.Ctx) error {
	p, b, err := h.scorable(c)
	if err != nil {
		return err
	}
	form := map[string]string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) { form[string(k)] = string(v) })
	inputs, err := ParseScoreForm(b, form)
	if err == nil {
		err = SaveScores(c.UserContext(), h.DB, p.CouncilID, p.ID, auth.ActorOf(web.ViewerOf(c)), inputs)
	}
	if fields := apperr.FieldsOf(err); fields != nil {
		view := scoreFormView{Page: web.NewPage(c, "Évaluer « "+p.Title+" »"), Proposal: p, Boussole: b, Grades: boussole.Grades,
			Values: map[int64]ScoreInput{}, Errors: fields}
		for _, in := range inputs {
			view.Values[in.CriterionID] = in
		}
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/proposal_score", view)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, fmt.Sprintf("/propositions/%d#resultats", p.ID), "Votre évaluation est enregistrée. Vous pouvez la réviser jusqu'à l'ouverture du vote.")
}

func (h *Handlers) transitionProposal(c *fiber.Ctx) error {
	id, err := proposalID(c)
	if err != nil {
		return err
	}
	if web.ViewerOf(c) == nil {
		return apperr.New(apperr.Unauthorized, "Connectez-vous pour agir sur une proposition.")
	}
	co := web.Council(c)
	to := ProposalState(web.Form(c, "to"))
	note := web.Form(c, "note")
	actor := auth.ActorOf(web.ViewerOf(c))
	// A draft of someone else is not found, not forbidden: it does not exist for them.
	p, err := GetProposal(c.UserContext(), h.DB, co.ID, id)
	if err != nil {
		return err
	}
	if !p.VisibleTo(web.ViewerOf(c)) {
		return errProposalNotFound
	}
	if !to.Valid() {
		return apperr.New(apperr.Invalid, "État demandé inconnu.")
	}
	err = h.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		return TransitionProposal(ctx, tx, co.ID, id, actor, to, note)
	})
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, fmt.Sprintf("/propositions/%d", id), "La proposition est maintenant « "+to.Label()+" ».")
}

// compareRow is one criterion across the compared proposals.
type compareRow struct {
	Criterion boussole.Criterion
	Grades    []boussole.Grade
	Disagree  []bool
}

// compareView overlays two to four proposals on one radar.
type compareView struct {
	web.Page
	Boussole  *boussole.Boussole
	Proposals []*Proposal
	Results   []*Results
	Colors    []string
	Rows      []compareRow
	Radar     template.HTML
	Choices   []proposalSummary // proposals one may compare, for the form
	Selected  map[int64]bool
	Message   string
}

func (h *Handlers) compareProposals(c *fiber.Ctx) error {
	ctx, co, v := c.UserContext(), web.Council(c), web.ViewerOf(c)
	view := compareView{Page: web.NewPage(c, "Comparer des propositions"), Colors: boussole.RadarColors, Selected: map[int64]bool{}}
	var ids []int64
	// ids=1,2 or, from the form's checkboxes, ids=1&ids=2.
	c.Context().QueryArgs().VisitAll(func(k, val []byte) {
		if string(k) != "ids" {
			return
		}
		for _, s := range strings.Split(string(val), ",") {
			if id := optionalID(s); id != nil && !view.Selected[*id] {
				ids = append(ids, *id)
				view.Selected[*id] = true
			}
		}
	})
	var err error
	if view.Choices, err = listProposals(ctx, h.DB, co.ID, proposalFilter{ViewerID: auth.ActorOf(v).AccountID}); err != nil {
		return err
	}
	if len(ids) < 2 || len(ids) > 4 {
		// One proposal is a start (the form comes preselected); five is too many.
		if len(ids) > 4 {
			c.Status(fiber.StatusUnprocessableEntity)
		}
		view.Message = "Choisissez de deux à quatre propositions à comparer."
		return web.Render(c, "governance/proposal_compare", view)
	}
	var ps []*Proposal
	if err := SelectProposal(h.DB, &ps).Where("p.council_id = ? AND p.id IN (?)", co.ID, bun.List(ids)).Scan(ctx); err != nil {
		return err
	}
	byID := map[int64]*Proposal{}
	for _, p := range ps {
		if p.VisibleTo(v) {
			byID[p.ID] = p
		}
	}
	for _, id := range ids {
		if byID[id] == nil {
			return apperr.New(apperr.NotFound, "La proposition n°%d n'existe pas dans ce Conseil.", id)
		}
		view.Proposals = append(view.Proposals, byID[id])
	}
	if view.Boussole, err = boussole.CurrentBoussole(ctx, h.DB, co.ID); err != nil {
		return err
	}
	scores, err := ProposalScores(ctx, h.DB, co.ID, ids...)
	if err != nil {
		return err
	}
	sort.SliceStable(scores, func(i, j int) bool { return scores[i].ProposalID < scores[j].ProposalID })
	var series []boussole.RadarSeries
	for _, p := range view.Proposals {
		var mine []Score
		for _, s := range scores {
			if s.ProposalID == p.ID {
				mine = append(mine, s)
			}
		}
		r := Aggregate(view.Boussole, mine)
		view.Results = append(view.Results, r)
		series = append(series, boussole.RadarSeries{Label: p.Title, Values: r.Majorities()})
	}
	for gi, g := range view.Boussole.Groups {
		for ci, crit := range g.Criteria {
			row := compareRow{Criterion: crit}
			for _, r := range view.Results {
				t := r.Groups[gi].Criteria[ci].Tally
				row.Grades = append(row.Grades, t.Majority())
				row.Disagree = append(row.Disagree, t.Disagreement())
			}
			view.Rows = append(view.Rows, row)
		}
	}
	var titles []string
	for _, p := range view.Proposals {
		titles = append(titles, p.Title)
	}
	view.Radar = boussole.RadarSVG("radar", "Comparaison : "+strings.Join(titles, ", "), boussole.RadarAxesOf(view.Boussole), series, false)
	return web.Render(c, "governance/proposal_compare", view)
}
