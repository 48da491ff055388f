package debate

import (
	"bytes"
	"context"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/pagecache"
	"cla/internal/text"
	"cla/internal/web"
)

// Handlers serves the debate and search pages.
type Handlers struct {
	DB *bun.DB
}

// Routes lists the debate and search routes.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/debats", pagecache.Handler(pagecache.PageDebates, web.Gated(h.debates)))
	app.Get("/debats/souhaites", pagecache.Handler(pagecache.PageDebates, web.Gated(h.backlog)))
	app.Post("/debats/souhaites/:slug/soutien", auth.Require(authz.SupportDebate), h.support)
	app.Get("/debats/proposer", web.Gated(h.suggestForm))
	app.Post("/debats/proposer", h.suggest)
	app.Get("/debats/suggestions", auth.Require(authz.ReviewSuggestion), web.Gated(h.suggestions))
	app.Post("/debats/suggestions/:id", auth.Require(authz.ReviewSuggestion), h.reviewSuggestion)
	app.Get("/debats/:slug", pagecache.Handler(pagecache.PageDebate, web.Gated(h.debate)))
	app.Get("/debats/:slug/animer", auth.Require(authz.EditDebate), web.Gated(h.editDebateForm))
	app.Post("/debats/:slug/animer", auth.Require(authz.EditDebate), h.editDebate)
	app.Post("/debats/:slug/etat", auth.Require(authz.ChangeDebate), h.changeDebateState)
	app.Post("/debats/:slug/arguments", auth.Require(authz.AddArgument), h.addArgument)
	app.Get("/debats/:slug/arguments/:id", pagecache.Handler(pagecache.PageDebate, web.Gated(h.argument)))
	app.Post("/debats/:slug/arguments/:id", auth.Require(authz.EditOwnArgument), h.editArgument)
	app.Post("/debats/:slug/arguments/:id/masquer", auth.Require(authz.HideArgument), h.hideArgument)
	app.Post("/debats/:slug/arguments/:id/reafficher", auth.Require(authz.HideArgument), h.showArgument)
	app.Get("/recherche", pagecache.Handler(pagecache.PageSearch, web.Gated(h.search)))
}

// reservedDebateSlugs are path segments under /debats that are not debates.
var reservedDebateSlugs = map[string]bool{"souhaites": true, "proposer": true, "suggestions": true}

// debateGroup is the debates of one theme.
type debateGroup struct {
	Theme   Theme
	Debates []Debate
}

// debatesView lists the council's debates by theme.
type debatesView struct {
	web.Page
	Groups []debateGroup
}

func (h *Handlers) debates(c *fiber.Ctx) error {
	ds, err := debates(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	view := debatesView{Page: web.NewPage(c, "Débats")}
	for _, d := range ds {
		if n := len(view.Groups); n == 0 || view.Groups[n-1].Theme != d.Theme {
			view.Groups = append(view.Groups, debateGroup{Theme: d.Theme})
		}
		g := &view.Groups[len(view.Groups)-1]
		g.Debates = append(g.Debates, d)
	}
	return web.Render(c, "governance/debates", view)
}

// CriterionOption is a boussole criterion offered in forms and filters.
type CriterionOption struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// currentCriteria returns the criteria of the council's current boussole, in one query.
func currentCriteria(ctx context.Context, db bun.IDB, councilID int64) ([]CriterionOption, error) {
	var out []CriterionOption
	err := db.NewRaw(`SELECT id, name FROM criteria WHERE council_id = ? AND boussole_version_id =
		(SELECT id FROM boussole_versions WHERE council_id = ? ORDER BY number DESC LIMIT 1) ORDER BY position`,
		councilID, councilID).Scan(ctx, &out)
	return out, err
}

// argumentForm is the state of an argument form: the values sent back and the
// messages when they were refused.
type argumentForm struct {
	Stance      Stance
	CriterionID int64
	Body        string
	Errors      apperr.Fields
	Message     string
}

// Balance is the count of arguments for and against bearing on one criterion,
// with the bar geometry of its small server-side SVG chart (100 units each side).
type Balance struct {
	CriterionID  int64
	Name         string
	For, Against int
	Others       int
	ForX         int
	ForWidth     int
	AgainstWidth int
	Selected     bool
}

// stanceColumn is the top-level arguments of one stance.
type stanceColumn struct {
	Stance    Stance
	Arguments []*Argument
}

// debateView is a debate's page: synthesis first, then for and against side by
// side, the other stances, the balance by criterion and the argument form.
type debateView struct {
	web.Page
	*debateShared
	Stances     []Stance
	CanArgue    bool
	CanModerate bool
	CanEdit     bool
	Form        argumentForm
	// standIn renders pagecache.StandIn in place of the shared part, which
	// pagecache.SendSpliced then puts back, compressed once.
	standIn bool
}

// SharedHTML is the shared part, or its stand-in when the page is sent
// spliced around the kept part (renderDebate).
func (v debateView) SharedHTML() template.HTML {
	if v.standIn {
		return template.HTML(pagecache.StandIn) //nolint:gosec // an HTML comment of ours
	}
	return v.debateShared.SharedHTML()
}

// debateShared is what a debate's page shows every viewer alike: the debate,
// its links, its arguments sorted into columns and already rendered, and the
// balance by criterion. The unfiltered page's is kept in the page cache
// (pagecache.Cache.Value) until a change drops the debate's pages: a
// signed-in member's page, which is never cached whole, then runs no query
// for it and renders only its own parts around it.
type debateShared struct {
	Debate     *Debate
	Items      []LinkedItem
	Proposals  []LinkedProposal
	Criteria   []CriterionOption
	Filter     int64
	FilterName string
	For        stanceColumn
	Against    stanceColumn
	Others     []stanceColumn
	Balance    []Balance
	Count      int
	// html is the template debate/shared rendered for this value, and part
	// the same kept for pagecache.SendSpliced when the value is kept in the
	// page cache (nil otherwise).
	html template.HTML
	part *pagecache.Part
	// fields are the new-argument form's fields as first shown (template
	// debate/argument-fields): the same for every member, and most of the
	// member's own rendering time (~0.4 ms of html/template for 17
	// options). Kept with part, empty otherwise.
	fields template.HTML
}

// SharedHTML is the balance, the filter and the argument columns, rendered
// once for every viewer (templates/governance/debate_shared.html).
func (d *debateShared) SharedHTML() template.HTML { return d.html }

func (h *Handlers) debate(c *fiber.Ctx) error {
	filter, _ := strconv.ParseInt(c.Query("critere"), 10, 64)
	return h.renderDebate(c, strings.Clone(c.Params("slug")), filter, argumentForm{Stance: StanceFor})
}

// renderDebate renders the debate page: the shared part from the page cache
// (unfiltered) or from the database, in a fixed number of queries, whatever
// the number of arguments.
func (h *Handlers) renderDebate(c *fiber.Ctx, slug string, filter int64, form argumentForm) error {
	ctx, co := c.UserContext(), web.Council(c)
	// kept: the value is kept in the page cache for the requests to come,
	// and so is the deflate form of its part.
	kept := false
	load := func() (any, error) {
		d, err := loadDebateShared(ctx, h.DB, co.ID, slug, filter)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := web.RenderTo(c, &b, "debate/shared", d); err != nil {
			return nil, err
		}
		d.html = template.HTML(b.String()) //nolint:gosec // html/template's output
		if kept {
			d.part = pagecache.NewPart(string(d.html))
			var f bytes.Buffer
			if err := web.RenderTo(c, &f, "debate/argument-fields", newArgumentFields(argumentForm{Stance: StanceFor}, d.Criteria)); err != nil {
				return nil, err
			}
			d.fields = template.HTML(f.String()) //nolint:gosec // html/template's output
		}
		// The columns are in the HTML now: the kept value need not hold
		// the parsed arguments too (half its memory for 500 of them).
		d.For.Arguments, d.Against.Arguments = nil, nil
		for i := range d.Others {
			d.Others[i].Arguments = nil
		}
		return d, nil
	}
	var v any
	var err error
	if cache := pagecache.Of(c); cache != nil && filter == 0 {
		kept = !cache.IsDisabled()
		v, err = cache.Value(co.ID, pagecache.PageDebate, "/debats/"+slug, load)
	} else {
		v, err = load()
	}
	if err != nil {
		return err
	}
	shared := v.(*debateShared)
	role := auth.Role(c)
	view := debateView{Page: web.NewPage(c, shared.Debate.Title), debateShared: shared, Stances: stances,
		CanArgue:    shared.Debate.State == DebateOpen && authz.Can(role, authz.AddArgument),
		CanModerate: authz.Can(role, authz.HideArgument),
		CanEdit:     authz.Can(role, authz.EditDebate) || authz.Can(role, authz.ChangeDebate),
		Form:        form}
	if form.Errors != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	if shared.part == nil {
		return web.Render(c, "governance/debate", view)
	}
	// The page is rendered around a stand-in (a few KiB) and sent with the
	// kept part in its place: gzipped, with the part's deflate block made
	// once per change of the debate, to a browser that accepts it.
	view.standIn = true
	var page bytes.Buffer
	page.Grow(16 << 10)
	if err := web.RenderTo(c, &page, "governance/debate", view); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return pagecache.SendSpliced(c, page.Bytes(), shared.part)
}

// loadDebateShared reads a debate's page in five queries (debate, arguments,
// criteria, linked items, linked proposals) and sorts its arguments into
// columns.
func loadDebateShared(ctx context.Context, db *bun.DB, councilID int64, slug string, filter int64) (*debateShared, error) {
	d, err := debatePage(ctx, db, councilID, slug)
	if err != nil {
		return nil, err
	}
	args, err := DebateArguments(ctx, db, councilID, d.ID)
	if err != nil {
		return nil, err
	}
	crit, err := currentCriteria(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	items, err := DebateItems(ctx, db, councilID, d.ID)
	if err != nil {
		return nil, err
	}
	props, err := DebateProposals(ctx, db, councilID, d.ID)
	if err != nil {
		return nil, err
	}
	view := &debateShared{Debate: d, Items: items, Proposals: props, Criteria: crit,
		Filter: filter, For: stanceColumn{Stance: StanceFor}, Against: stanceColumn{Stance: StanceAgainst}}
	view.Balance = balance(args, crit, filter)
	for _, b := range view.Balance {
		if b.Selected {
			view.FilterName = b.Name
		}
	}
	if view.FilterName == "" {
		for _, cr := range crit {
			if cr.ID == filter {
				view.FilterName = cr.Name
			}
		}
	}
	others := map[Stance]*stanceColumn{}
	for _, s := range []Stance{StanceNuance, StanceQuestion, stanceFact} {
		view.Others = append(view.Others, stanceColumn{Stance: s})
	}
	for i := range view.Others {
		others[view.Others[i].Stance] = &view.Others[i]
	}
	for _, a := range args {
		a.DebateSlug = d.Slug
		for _, r := range a.Replies {
			r.DebateSlug = d.Slug
		}
		view.Count += 1 + len(a.Replies)
		if filter != 0 && (a.CriterionID == nil || *a.CriterionID != filter) {
			continue
		}
		switch a.Stance {
		case StanceFor:
			view.For.Arguments = append(view.For.Arguments, a)
		case StanceAgainst:
			view.Against.Arguments = append(view.Against.Arguments, a)
		default:
			if col := others[a.Stance]; col != nil {
				col.Arguments = append(col.Arguments, a)
			}
		}
	}
	return view, nil
}

// balance counts visible top-level arguments and replies per criterion.
func balance(args []*Argument, crit []CriterionOption, filter int64) []Balance {
	idx := map[int64]int{}
	out := make([]Balance, 0, len(crit))
	for _, cr := range crit {
		idx[cr.ID] = len(out)
		out = append(out, Balance{CriterionID: cr.ID, Name: cr.Name, Selected: cr.ID == filter})
	}
	count := func(a *Argument) {
		if a.CriterionID == nil || a.Hidden() {
			return
		}
		i, ok := idx[*a.CriterionID]
		if !ok {
			return
		}
		switch a.Stance {
		case StanceFor:
			out[i].For++
		case StanceAgainst:
			out[i].Against++
		default:
			out[i].Others++
		}
	}
	max := 1
	for _, a := range args {
		count(a)
		for _, r := range a.Replies {
			count(r)
		}
	}
	kept := out[:0]
	for _, b := range out {
		if b.For+b.Against+b.Others > 0 {
			kept = append(kept, b)
			if b.For > max {
				max = b.For
			}
			if b.Against > max {
				max = b.Against
			}
		}
	}
	for i := range kept {
		kept[i].ForWidth = kept[i].For * 100 / max
		kept[i].AgainstWidth = kept[i].Against * 100 / max
		kept[i].ForX = 100 - kept[i].ForWidth
	}
	return kept
}

func argumentInput(c *fiber.Ctx) (ArgumentInput, argumentForm) {
	crit, _ := web.FormInt64(c, "criterion")
	parent, _ := web.FormInt64(c, "parent")
	in := ArgumentInput{ParentID: parent, Stance: Stance(web.Form(c, "stance")), CriterionID: crit,
		BodyMD: web.Form(c, "body")}
	return in, argumentForm{Stance: in.Stance, CriterionID: crit, Body: in.BodyMD}
}

// formFailure turns a refused input into form messages, or returns err when it
// is not a refusal the form can show.
func formFailure(err error, form *argumentForm) error {
	if f := apperr.FieldsOf(err); f != nil {
		form.Errors = f
		return nil
	}
	switch apperr.CodeOf(err) {
	case apperr.Conflict:
		form.Errors = apperr.Fields{}
		form.Message = apperr.MessageOf(err)
		return nil
	}
	return err
}

func (h *Handlers) addArgument(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	in, form := argumentInput(c)
	path, err := web.CreateOnce(c, h.DB, func(ctx context.Context, tx bun.Tx) (string, error) {
		a, err := AddArgument(ctx, tx, web.Council(c).ID, slug, auth.ActorOf(web.ViewerOf(c)), in)
		if err != nil {
			return "", err
		}
		return a.Path(), nil
	})
	if err != nil {
		if ferr := formFailure(err, &form); ferr != nil {
			return ferr
		}
		if in.ParentID != 0 {
			return h.renderArgument(c, slug, in.ParentID, form, argumentForm{})
		}
		return h.renderDebate(c, slug, 0, form)
	}
	return web.RedirectWithFlash(c, path, "Argument publié.")
}

// argumentView is the permalink page of one argument: the argument, its
// replies, its earlier texts, and the forms its readers may use.
type argumentView struct {
	web.Page
	Debate      *Debate
	Argument    *Argument
	Revisions   []Revision
	Criteria    []CriterionOption
	Stances     []Stance
	Source      string
	CanReply    bool
	CanEditOwn  bool
	CanModerate bool
	Reply       argumentForm
	Edit        argumentForm
	// Moderations is the hiding and showing history (moderation.go);
	// CanShow, a hidden argument may be shown again by the viewer, with
	// ShowErrors and ShowReason after a refusal.
	Moderations []Moderation
	CanShow     bool
	ShowErrors  apperr.Fields
	ShowReason  string
}

func (h *Handlers) argument(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "Cet argument n'existe pas.")
	}
	return h.renderArgument(c, strings.Clone(c.Params("slug")), id, argumentForm{Stance: StanceNuance}, argumentForm{})
}

func (h *Handlers) renderArgument(c *fiber.Ctx, slug string, id int64, reply, edit argumentForm, extra ...func(*argumentView)) error {
	ctx, co := c.UserContext(), web.Council(c)
	d, err := debatePage(ctx, h.DB, co.ID, slug)
	if err != nil {
		return err
	}
	a, err := ArgumentThread(ctx, h.DB, co.ID, d.ID, id)
	if err != nil {
		return err
	}
	a.DebateSlug = d.Slug
	for _, r := range a.Replies {
		r.DebateSlug = d.Slug
	}
	view := argumentView{Page: web.NewPage(c, "Argument — "+d.Title), Debate: d, Argument: a, Stances: stances, Reply: reply, Edit: edit}
	if !a.Hidden() {
		if view.Revisions, err = ArgumentRevisions(ctx, h.DB, co.ID, a.ID); err != nil {
			return err
		}
	}
	role, v := auth.Role(c), web.ViewerOf(c)
	view.CanModerate = !a.Hidden() && authz.Can(role, authz.HideArgument)
	view.CanShow = a.Hidden() && authz.Can(role, authz.HideArgument)
	if view.Moderations, err = Moderations(ctx, h.DB, co.ID, a.ID); err != nil {
		return err
	}
	for _, f := range extra {
		f(&view)
	}
	view.CanReply = !a.Hidden() && a.ParentID == nil && d.State == DebateOpen && authz.Can(role, authz.AddArgument)
	view.CanEditOwn = !a.Hidden() && v != nil && a.AuthorID != nil && *a.AuthorID == v.AccountID && authz.Can(role, authz.EditOwnArgument)
	if view.CanReply || view.CanEditOwn {
		if view.Criteria, err = currentCriteria(ctx, h.DB, co.ID); err != nil {
			return err
		}
	}
	if view.CanEditOwn && edit.Stance == "" {
		src, err := argumentSource(ctx, h.DB, co.ID, a.ID)
		if err != nil {
			return err
		}
		view.Edit = argumentForm{Stance: a.Stance, Body: src}
		if a.CriterionID != nil {
			view.Edit.CriterionID = *a.CriterionID
		}
	}
	if reply.Errors != nil || edit.Errors != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return web.Render(c, "governance/debate_argument", view)
}

func argumentURL(slug string, id int64) string {
	return "/debats/" + url.PathEscape(slug) + "/arguments/" + strconv.FormatInt(id, 10)
}

func (h *Handlers) editArgument(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "Cet argument n'existe pas.")
	}
	if _, err := debatePage(c.UserContext(), h.DB, web.Council(c).ID, slug); err != nil {
		return err
	}
	in, form := argumentInput(c)
	if _, err := EditArgument(c.UserContext(), h.DB, web.Council(c).ID, id, auth.ActorOf(web.ViewerOf(c)), in); err != nil {
		if ferr := formFailure(err, &form); ferr != nil {
			return ferr
		}
		return h.renderArgument(c, slug, id, argumentForm{Stance: StanceNuance}, form)
	}
	return web.RedirectWithFlash(c, argumentURL(slug, id), "Argument modifié ; la version précédente reste consultable.")
}

func (h *Handlers) hideArgument(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "Cet argument n'existe pas.")
	}
	ctx, co := c.UserContext(), web.Council(c)
	d, err := debatePage(ctx, h.DB, co.ID, slug)
	if err != nil {
		return err
	}
	if _, err := ArgumentThread(ctx, h.DB, co.ID, d.ID, id); err != nil {
		return err
	}
	if _, err := HideArgument(ctx, h.DB, co.ID, id, auth.ActorOf(web.ViewerOf(c)), web.Form(c, "reason")); err != nil {
		if f := apperr.FieldsOf(err); f != nil {
			return apperr.New(apperr.Invalid, "Indiquez la raison du masquage (500 caractères au plus).")
		}
		return err
	}
	return web.RedirectWithFlash(c, argumentURL(slug, id), "Argument masqué.")
}

// debateEditView is the facilitators' form: context, synthesis, register links,
// and opening or closing the debate.
type debateEditView struct {
	web.Page
	Debate     *Debate
	Items      []LinkedItem     // every register item of the council
	Proposals  []LinkedProposal // every public proposal of the council
	Linked     map[int64]bool   // linked register items
	LinkedProp map[int64]bool   // linked proposals
	Errors     apperr.Fields
	Context    string
	Synthesis  string
	Conclusion string
	CanChange  bool
}

func (h *Handlers) allItems(ctx context.Context, councilID int64) ([]LinkedItem, error) {
	items, err := catalog.ItemsBelowFamilies(ctx, h.DB, councilID)
	out := make([]LinkedItem, len(items))
	for i, it := range items {
		out[i] = LinkedItem{ID: it.ID, Slug: it.Slug, Name: it.Name, Status: string(it.Status)}
	}
	return out, err
}

func (h *Handlers) allProposals(ctx context.Context, councilID int64) ([]LinkedProposal, error) {
	var out []LinkedProposal
	err := h.DB.NewRaw(`SELECT id, title, state FROM proposals WHERE council_id = ? AND state <> ? ORDER BY id DESC LIMIT 300`, councilID, proposal.ProposalDraft).Scan(ctx, &out)
	return out, err
}

func (h *Handlers) editDebateForm(c *fiber.Ctx) error {
	ctx, co := c.UserContext(), web.Council(c)
	d, err := DebateBySlug(ctx, h.DB, co.ID, strings.Clone(c.Params("slug")))
	if err != nil {
		return err
	}
	return h.renderDebateEdit(c, d, d.ContextMD, d.SynthesisMD, "", nil, nil, nil)
}

func (h *Handlers) renderDebateEdit(c *fiber.Ctx, d *Debate, ctxMD, synMD, conclusion string, linked, linkedProps []int64, errs apperr.Fields) error {
	ctx, co := c.UserContext(), web.Council(c)
	all, err := h.allItems(ctx, co.ID)
	if err != nil {
		return err
	}
	props, err := h.allProposals(ctx, co.ID)
	if err != nil {
		return err
	}
	view := debateEditView{Page: web.NewPage(c, "Animer — "+d.Title), Debate: d, Items: all, Linked: map[int64]bool{},
		Proposals: props, LinkedProp: map[int64]bool{},
		Errors: errs, Context: ctxMD, Synthesis: synMD, Conclusion: conclusion, CanChange: authz.Can(auth.Role(c), authz.ChangeDebate)}
	if linked == nil {
		cur, err := DebateItems(ctx, h.DB, co.ID, d.ID)
		if err != nil {
			return err
		}
		for _, it := range cur {
			view.Linked[it.ID] = true
		}
	}
	for _, id := range linked {
		view.Linked[id] = true
	}
	if linkedProps == nil {
		cur, err := DebateProposals(ctx, h.DB, co.ID, d.ID)
		if err != nil {
			return err
		}
		for _, p := range cur {
			view.LinkedProp[p.ID] = true
		}
	}
	for _, id := range linkedProps {
		view.LinkedProp[id] = true
	}
	if errs != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return web.Render(c, "governance/debate_edit", view)
}

func formIDs(c *fiber.Ctx, key string) []int64 {
	var ids []int64
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti(key) {
		if id, err := strconv.ParseInt(string(v), 10, 64); err == nil && id > 0 && len(ids) < 500 {
			ids = append(ids, id)
		}
	}
	return ids
}

func (h *Handlers) editDebate(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	in := debateEdit{ContextMD: web.Form(c, "context"), SynthesisMD: web.Form(c, "synthesis"),
		ItemIDs: formIDs(c, "item"), ProposalIDs: formIDs(c, "proposal")}
	_, err := editDebate(c.UserContext(), h.DB, web.Council(c).ID, slug, auth.ActorOf(web.ViewerOf(c)), in)
	if f := apperr.FieldsOf(err); f != nil {
		d, derr := DebateBySlug(c.UserContext(), h.DB, web.Council(c).ID, slug)
		if derr != nil {
			return derr
		}
		return h.renderDebateEdit(c, d, in.ContextMD, in.SynthesisMD, "", in.ItemIDs, in.ProposalIDs, f)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/debats/"+url.PathEscape(slug), "Débat mis à jour.")
}

func (h *Handlers) changeDebateState(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	to := DebateState(web.Form(c, "state"))
	conclusion := web.Form(c, "conclusion")
	_, err := changeDebateState(c.UserContext(), h.DB, web.Council(c).ID, slug, auth.ActorOf(web.ViewerOf(c)), to, conclusion)
	if f := apperr.FieldsOf(err); f != nil {
		d, derr := DebateBySlug(c.UserContext(), h.DB, web.Council(c).ID, slug)
		if derr != nil {
			return derr
		}
		return h.renderDebateEdit(c, d, d.ContextMD, d.SynthesisMD, conclusion, nil, nil, f)
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/debats/"+url.PathEscape(slug), "Débat : "+to.Label()+".")
}

// backlogView is the backlog of requested debates, most supported first.
type backlogView struct {
	web.Page
	Entries    []BacklogEntry
	CanSupport bool
	CanReview  bool
}

func (h *Handlers) backlog(c *fiber.Ctx) error {
	var viewerID int64
	if v := web.ViewerOf(c); v != nil {
		viewerID = v.AccountID
	}
	entries, err := Backlog(c.UserContext(), h.DB, web.Council(c).ID, viewerID)
	if err != nil {
		return err
	}
	role := auth.Role(c)
	return web.Render(c, "governance/backlog", backlogView{Page: web.NewPage(c, "Débats souhaités"), Entries: entries,
		CanSupport: authz.Can(role, authz.SupportDebate), CanReview: authz.Can(role, authz.ReviewSuggestion)})
}

func (h *Handlers) support(c *fiber.Ctx) error {
	on := !web.FormIs(c, "soutien", "retirer")
	if err := Support(c.UserContext(), h.DB, web.Council(c).ID, strings.Clone(c.Params("slug")), auth.ActorOf(web.ViewerOf(c)), on); err != nil {
		return err
	}
	msg := "Soutien enregistré."
	if !on {
		msg = "Soutien retiré."
	}
	return web.RedirectWithFlash(c, "/debats/souhaites", msg)
}

// suggestView is the public form to suggest a debate topic.
type suggestView struct {
	web.Page
	Themes     []Theme
	Suggestion Suggestion
	Errors     apperr.Fields
}

func (h *Handlers) suggestForm(c *fiber.Ctx) error {
	view := suggestView{Page: web.NewPage(c, "Proposer un sujet de débat"), Themes: themes}
	// "Puis-je acheter… ?" links here with the words it did not find
	// (?sujet=): the form starts from them, as a product topic.
	if sujet := strings.Join(strings.Fields(text.Normalize(strings.Clone(c.Query("sujet")))), " "); sujet != "" {
		if r := []rune(sujet); len(r) > 200 {
			sujet = string(r[:200])
		}
		view.Suggestion = Suggestion{Title: sujet, Theme: "produits",
			Question: "L'allocation peut-elle payer « " + sujet + " » ? Ce produit n'est pas dans le registre."}
	}
	return web.Render(c, "governance/backlog_suggest", view)
}

func (h *Handlers) suggest(c *fiber.Ctx) error {
	s := &Suggestion{Title: web.Form(c, "title"), Question: web.Form(c, "question"),
		Theme: Theme(web.Form(c, "theme")), AuthorName: web.Form(c, "author_name")}
	// Honeypot: a field hidden from people that robots fill in. Pretend success.
	if !web.FormIs(c, "site_web", "") {
		return web.RedirectWithFlash(c, "/debats/souhaites", "Merci ! Votre sujet sera relu par l'équipe d'animation.")
	}
	_, err := web.CreateOnce(c, h.DB, func(ctx context.Context, tx bun.Tx) (string, error) {
		return "/debats/souhaites", Suggest(ctx, tx, web.Council(c).ID, web.ClientIP(c), s)
	})
	if f := apperr.FieldsOf(err); f != nil {
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/backlog_suggest", suggestView{Page: web.NewPage(c, "Proposer un sujet de débat"), Themes: themes, Suggestion: *s, Errors: f})
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/debats/souhaites", "Merci ! Votre sujet sera relu par l'équipe d'animation.")
}

// suggestionsView is the facilitators' review list.
type suggestionsView struct {
	web.Page
	Suggestions []Suggestion
}

func (h *Handlers) suggestions(c *fiber.Ctx) error {
	list, err := pendingSuggestions(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/backlog_review", suggestionsView{Page: web.NewPage(c, "Sujets proposés à relire"), Suggestions: list})
}

func (h *Handlers) reviewSuggestion(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "Cette suggestion n'existe pas.")
	}
	accept := web.FormIs(c, "decision", "accepter")
	d, err := ReviewSuggestion(c.UserContext(), h.DB, web.Council(c).ID, id, auth.ActorOf(web.ViewerOf(c)), accept, web.Form(c, "note"))
	if err != nil {
		return err
	}
	if d != nil {
		return web.RedirectWithFlash(c, "/debats/souhaites#"+d.Slug, "Sujet accepté : « "+d.Title+" » rejoint les débats souhaités.")
	}
	return web.RedirectWithFlash(c, "/debats/suggestions", "Suggestion refusée.")
}

// searchView is the search page.
type searchView struct {
	web.Page
	Results *SearchResults
	// Lookup is the register's "Puis-je acheter… ?" answer for the same
	// words, shown before the debates and proposals (issue 20, point 4): the
	// header's search box lands here, and most people ask about a product.
	Lookup catalog.LookupResult
	Prev   string
	Next   string
}

// Best is the lookup's answer, nil when the register has none or when the
// question is ambiguous (then Candidates lists the items).
func (v searchView) Best() *catalog.SearchHit { return v.Lookup.Best }

// Candidates are the items an ambiguous question matched equally well.
func (v searchView) Candidates() []catalog.SearchHit {
	if v.Lookup.Ambiguous() {
		return v.Lookup.Candidates
	}
	return nil
}

// OtherHits are the lookup's other items beside its answer, at most four.
func (v searchView) OtherHits() []catalog.SearchHit {
	if v.Lookup.Best == nil {
		return nil
	}
	var out []catalog.SearchHit
	if len(v.Lookup.Candidates) > 1 {
		out = append(out, v.Lookup.Candidates[1:]...)
	}
	out = append(out, v.Lookup.Others...)
	return out[:min(len(out), 4)]
}

func (h *Handlers) search(c *fiber.Ctx) error {
	page, _ := strconv.Atoi(c.Query("page"))
	res, err := Search(c.UserContext(), h.DB, web.Council(c).ID, strings.Clone(c.Query("q")), page)
	if err != nil {
		return err
	}
	view := searchView{Page: web.NewPage(c, "Recherche"), Results: res}
	if res.Query != "" && res.Page == 1 {
		if view.Lookup, err = catalog.LookupIn(c.UserContext(), pagecache.Of(c), h.DB, web.Council(c).ID, res.Query); err != nil {
			return err
		}
	}
	q := url.QueryEscape(res.Query)
	if res.Page > 1 {
		view.Prev = "/recherche?q=" + q + "&page=" + strconv.Itoa(res.Page-1)
	}
	if res.Page < res.Pages() && res.Page < 50 {
		view.Next = "/recherche?q=" + q + "&page=" + strconv.Itoa(res.Page+1)
	}
	return web.Render(c, "governance/search", view)
}

// argumentFields is what the shared argument form fields need.
type argumentFields struct {
	Prefix   string // id prefix, so that two forms on one page keep unique ids
	Form     argumentForm
	Stances  []Stance
	Criteria []CriterionOption
}

// NewFields is the new-argument form of the debate page.
func (v debateView) NewFields() argumentFields { return newArgumentFields(v.Form, v.Criteria) }

func newArgumentFields(form argumentForm, criteria []CriterionOption) argumentFields {
	return argumentFields{Prefix: "nouvel-", Form: form, Stances: stances, Criteria: criteria}
}

// KeptFields is the new-argument form's fields rendered once with the
// debate's shared part, or "" when the form is shown again as typed (or
// nothing was kept): the page then renders NewFields.
func (v debateView) KeptFields() template.HTML {
	f := v.Form
	if f.Errors != nil || f.Message != "" || f.Stance != StanceFor || f.CriterionID != 0 || f.Body != "" {
		return ""
	}
	return v.fields
}

// ReplyFields is the reply form of the permalink page.
func (v argumentView) ReplyFields() argumentFields {
	return argumentFields{Prefix: "reponse-", Form: v.Reply, Stances: v.Stances, Criteria: v.Criteria}
}

// EditFields is the author's edit form of the permalink page.
func (v argumentView) EditFields() argumentFields {
	return argumentFields{Prefix: "modif-", Form: v.Edit, Stances: v.Stances, Criteria: v.Criteria}
}

// showArgument shows again an argument hidden by mistake; a refusal shows
// the argument's page again with the reason as typed.
func (h *Handlers) showArgument(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "Cet argument n'existe pas.")
	}
	ctx, co := c.UserContext(), web.Council(c)
	d, err := debatePage(ctx, h.DB, co.ID, slug)
	if err != nil {
		return err
	}
	if _, err := ArgumentThread(ctx, h.DB, co.ID, d.ID, id); err != nil {
		return err
	}
	reason := web.Form(c, "show_reason")
	err = ShowArgument(ctx, h.DB, co.ID, id, auth.ActorOf(web.ViewerOf(c)), reason)
	status := fiber.StatusUnprocessableEntity
	errs := apperr.FieldsOf(err)
	if errs == nil && apperr.CodeOf(err) == apperr.Conflict {
		status, errs = fiber.StatusConflict, apperr.Fields{"show_reason": apperr.MessageOf(err)}
	}
	if errs != nil {
		c.Status(status)
		return h.renderArgument(c, slug, id, argumentForm{Stance: StanceNuance}, argumentForm{}, func(v *argumentView) {
			v.ShowErrors, v.ShowReason = errs, reason
		})
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, argumentURL(slug, id), "Argument ré-affiché ; son masquage reste dans l'historique.")
}
