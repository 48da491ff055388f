package application

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/csvout"
	"cla/internal/web"
)

// Handlers serves the shop applications' pages.
type Handlers struct {
	DB *bun.DB
	// Mailer sends shops their follow-up link; nil when SMTP is off (the link
	// is then only shown on screen).
	Mailer auth.Mailer
	// BaseURL is the public base URL for links in mails ("" uses the request's).
	BaseURL string
}

// Routes lists the routes of shop applications, the charter, the renewals
// and the export for the payment tool.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/devenir-point-de-vente", web.Gated(h.applyForm))
	app.Post("/devenir-point-de-vente", h.apply)
	app.Get("/charte", web.Gated(h.charter))
	app.Get("/candidature/:token", web.Gated(h.followUp))
	app.Post("/candidature/:token/reponse", h.answer)
	app.Post("/candidature/:token/completer", h.complete)
	catalog.BasketEditorRoutes(app, h.DB, "/candidature/:token/panier", h.basketShop)
	app.Get("/gestion/candidatures", auth.Require(authz.ApplicationRead), web.Gated(h.applications))
	app.Get("/gestion/candidatures/:id", auth.Require(authz.ApplicationRead), web.Gated(h.applicationDetail))
	app.Post("/gestion/candidatures/:id/commentaires", auth.Require(authz.ApplicationComment), h.applicationComment)
	app.Post("/gestion/candidatures/:id/questions", auth.Require(authz.ApplicationManage), h.applicationQuestion)
	app.Post("/gestion/candidatures/:id/etat", auth.Require(authz.ApplicationManage), h.applicationState)
	app.Post("/gestion/candidatures/:id/proposition", auth.Require(authz.ApplicationManage), h.applicationPropose)
	app.Get("/gestion/renouvellements", auth.Require(authz.ApplicationRead), web.Gated(h.renewals))
	app.Get("/gestion/points-de-vente/export.csv", auth.Require(authz.ShopExport), web.Gated(h.shopExport))
	app.Get("/gestion/charte", auth.Require(authz.CharterEdit), web.Gated(h.charterForm))
	app.Post("/gestion/charte", auth.Require(authz.CharterEdit), h.publishCharter)
	app.Post("/gestion/charte/duree", auth.Require(authz.CharterEdit), h.setRenewalMonths)
}

// applicationFields is what the application form's fields need (the public
// form and the completion form share them).
type applicationFields struct {
	App        *Application
	Errors     apperr.Fields
	Categories []categoryOption
	Selected   map[string]bool
	Kinds      []catalog.ShopKind
	Shares     []share
	NoSIRET    []catalog.ShopKind
}

func newFields(a *Application, cats []categoryOption, errs apperr.Fields) applicationFields {
	sel := make(map[string]bool, len(a.Categories))
	for _, c := range a.Categories {
		sel[c] = true
	}
	return applicationFields{App: a, Errors: errs, Categories: cats, Selected: sel, Kinds: catalog.ShopKinds,
		Shares: shares}
}

// applyView is the public form "Devenir point de vente".
type applyView struct {
	web.Page
	Fields  applicationFields
	Charter *Charter // nil while the council has none
	Errors  apperr.Fields
	Honey   string
}

// honeypotField is a field people never see (hidden by CSS); robots fill it.
const honeypotField = "site_internet_bis"

// parseApplication reads the application form's fields.
func parseApplication(c *fiber.Ctx) *Application {
	a := &Application{
		ShopName: web.Form(c, "shop_name"), Kind: catalog.ShopKind(web.Form(c, "kind")), SIRET: web.Form(c, "siret"),
		Address: web.Form(c, "address"), Commune: web.Form(c, "commune"), ContactName: web.Form(c, "contact_name"),
		Email: web.Form(c, "email"), Phone: web.Form(c, "phone"), Website: web.Form(c, "website"),
		Seasonality: web.Form(c, "seasonality"), Message: web.Form(c, "message"),
		CharterAccepted: web.FormIs(c, "charter", "oui"),
		LocalShare:      -1, OrganicShare: -1,
	}
	a.InNetwork, a.Network = web.FormIs(c, "independent", "non"), web.Form(c, "network")
	if n, ok := web.FormInt(c, "local_share"); ok {
		a.LocalShare = n
	}
	if n, ok := web.FormInt(c, "organic_share"); ok {
		a.OrganicShare = n
	}
	for _, v := range c.Request().PostArgs().PeekMulti("categories") {
		a.Categories = append(a.Categories, string(v))
	}
	return a
}

func (h *Handlers) applyView(c *fiber.Ctx, a *Application, errs apperr.Fields) (applyView, error) {
	ctx, co := c.UserContext(), web.Council(c)
	v := applyView{Page: web.NewPage(c, "Devenir point de vente"), Errors: errs}
	cats, err := applicationCategories(ctx, h.DB, co.ID)
	if err != nil {
		return v, err
	}
	ch, err := CurrentCharter(ctx, h.DB, co.ID)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		return v, err
	}
	v.Charter = ch
	v.Fields = newFields(a, cats, errs)
	v.Honey = honeypotField
	return v, nil
}

func (h *Handlers) applyForm(c *fiber.Ctx) error {
	v, err := h.applyView(c, &Application{LocalShare: -1, OrganicShare: -1}, nil)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/application_form", v)
}

func (h *Handlers) apply(c *fiber.Ctx) error {
	a := parseApplication(c)
	a.CouncilID = web.Council(c).ID
	err := countApplyAttempt(c.UserContext(), h.DB, web.ClientIP(c))
	switch {
	case err != nil:
	case !web.FormIs(c, honeypotField, ""):
		err = apperr.Fields{"form": "Votre envoi ressemble à un envoi automatique et n'a pas été enregistré. Si vous êtes une personne, videz le champ « Ne pas remplir » et renvoyez le formulaire."}.Err()
	default:
		var token string
		token, err = SubmitApplication(c.UserContext(), h.DB, a, web.ClientIP(c))
		if err == nil {
			return c.Redirect("/candidature/"+token+"?envoyee="+h.mailLink(c, a, token), fiber.StatusSeeOther)
		}
	}
	fields := apperr.FieldsOf(err)
	if fields == nil && apperr.CodeOf(err) != apperr.TooMany {
		return err
	}
	if fields == nil {
		fields = apperr.Fields{"form": apperr.MessageOf(err)}
	}
	v, verr := h.applyView(c, a, fields)
	if verr != nil {
		return verr
	}
	if apperr.CodeOf(err) == apperr.TooMany {
		web.TooMany(c, err)
	} else {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return web.Render(c, "governance/application_form", v)
}

// mailLink says what the follow-up page tells about the mail of the link:
// "1" (no mail configured) or "2" (the receipt, with the link, is on its
// way: governance/notify sends it, from a job enqueued with the
// application). "3" (the mail failed) is no longer known at this point: a
// failure shows in the facilitators' delivery log.
func (h *Handlers) mailLink(*fiber.Ctx, *Application, string) string {
	if h.Mailer == nil {
		return "1"
	}
	return "2"
}

// followUpView is the shop's private follow-up page.
type followUpView struct {
	web.Page
	App      *Application
	State    ApplicationState
	Messages []ApplicationMessage
	Link     string // the full follow-up link
	Action   string // the page's path, which forms post under
	JustSent bool
	Mailed   bool // the link was mailed to the shop
	MailFail bool // mailing the link failed
	Answer   string
	Errors   apperr.Fields
	Fields   applicationFields // the completion form, while à compléter
	Shop     string            // the public page of the shop, once accepted
	// CategoryNames are the register categories the shop ticked.
	CategoryNames []string
	Basket        string // the shop's product list editor, once the shop exists
}

func (h *Handlers) followUpView(c *fiber.Ctx, a *Application, errs apperr.Fields) (followUpView, error) {
	ctx := c.UserContext()
	token := strings.Clone(c.Params("token"))
	v := followUpView{Page: web.NewPage(c, "Suivi de votre candidature"), App: a, State: a.Effective,
		Link: c.BaseURL() + "/candidature/" + token, Action: "/candidature/" + token, JustSent: c.Query("envoyee") != "", Mailed: c.Query("envoyee") == "2",
		MailFail: c.Query("envoyee") == "3", Errors: errs}
	msgs, err := applicationMessages(ctx, h.DB, a.CouncilID, a.ID, false)
	if err != nil {
		return v, err
	}
	v.Messages = msgs
	cats, err := applicationCategories(ctx, h.DB, a.CouncilID)
	if err != nil {
		return v, err
	}
	v.CategoryNames = categoryNames(a, cats)
	if a.Effective == appIncomplete {
		v.Fields = newFields(a, cats, errs)
	}
	if a.ShopID != nil {
		v.Basket = v.Action + "/panier"
	}
	if a.Effective == AppAccepted && a.ShopID != nil {
		if slug, err := catalog.ShopSlug(ctx, h.DB, a.CouncilID, *a.ShopID); err == nil {
			v.Shop = "/points-de-vente/" + slug
		}
	}
	return v, nil
}

func (h *Handlers) renderFollowUp(c *fiber.Ctx, a *Application, errs apperr.Fields, status int) error {
	v, err := h.followUpView(c, a, errs)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Robots-Tag", "noindex")
	c.Status(status)
	return web.Render(c, "governance/application_followup", v)
}

func (h *Handlers) byToken(c *fiber.Ctx) (*Application, error) {
	a, err := applicationByToken(c.UserContext(), h.DB, web.Council(c).ID, c.Params("token"))
	if err == nil {
		a.InNetwork = a.Network != "" // as stored, for the completion form
	}
	return a, err
}

// basketShop is the shop whose product list the private follow-up link
// edits: the application's own shop, never another (an unknown link, or one
// whose application has no shop yet, is not found).
func (h *Handlers) basketShop(c *fiber.Ctx) (*catalog.Shop, error) {
	a, err := applicationByToken(c.UserContext(), h.DB, web.Council(c).ID, c.Params("token"))
	if err != nil {
		return nil, err
	}
	if a.ShopID == nil {
		return nil, apperr.New(apperr.NotFound, "La liste des produits s'ouvre quand le Conseil a inscrit votre point de vente.")
	}
	return catalog.ShopByID(c.UserContext(), h.DB, a.CouncilID, *a.ShopID)
}

func (h *Handlers) followUp(c *fiber.Ctx) error {
	a, err := h.byToken(c)
	if err != nil {
		return err
	}
	return h.renderFollowUp(c, a, nil, fiber.StatusOK)
}

func (h *Handlers) answer(c *fiber.Ctx) error {
	a, err := h.byToken(c)
	if err != nil {
		return err
	}
	m := &ApplicationMessage{Kind: MsgAnswer, Body: web.Form(c, "body")}
	if err := AddApplicationMessage(c.UserContext(), h.DB, a, m, audit.Actor{}, false); err != nil {
		f := apperr.FieldsOf(err)
		if f == nil {
			return err
		}
		v, verr := h.followUpView(c, a, f)
		if verr != nil {
			return verr
		}
		v.Answer = m.Body
		c.Set(fiber.HeaderCacheControl, "no-store")
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/application_followup", v)
	}
	return web.RedirectWithFlash(c, "/candidature/"+strings.Clone(c.Params("token")), "Votre réponse est envoyée au Conseil.")
}

func (h *Handlers) complete(c *fiber.Ctx) error {
	a, err := h.byToken(c)
	if err != nil {
		return err
	}
	upd := parseApplication(c)
	err = completeApplication(c.UserContext(), h.DB, a, upd)
	if err == nil {
		return web.RedirectWithFlash(c, "/candidature/"+strings.Clone(c.Params("token")), "Votre candidature complétée est renvoyée au Conseil.")
	}
	f := apperr.FieldsOf(err)
	if f == nil {
		return err
	}
	// Keep what the shop typed, on top of the stored application.
	shown := *a
	for _, p := range []struct{ dst, src *string }{{&shown.ShopName, &upd.ShopName}, {&shown.SIRET, &upd.SIRET},
		{&shown.Address, &upd.Address}, {&shown.Commune, &upd.Commune}, {&shown.ContactName, &upd.ContactName},
		{&shown.Email, &upd.Email}, {&shown.Phone, &upd.Phone}, {&shown.Website, &upd.Website},
		{&shown.Network, &upd.Network}, {&shown.Seasonality, &upd.Seasonality}, {&shown.Message, &upd.Message}} {
		*p.dst = *p.src
	}
	shown.InNetwork = upd.InNetwork
	shown.Kind, shown.Categories, shown.LocalShare, shown.OrganicShare = upd.Kind, upd.Categories, upd.LocalShare, upd.OrganicShare
	return h.renderFollowUp(c, &shown, f, fiber.StatusUnprocessableEntity)
}

// applicationsView is the council's list of applications.
type applicationsView struct {
	web.Page
	States []stateTab
	State  ApplicationState
	Apps   []Application
}

// stateTab is one state of the list, with its count.
type stateTab struct {
	State ApplicationState
	Count int
}

func (h *Handlers) applications(c *fiber.Ctx) error {
	ctx, co := c.UserContext(), web.Council(c)
	state := ApplicationState(c.Query("etat"))
	if state != "" && !state.Valid() {
		state = ""
	}
	counts, err := applicationCounts(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	apps, err := ListApplications(ctx, h.DB, co.ID, state)
	if err != nil {
		return err
	}
	v := applicationsView{Page: web.NewPage(c, "Candidatures des points de vente"), State: state, Apps: apps}
	for _, s := range applicationStates {
		v.States = append(v.States, stateTab{State: s, Count: counts[s]})
	}
	return web.Render(c, "governance/applications", v)
}

// applicationView is one application as the council sees it.
type applicationView struct {
	web.Page
	App           *Application
	Messages      []ApplicationMessage
	CategoryNames []string
	Charter       *Charter
	Moves         []ApplicationState
	CanManage     bool
	CanComment    bool
	Draft         AdhesionDraft
	Duplicate     *Application
	Errors        apperr.Fields
	Comment       string
	Question      string
	Reason        string // the refusal reason as typed
}

func (h *Handlers) applicationView(c *fiber.Ctx) (*applicationView, error) {
	ctx, co := c.UserContext(), web.Council(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "Cette candidature n'existe pas dans ce Conseil.")
	}
	a, err := GetApplication(ctx, h.DB, co.ID, id)
	if err != nil {
		return nil, err
	}
	msgs, err := applicationMessages(ctx, h.DB, co.ID, a.ID, true)
	if err != nil {
		return nil, err
	}
	cats, err := applicationCategories(ctx, h.DB, co.ID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, o := range cats {
		names[o.Slug] = o.Name
	}
	catNames := categoryNames(a, cats)
	role := authz.Role("")
	if vw := web.ViewerOf(c); vw != nil {
		role = authz.Role(vw.Role)
	}
	v := &applicationView{Page: web.NewPage(c, "Candidature : "+a.ShopName), App: a, Messages: msgs, CategoryNames: catNames,
		CanManage: authz.Can(role, authz.ApplicationManage), CanComment: authz.Can(role, authz.ApplicationComment),
		Draft: DraftProposal(a, names)}
	if v.CanManage {
		v.Moves = ApplicationMoves(a)
	}
	return v, nil
}

func (h *Handlers) applicationDetail(c *fiber.Ctx) error {
	v, err := h.applicationView(c)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/application", v)
}

func (h *Handlers) reRenderApplication(c *fiber.Ctx, v *applicationView, err error) error {
	f := apperr.FieldsOf(err)
	if f == nil {
		return err
	}
	v.Errors = f
	return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/application", v)
}

func (h *Handlers) applicationComment(c *fiber.Ctx) error {
	v, err := h.applicationView(c)
	if err != nil {
		return err
	}
	m := &ApplicationMessage{Kind: msgComment, Body: web.Form(c, "body")}
	if err := AddApplicationMessage(c.UserContext(), h.DB, v.App, m, auth.ActorOf(web.ViewerOf(c)), false); err != nil {
		v.Comment = m.Body
		return h.reRenderApplication(c, v, err)
	}
	return web.RedirectWithFlash(c, appPath(v.App), "Commentaire interne ajouté.")
}

func (h *Handlers) applicationQuestion(c *fiber.Ctx) error {
	v, err := h.applicationView(c)
	if err != nil {
		return err
	}
	if !v.App.Effective.Pending() {
		return apperr.New(apperr.Conflict, "Cette candidature est close.")
	}
	m := &ApplicationMessage{Kind: MsgQuestion, Body: web.Form(c, "body")}
	ask := web.FormIs(c, "a_completer", "oui") && v.App.Effective != AppProposed
	if err := AddApplicationMessage(c.UserContext(), h.DB, v.App, m, auth.ActorOf(web.ViewerOf(c)), ask); err != nil {
		v.Question = m.Body
		return h.reRenderApplication(c, v, err)
	}
	return web.RedirectWithFlash(c, appPath(v.App), "Question envoyée : le point de vente la verra sur sa page de suivi.")
}

func (h *Handlers) applicationState(c *fiber.Ctx) error {
	v, err := h.applicationView(c)
	if err != nil {
		return err
	}
	to := ApplicationState(web.Form(c, "state"))
	reason := web.Form(c, "reason")
	if err := SetApplicationState(c.UserContext(), h.DB, v.App, to, auth.ActorOf(web.ViewerOf(c)), reason); err != nil {
		v.Reason = reason
		return h.reRenderApplication(c, v, err)
	}
	return web.RedirectWithFlash(c, appPath(v.App), "Candidature : "+to.Label()+".")
}

func (h *Handlers) applicationPropose(c *fiber.Ctx) error {
	v, err := h.applicationView(c)
	if err != nil {
		return err
	}
	draft := AdhesionDraft{Title: web.Form(c, "title"), Outcome: web.Form(c, "outcome"), Rationale: web.Form(c, "rationale")}
	p, err := ProposeApplication(c.UserContext(), h.DB, v.App, draft, auth.ActorOf(web.ViewerOf(c)))
	if err != nil {
		v.Draft = draft
		return h.reRenderApplication(c, v, err)
	}
	return web.RedirectWithFlash(c, "/propositions/"+strconv.FormatInt(p.ID, 10), "Proposition d'adhésion créée en brouillon : relisez-la puis ouvrez-la à l'évaluation et au débat.")
}

func appPath(a *Application) string { return "/gestion/candidatures/" + strconv.FormatInt(a.ID, 10) }

// renewalsView lists conventions to renew.
type renewalsView struct {
	web.Page
	Days     int
	Today    time.Time
	Renewals []renewal
}

// renewalWindow is how far ahead the renewals list looks, in days.
const renewalWindow = 60

func (h *Handlers) renewals(c *fiber.Ctx) error {
	now := time.Now().In(web.Location(c))
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	rs, err := renewals(c.UserContext(), h.DB, web.Council(c).ID, today, renewalWindow)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/application_renewals", renewalsView{Page: web.NewPage(c, "Conventions à renouveler"),
		Days: renewalWindow, Today: today, Renewals: rs})
}

// ExportHeader is the header row of the export for the payment tool; the
// columns are documented in docs/api.md.
var ExportHeader = []string{"ref", "name", "type", "street", "city", "country", "email", "phone", "website", "siret",
	"status", "status_label", "convention_signed_on", "convention_renewal_on", "renewal_due"}

// exportRecord is one point de vente as a CSV record.
func exportRecord(s exportShop, today time.Time) []string {
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format("2006-01-02")
	}
	due := "non"
	if s.RenewalOn != nil && s.Status == string(catalog.ShopConventionne) && !s.RenewalOn.After(today.AddDate(0, 0, renewalWindow)) {
		due = "oui"
	}
	return []string{s.Slug, s.Name, catalog.ShopKind(s.Kind).Label(), s.Address, s.Commune, "FR", s.Email, s.Phone, s.Website,
		s.SIRET, s.Status, catalog.ShopStatus(s.Status).Label(), date(s.SignedOn), date(s.RenewalOn), due}
}

func (h *Handlers) shopExport(c *fiber.Ctx) error {
	co := web.Council(c)
	shops, err := exportShops(c.UserContext(), h.DB, co.ID)
	if err != nil {
		return err
	}
	now := time.Now().In(web.Location(c))
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	w := csvout.NewWriter(&buf, true) // CR LF: RFC 4180
	_ = w.Write(ExportHeader)
	for _, s := range shops {
		_ = w.Write(exportRecord(s, today))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="points-de-vente-`+co.Slug+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// charterView shows the charter in force (public) or its management form.
type charterView struct {
	web.Page
	Charter       *Charter
	Draft         Charter
	RenewalMonths int
	Errors        apperr.Fields
}

func (h *Handlers) charter(c *fiber.Ctx) error {
	ch, err := CurrentCharter(c.UserContext(), h.DB, web.Council(c).ID)
	if apperr.CodeOf(err) == apperr.NotFound {
		// A new council has none yet: the page says so, and where to apply.
		return web.Render(c, "governance/charter", charterView{Page: web.NewPage(c, "Charte d'engagement des points de vente")})
	}
	if err != nil {
		return err
	}
	return web.Render(c, "governance/charter", charterView{Page: web.NewPage(c, ch.Title), Charter: ch})
}

func (h *Handlers) charterView(c *fiber.Ctx) (*charterView, error) {
	ctx, co := c.UserContext(), web.Council(c)
	v := &charterView{Page: web.NewPage(c, "Charte d'engagement des points de vente")}
	ch, err := CurrentCharter(ctx, h.DB, co.ID)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		return nil, err
	}
	if ch != nil {
		v.Charter, v.Draft = ch, Charter{Title: ch.Title, BodyMD: ch.BodyMD}
	}
	if v.RenewalMonths, err = renewalMonths(ctx, h.DB, co.ID); err != nil {
		return nil, err
	}
	return v, nil
}

func (h *Handlers) charterForm(c *fiber.Ctx) error {
	v, err := h.charterView(c)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/charter_form", v)
}

func (h *Handlers) publishCharter(c *fiber.Ctx) error {
	v, err := h.charterView(c)
	if err != nil {
		return err
	}
	ch := &Charter{CouncilID: web.Council(c).ID, Title: web.Form(c, "title"), BodyMD: web.Form(c, "body")}
	if err := publishCharter(c.UserContext(), h.DB, ch, auth.ActorOf(web.ViewerOf(c))); err != nil {
		f := apperr.FieldsOf(err)
		if f == nil {
			return err
		}
		v.Draft, v.Errors = *ch, f
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/charter_form", v)
	}
	return web.RedirectWithFlash(c, "/gestion/charte", "Charte publiée en version "+strconv.Itoa(ch.Version)+".")
}

func (h *Handlers) setRenewalMonths(c *fiber.Ctx) error {
	v, err := h.charterView(c)
	if err != nil {
		return err
	}
	n, convErr := strconv.Atoi(strings.TrimSpace(web.Form(c, "renewal_months")))
	if convErr != nil {
		n = 0
	}
	if err := setRenewalMonths(c.UserContext(), h.DB, web.Council(c).ID, n, auth.ActorOf(web.ViewerOf(c))); err != nil {
		f := apperr.FieldsOf(err)
		if f == nil {
			return err
		}
		v.Errors = f
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/charter_form", v)
	}
	return web.RedirectWithFlash(c, "/gestion/charte", "Durée des conventions enregistrée.")
}
