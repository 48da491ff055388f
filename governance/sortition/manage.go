package sortition

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/database"
	"cla/internal/web"
)

// ManageRoutes lists the facilitators' routes of sortition.
func (h *Handlers) ManageRoutes(app fiber.Router) {
	app.Get("/gestion/tirages", auth.Require(authz.SortitionManage), web.Gated(h.manageList))
	app.Post("/gestion/tirages", auth.Require(authz.SortitionManage), h.create)
	app.Get("/gestion/tirages/:slug", auth.Require(authz.SortitionManage), web.Gated(h.manageDraw))
	app.Post("/gestion/tirages/:slug/engagement", auth.Require(authz.SortitionManage), h.commit)
	app.Post("/gestion/tirages/:slug/hasard", auth.Require(authz.SortitionManage), h.randomness)
	app.Post("/gestion/tirages/:slug/anonymiser", auth.Require(authz.SortitionManage), h.anonymise)
}

// ParseCategories reads the strata as a facilitator types them, one per
// line, "name: value, value, …"; "je préfère ne pas répondre" is added to
// each.
func ParseCategories(text string) ([]draw.Category, error) {
	var cats []draw.Category
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, vals, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, apperr.Fields{"categories": fmt.Sprintf("Ligne « %s » : écrivez « catégorie : valeur, valeur… ».", line)}.Err()
		}
		cat := draw.Category{Name: name}
		for _, v := range strings.Split(vals, ",") {
			if v = strings.TrimSpace(v); v != "" && v != draw.PreferNotToSay {
				cat.Values = append(cat.Values, v)
			}
		}
		if len(cat.Values) == 0 {
			return nil, apperr.Fields{"categories": fmt.Sprintf("La catégorie « %s » n’a aucune valeur.", name)}.Err()
		}
		cat.Values = append(cat.Values, draw.PreferNotToSay)
		cats = append(cats, cat)
	}
	return cats, nil
}

// ParseQuotas reads quotas, one per line, "catégorie: valeur = min-max".
func ParseQuotas(text string) ([]draw.Quota, error) {
	qs := []draw.Quota{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		bad := apperr.Fields{"quotas": fmt.Sprintf("Ligne « %s » : écrivez « catégorie : valeur = minimum-maximum ».", line)}.Err()
		cv, bounds, ok := strings.Cut(line, "=")
		cat, val, ok2 := strings.Cut(cv, ":")
		lo, hi, ok3 := strings.Cut(bounds, "-")
		if !ok || !ok2 || !ok3 {
			return nil, bad
		}
		low, err1 := strconv.Atoi(strings.TrimSpace(lo))
		high, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil {
			return nil, bad
		}
		qs = append(qs, draw.Quota{Category: strings.TrimSpace(cat), Value: strings.TrimSpace(val), Min: low, Max: high})
	}
	return qs, nil
}

// Volunteers lists a draw's candidacies for the facilitators.
func Volunteers(ctx context.Context, db bun.IDB, councilID, drawID int64) ([]Volunteer, error) {
	var vs []Volunteer
	err := db.NewRaw(`SELECT id, draw_id, pseudonym, name, email, commune, strata, confirmed_at, withdrawn_at, anonymised_at
		FROM sortition_volunteers WHERE council_id = ? AND draw_id = ? ORDER BY created_at, id`, councilID, drawID).Scan(ctx, &vs)
	if database.IsNoRows(err) {
		err = nil
	}
	return vs, err
}

type manageListView struct {
	web.Page
	Draws  []Draw
	Form   map[string]string
	Errors apperr.Fields
}

func (h *Handlers) manageList(c *fiber.Ctx) error {
	return h.renderManageList(c, map[string]string{"seats": "12", "reserves": "12", "term_months": "24",
		"categories": "âge : 16-34, 35-54, 55-69, 70+\ngenre : femme, homme, autre", "source_kind": draw.SourceDrand}, nil, fiber.StatusOK)
}

func (h *Handlers) renderManageList(c *fiber.Ctx, form map[string]string, errs apperr.Fields, status int) error {
	ds, err := ListDraws(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	return web.RenderStatus(c, status, "governance/sortition_manage", manageListView{Page: web.NewPage(c, "Tirages au sort"), Draws: ds, Form: form, Errors: errs})
}

func (h *Handlers) create(c *fiber.Ctx) error {
	form := map[string]string{}
	for _, k := range []string{"slug", "title", "seats", "reserves", "term_months", "closes_at", "categories", "quotas", "source_kind", "drand_round", "description"} {
		form[k] = web.Form(c, k)
	}
	errs := apperr.Fields{}
	in := DrawInput{Slug: form["slug"], Title: form["title"]}
	var ok bool
	if in.Seats, ok = web.FormInt(c, "seats"); !ok {
		errs.Add("seats", "Indiquez un nombre de sièges.")
	}
	if in.Reserves, ok = web.FormInt(c, "reserves"); !ok {
		errs.Add("reserves", "Indiquez un nombre de suppléant·es.")
	}
	if in.TermMonths, ok = web.FormInt(c, "term_months"); !ok {
		errs.Add("term_months", "Indiquez la durée du mandat en mois.")
	}
	if in.ClosesAt, ok = web.ParseLocalTime(form["closes_at"], web.Location(c)); !ok {
		errs.Add("closes_at", "Indiquez la date et l’heure de clôture.")
	}
	var err error
	if in.Categories, err = ParseCategories(form["categories"]); err != nil {
		errs.Add("categories", apperr.FieldsOf(err)["categories"])
	}
	if in.Quotas, err = ParseQuotas(form["quotas"]); err != nil {
		errs.Add("quotas", apperr.FieldsOf(err)["quotas"])
	}
	in.Source = draw.Source{Kind: form["source_kind"], Description: strings.TrimSpace(form["description"])}
	if in.Source.Kind == draw.SourceDrand {
		in.Source.Chain = drand.Quicknet.Hash
		if in.Source.Description == "" {
			in.Source.Description = "drand quicknet"
		}
		r, err := strconv.ParseUint(strings.TrimSpace(form["drand_round"]), 10, 64)
		if err != nil || r == 0 {
			errs.Add("drand_round", fmt.Sprintf("Indiquez un tour drand publié après la clôture (par exemple %d pour une clôture maintenant).", drand.Quicknet.RoundAt(h.now())+1200))
		}
		in.Source.Round = r
	}
	if len(errs) == 0 {
		var d *Draw
		d, err = CreateDraw(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, in, h.now())
		if err == nil {
			return web.RedirectWithFlash(c, "/gestion/tirages/"+d.Slug, "Tirage préparé : les candidatures sont ouvertes.")
		}
		if errs = apperr.FieldsOf(err); errs == nil {
			return err
		}
	}
	return h.renderManageList(c, form, errs, fiber.StatusUnprocessableEntity)
}

type manageDrawView struct {
	web.Page
	Draw       *Draw
	Volunteers []Volunteer
	Confirmed  int
	CanCommit  bool
	Randomness string
	Errors     apperr.Fields
}

func (h *Handlers) manageDraw(c *fiber.Ctx) error {
	return h.renderManageDraw(c, "", nil, fiber.StatusOK)
}

func (h *Handlers) renderManageDraw(c *fiber.Ctx, randomness string, errs apperr.Fields, status int) error {
	ctx := c.UserContext()
	d, err := DrawBySlug(ctx, h.DB, web.Council(c).ID, c.Params("slug"))
	if err != nil {
		return err
	}
	vs, err := Volunteers(ctx, h.DB, d.CouncilID, d.ID)
	if err != nil {
		return err
	}
	v := manageDrawView{Page: web.NewPage(c, "Tirage : "+d.Title), Draw: d, Volunteers: vs, Randomness: randomness, Errors: errs,
		CanCommit: d.State == Open && !h.now().Before(d.ClosesAt)}
	for _, x := range vs {
		if x.ConfirmedAt != nil && x.WithdrawnAt == nil {
			v.Confirmed++
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.RenderStatus(c, status, "governance/sortition_manage_draw", v)
}

func (h *Handlers) commit(c *fiber.Ctx) error {
	co := web.Council(c)
	slug := strings.Clone(c.Params("slug"))
	_, err := Commit(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), co.ID, slug, co.Slug, h.now())
	if err == nil {
		return web.RedirectWithFlash(c, "/gestion/tirages/"+slug, "Engagement publié.")
	}
	var de *draw.Error
	if errors.As(err, &de) {
		return h.renderManageDraw(c, "", apperr.Fields{"commit": de.Message}, fiber.StatusUnprocessableEntity)
	}
	return err
}

func (h *Handlers) randomness(c *fiber.Ctx) error {
	value := web.Form(c, "randomness")
	slug := strings.Clone(c.Params("slug"))
	_, err := EnterRandomness(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, slug, value, h.now())
	if err == nil {
		return web.RedirectWithFlash(c, "/tirages/"+slug, "Hasard saisi : le tirage est publié.")
	}
	if f := apperr.FieldsOf(err); f != nil {
		return h.renderManageDraw(c, value, f, fiber.StatusUnprocessableEntity)
	}
	return err
}

func (h *Handlers) anonymise(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	if err := Anonymise(c.UserContext(), h.DB, auth.ActorOf(web.ViewerOf(c)), web.Council(c).ID, slug, h.now()); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/tirages/"+slug, "Les données personnelles des volontaires sont effacées.")
}
