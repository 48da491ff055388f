package sortition

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/database"
	"cla/internal/mail"
	"cla/internal/web"
)

// Handlers serves the public pages of draws: the list, each draw's page and
// draw.json, the volunteers' form and their private link.
type Handlers struct {
	DB *bun.DB
	// Mailer is set when SMTP is configured: volunteers are then mailed the
	// link that confirms their address (double opt-in), queued as a job of
	// internal/mail in the candidacy's transaction. Nil: the link is shown on
	// screen, and its first visit confirms.
	Mailer auth.Mailer
	// BaseURL is the public base URL for links in mails ("" uses the request's).
	BaseURL string
	// Now is the clock (time.Now when nil); tests and the demo fix it.
	Now func() time.Time
}

func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Routes lists the public routes of sortition.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/tirages", web.Gated(h.list))
	app.Get("/tirages/:slug", web.Gated(h.page))
	app.Get("/tirages/:slug/draw.json", web.Gated(h.file))
	app.Get("/tirages/:slug/candidature", web.Gated(h.volunteerForm))
	app.Post("/tirages/:slug/candidature", h.volunteer)
	app.Get("/tirage-candidature/:token", web.Gated(h.private))
	app.Post("/tirage-candidature/:token/retrait", h.withdraw)
	app.Post("/tirage-candidature/:token/siege", h.decide)
}

// ListDraws returns the council's draws, latest closing first.
func ListDraws(ctx context.Context, db bun.IDB, councilID int64) ([]Draw, error) {
	var ds []Draw
	err := db.NewRaw(`SELECT id, council_id, slug, title, seats, reserves, term_months, categories, quotas, source, closes_at, state,
		commitment_sha256, committed_at, randomness, randomness_at, result
		FROM sortition_draws WHERE council_id = ? ORDER BY closes_at DESC, id DESC`, councilID).Scan(ctx, &ds)
	if database.IsNoRows(err) {
		err = nil
	}
	return ds, err
}

// StateLabel is the draw's state in French.
func (d *Draw) StateLabel() string {
	switch d.State {
	case Open:
		return "Candidatures ouvertes"
	case Committed:
		return "Engagement publié, hasard attendu"
	}
	return "Tirage effectué"
}

// SourceText says in French where the randomness comes from and where to
// check it.
func (d *Draw) SourceText() string {
	switch d.Source.Kind {
	case draw.SourceDrand:
		chain, _ := drand.ByHash(d.Source.Chain)
		return fmt.Sprintf("Balise drand « %s » (League of Entropy), tour %d, publié le %s ; à vérifier sur %s/public/%d",
			chain.Name, d.Source.Round, web.FrenchDate(chain.RoundTime(d.Source.Round)), chain.URL, d.Source.Round)
	case draw.SourceLottery:
		return "Tirage public : " + d.Source.Description
	}
	return "Indice public : " + d.Source.Description
}

type listView struct {
	web.Page
	Draws []Draw
}

func (h *Handlers) list(c *fiber.Ctx) error {
	ds, err := ListDraws(c.UserContext(), h.DB, web.Council(c).ID)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/sortition_list", listView{Page: web.NewPage(c, "Tirages au sort"), Draws: ds})
}

type pageView struct {
	web.Page
	Draw       *Draw
	Seats      []seatRow
	Volunteers int
	Open       bool
	Met        bool
}

func (h *Handlers) page(c *fiber.Ctx) error {
	ctx := c.UserContext()
	d, err := DrawBySlug(ctx, h.DB, web.Council(c).ID, c.Params("slug"))
	if err != nil {
		return err
	}
	v := pageView{Page: web.NewPage(c, d.Title), Draw: d, Open: d.State == Open && h.now().Before(d.ClosesAt)}
	if d.Commitment != nil {
		var cm draw.Commitment
		if err := json.Unmarshal([]byte(*d.Commitment), &cm); err != nil {
			return err
		}
		v.Volunteers = len(cm.Candidates)
	}
	if d.Result != nil {
		v.Met = draw.Met(d.Result.Quotas)
		ss, err := Seats(ctx, h.DB, d.ID)
		if err != nil {
			return err
		}
		for _, s := range ss {
			v.Seats = append(v.Seats, seatRow{Seat: s, Label: s.Label(h.now())})
		}
	}
	return web.Render(c, "governance/sortition_draw", v)
}

func (h *Handlers) file(c *fiber.Ctx) error {
	d, err := DrawBySlug(c.UserContext(), h.DB, web.Council(c).ID, c.Params("slug"))
	if err != nil {
		return err
	}
	f, err := d.File()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="draw.json"`)
	return c.Send(buf.Bytes())
}

type formView struct {
	web.Page
	Draw   *Draw
	Input  VolunteerInput
	Errors apperr.Fields
}

// Field is the form field name of a stratum.
func (v formView) Field(category string) string { return "strata_" + category }

func (h *Handlers) openDraw(c *fiber.Ctx) (*Draw, error) {
	d, err := DrawBySlug(c.UserContext(), h.DB, web.Council(c).ID, c.Params("slug"))
	if err != nil {
		return nil, err
	}
	if d.State != Open || !h.now().Before(d.ClosesAt) {
		return nil, apperr.New(apperr.Conflict, "Les candidatures à ce tirage sont closes.")
	}
	return d, nil
}

func (h *Handlers) volunteerForm(c *fiber.Ctx) error {
	d, err := h.openDraw(c)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/sortition_form", formView{Page: web.NewPage(c, "Me porter volontaire : "+d.Title), Draw: d})
}

func (h *Handlers) volunteer(c *fiber.Ctx) error {
	d, err := h.openDraw(c)
	if err != nil {
		return err
	}
	in := VolunteerInput{Name: web.Form(c, "name"), Email: web.Form(c, "email"), Commune: web.Form(c, "commune"), Strata: map[string]string{}}
	for _, cat := range d.Categories {
		in.Strata[cat.Name] = web.Form(c, "strata_"+cat.Name)
	}
	// The candidacy and its confirmation mail are written together: the mail
	// is a job of internal/mail, sent (and retried) by the job runner.
	var token string
	err = h.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if token, err = AddVolunteer(ctx, tx, d.CouncilID, d.Slug, in, h.now()); err != nil || h.Mailer == nil {
			return err
		}
		_, err = mail.Enqueue(ctx, tx, h.confirmationMail(c, d, in.Email, token))
		return err
	})
	if err == nil {
		if h.Mailer != nil {
			return web.RedirectWithFlash(c, "/tirages/"+d.Slug, "Un courriel part à "+auth.NormalizeEmail(in.Email)+
				" : ouvrez le lien qu’il contient pour confirmer votre candidature.")
		}
		// Without SMTP, the private link is shown on screen.
		return c.Redirect("/tirage-candidature/"+token+"?nouvelle=1", fiber.StatusSeeOther)
	}
	fields := apperr.FieldsOf(err)
	if fields == nil {
		return err
	}
	return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "governance/sortition_form",
		formView{Page: web.NewPage(c, "Me porter volontaire : "+d.Title), Draw: d, Input: in, Errors: fields})
}

// confirmationMail is the mail carrying the private link, whose first visit
// confirms the candidacy.
func (h *Handlers) confirmationMail(c *fiber.Ctx, d *Draw, email, token string) *mail.Message {
	base := h.BaseURL
	if base == "" {
		base = c.BaseURL()
	}
	co := web.Council(c)
	body := "Bonjour,\n\n" +
		"Vous vous portez volontaire pour le tirage au sort « " + d.Title + " » (" + co.Name + ").\n\n" +
		"Pour confirmer votre candidature, ouvrez ce lien privé ; il permet aussi de la voir, de la retirer et de vérifier votre identifiant dans la liste publiée (gardez-le, ne le partagez pas) :\n" +
		strings.TrimRight(base, "/") + "/tirage-candidature/" + token + "\n\n" +
		"Si vous n'avez pas envoyé cette candidature, ignorez ce message : elle ne comptera pas.\n"
	return &mail.Message{From: mail.Address{Name: co.Name}, To: mail.Address{Email: auth.NormalizeEmail(email)},
		Subject: "Confirmez votre candidature au tirage au sort", Text: body}
}

// seatRow is a seat as pages show it.
type seatRow struct {
	Seat
	Label string
}

type privateView struct {
	web.Page
	Volunteer *Volunteer
	Draw      *Draw
	Link      string
	Token     string
	New       bool
	InList    bool
	CanLeave  bool
	Seat      *seatRow
}

func (h *Handlers) private(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token := strings.Clone(c.Params("token"))
	// The first visit of the link confirms the address (double opt-in).
	v, err := Confirm(ctx, h.DB, token, h.now())
	if err != nil {
		return err
	}
	var slug string
	if err := h.DB.NewRaw("SELECT slug FROM sortition_draws WHERE id = ? AND council_id = ?", v.DrawID, web.Council(c).ID).Scan(ctx, &slug); err != nil {
		if database.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Ce lien de candidature n’existe pas.")
		}
		return err
	}
	d, err := DrawBySlug(ctx, h.DB, web.Council(c).ID, slug)
	if err != nil {
		return err
	}
	view := privateView{Page: web.NewPage(c, "Votre candidature au tirage au sort"), Volunteer: v, Draw: d,
		Link: c.BaseURL() + "/tirage-candidature/" + token, Token: token, New: c.Query("nouvelle") != "",
		CanLeave: d.State == Open && v.WithdrawnAt == nil}
	if d.Commitment != nil {
		view.InList = strings.Contains(*d.Commitment, `"id":"`+v.Pseudonym+`"`)
	}
	if s, err := SeatOf(ctx, h.DB, d.ID, v.Pseudonym); err != nil {
		return err
	} else if s != nil {
		view.Seat = &seatRow{Seat: *s, Label: s.Label(h.now())}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Robots-Tag", "noindex")
	return web.Render(c, "governance/sortition_private", view)
}

func (h *Handlers) withdraw(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if err := Withdraw(c.UserContext(), h.DB, web.Council(c).ID, token, h.now()); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/tirage-candidature/"+token, "Votre candidature est retirée.")
}

// decide records the answer of a volunteer drawn for a seat. Accepting
// leads to the invitation that creates (or joins) their member account;
// declining passes the seat to the reserve list.
func (h *Handlers) decide(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token := strings.Clone(c.Params("token"))
	accept := web.FormIs(c, "decision", "accepter")
	if !accept && !web.FormIs(c, "decision", "refuser") {
		return apperr.New(apperr.Invalid, "Choisissez d’accepter ou de refuser le siège.")
	}
	co := web.Council(c)
	seat, err := Decide(ctx, h.DB, co.ID, token, accept, h.now())
	if err != nil {
		return err
	}
	if !accept {
		return web.RedirectWithFlash(c, "/tirage-candidature/"+token, "Vous avez refusé le siège : il est proposé à la personne suivante de la liste de suppléance.")
	}
	v, err := VolunteerByToken(ctx, h.DB, token)
	if err != nil {
		return err
	}
	// The membership ends with the term (auth: read as ended at once, then
	// disabled by the hourly auth.term_sweep).
	invite, err := auth.InviteForTerm(ctx, h.DB, co.ID, audit.Actor{}, v.Email, *seat.TermEndsAt)
	if apperr.FieldsOf(err) != nil {
		// Already a member of the council: nothing more to create.
		return web.RedirectWithFlash(c, "/tirage-candidature/"+token, "Siège accepté. Vous êtes déjà membre du conseil : connectez-vous avec votre compte.")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/invitation/"+invite, fiber.StatusSeeOther)
}
