package notify

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/jobs"
	"cla/internal/web"
)

// Handlers serve the members' notification pages, the facilitators'
// delivery log and the one-click unsubscribe.
type Handlers struct {
	DB *bun.DB
	// BaseURL and From, as the Service's, for the subscription mails
	// (BaseURL empty: the request's).
	BaseURL string
	From    string
}

// UnsubscribeRoutes are served before the session and CSRF middleware: a
// mail client posts the one-click unsubscribe (RFC 8058) with no cookie and
// no token; the signed token in the URL is the authority.
func (h *Handlers) UnsubscribeRoutes(app fiber.Router) {
	app.Get("/desabonnement/:token", web.Gated(h.unsubscribeForm))
	app.Post("/desabonnement/:token", h.unsubscribe)
}

// Routes lists the pages behind a session.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/compte/notifications", auth.Require(authz.NotifyOwn), web.Gated(h.mine))
	app.Post("/compte/notifications", auth.Require(authz.NotifyOwn), h.savePrefs)
	app.Get("/gestion/notifications", auth.Require(authz.NotifyLog), web.Gated(h.log))
	app.Post("/gestion/notifications/resume", auth.Require(authz.NotifyLog), h.saveDigestDay)
	app.Post("/gestion/notifications/:id/renvoyer", auth.Require(authz.NotifyLog), h.resend)
}

// prefRow is one kind on the choices form.
type prefRow struct {
	Kind     Kind
	Delivery Delivery
	Address  string
	Locked   bool // convocations: no choice but the address
}

type mineView struct {
	web.Page
	Prefs         []prefRow
	Deliveries    []Delivery
	Notifications []Notification
	Errors        apperr.Fields
	Digest        bool // takes the weekly digest
}

func (h *Handlers) mineView(c *fiber.Ctx, errs apperr.Fields, typed map[Kind]Pref) (*mineView, error) {
	ctx, v := c.UserContext(), web.ViewerOf(c)
	councilID := web.Council(c).ID
	prefs := typed
	if prefs == nil {
		var err error
		if prefs, err = Prefs(ctx, h.DB, councilID, v.AccountID); err != nil {
			return nil, err
		}
	}
	ns, err := ForAccount(ctx, h.DB, councilID, v.AccountID, 100)
	if err != nil {
		return nil, err
	}
	view := &mineView{Page: web.NewPage(c, "Mes notifications"), Deliveries: Deliveries, Notifications: ns, Errors: errs}
	for _, k := range Kinds {
		p := prefs[k]
		view.Prefs = append(view.Prefs, prefRow{Kind: k, Delivery: p.Delivery, Address: p.Address, Locked: k == KindConvocation})
	}
	view.Digest = prefs[KindDigest].Delivery != Never
	return view, nil
}

func (h *Handlers) mine(c *fiber.Ctx) error {
	view, err := h.mineView(c, nil, nil)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/notifications", view)
}

// savePrefs stores the member's choices; a malformed second address shows
// the form again with what was typed.
func (h *Handlers) savePrefs(c *fiber.Ctx) error {
	ctx, v := c.UserContext(), web.ViewerOf(c)
	councilID := web.Council(c).ID
	typed := map[Kind]Pref{}
	var rows []Pref
	errs := apperr.Fields{}
	for _, k := range Kinds {
		p := Pref{CouncilID: councilID, AccountID: v.AccountID, Kind: k, Delivery: Delivery(web.Form(c, "delivery_"+string(k)))}
		switch {
		case k == KindConvocation:
			p.Delivery = Immediate
			p.Address = auth.NormalizeEmail(web.Form(c, "address"))
			if p.Address != "" {
				if msg := auth.CheckEmail(p.Address); msg != "" {
					errs.Add("address", msg)
				}
			}
		case p.Delivery != Immediate && p.Delivery != Digest && p.Delivery != Never:
			errs.Add("delivery_"+string(k), "Choisissez tout de suite, dans le résumé ou jamais.")
			p.Delivery = Immediate
		}
		p.Address = strings.Clone(p.Address)
		typed[k] = p
		rows = append(rows, p)
	}
	digest := Pref{CouncilID: councilID, AccountID: v.AccountID, Kind: KindDigest, Delivery: Never}
	if web.Form(c, "digest") == "1" {
		digest.Delivery = Immediate
	}
	typed[KindDigest] = digest
	rows = append(rows, digest)
	if len(errs) > 0 {
		view, err := h.mineView(c, errs, typed)
		if err != nil {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "governance/notifications", view)
	}
	if err := SavePrefs(ctx, h.DB, rows); err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/compte/notifications", "Vos choix de notifications sont enregistrés.")
}

type logView struct {
	web.Page
	Notifications []Notification
	DigestDay     int
	Weekdays      []weekday
	Errors        apperr.Fields
}

// weekday is an ISO weekday (1 = Monday) and its French name.
type weekday struct {
	N    int
	Name string
}

// weekdays are the days of the week, Monday first.
var weekdays = []weekday{{1, "lundi"}, {2, "mardi"}, {3, "mercredi"}, {4, "jeudi"}, {5, "vendredi"}, {6, "samedi"}, {7, "dimanche"}}

func (h *Handlers) logView(c *fiber.Ctx) (*logView, error) {
	ctx, councilID := c.UserContext(), web.Council(c).ID
	ns, err := ForCouncil(ctx, h.DB, councilID, 300)
	if err != nil {
		return nil, err
	}
	day, err := DigestWeekday(ctx, h.DB, councilID)
	if err != nil {
		return nil, err
	}
	return &logView{Page: web.NewPage(c, "Envois d'e-mails"), Notifications: ns, DigestDay: day, Weekdays: weekdays}, nil
}

func (h *Handlers) log(c *fiber.Ctx) error {
	view, err := h.logView(c)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/notifications_admin", view)
}

// saveDigestDay sets the council's digest day.
func (h *Handlers) saveDigestDay(c *fiber.Ctx) error {
	day, _ := strconv.Atoi(strings.TrimSpace(web.Form(c, "digest_weekday")))
	err := SaveDigestWeekday(c.UserContext(), h.DB, web.Council(c).ID, day)
	if f := apperr.FieldsOf(err); f != nil {
		view, err := h.logView(c)
		if err != nil {
			return err
		}
		view.Errors = f
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "governance/notifications_admin", view)
	} else if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/notifications", "Jour du résumé hebdomadaire enregistré.")
}

// resend queues a sent or failed mail again: its row goes back to queued
// and its job runs again now (internal/jobs keeps the job's history).
func (h *Handlers) resend(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, councilID := c.UserContext(), web.Council(c).ID
	err = h.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := get(ctx, tx, councilID, id)
		if err != nil {
			return err
		}
		if (n.State != Sent && n.State != Failed) || n.JobID == nil {
			return apperr.New(apperr.Conflict, "Seul un message envoyé ou en échec peut être renvoyé.")
		}
		// Taken only from a sent or failed state, so that a double click
		// re-sends once.
		taken, err := tx.NewUpdate().Model((*Notification)(nil)).Set("state = ?", Queued).Set("sent_at = NULL").Set("updated_at = now()").
			Where("id = ? AND council_id = ? AND state IN (?)", id, councilID, bun.List([]State{Sent, Failed})).Exec(ctx)
		if err != nil {
			return err
		}
		if k, _ := taken.RowsAffected(); k == 0 {
			return apperr.New(apperr.Conflict, "Ce message est déjà en cours de renvoi.")
		}
		// A job of its own rather than the old one retried: the old job may
		// have carried other messages of its batch, and retrying it failed
		// on river_job_unique_idx once the convocation sweep ran for real.
		res, err := jobs.Enqueue(ctx, tx, sendArgs{CouncilID: councilID, IDs: []int64{id}}, nil)
		if err != nil {
			return err
		}
		_, err = tx.NewUpdate().Model((*Notification)(nil)).Set("job_id = ?", res.Job.ID).Where("id = ? AND council_id = ?", id, councilID).Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/notifications", "Le message sera renvoyé dans un instant.")
}

type unsubscribeView struct {
	web.Page
	Token string
	Kind  Kind
	Done  bool
}

func (h *Handlers) claim(c *fiber.Ctx) (tokenClaim, string, error) {
	token := strings.Clone(c.Params("token"))
	claim, ok, err := parseToken(c.UserContext(), h.DB, token)
	if err != nil {
		return claim, "", err
	}
	// A token of another council's is not honoured on this one's host.
	if !ok || claim.CouncilID != web.Council(c).ID {
		return claim, "", apperr.New(apperr.NotFound, "Ce lien de désabonnement n'est pas valable.")
	}
	return claim, token, nil
}

// unsubscribeForm asks for confirmation: a GET never changes anything
// (mail scanners follow links).
func (h *Handlers) unsubscribeForm(c *fiber.Ctx) error {
	claim, token, err := h.claim(c)
	if err != nil {
		return err
	}
	return web.Render(c, "governance/unsubscribe", unsubscribeView{Page: web.NewPage(c, "Se désabonner"), Token: token, Kind: claim.Kind})
}

// unsubscribe is RFC 8058's one-click POST, and the confirm form's.
func (h *Handlers) unsubscribe(c *fiber.Ctx) error {
	claim, token, err := h.claim(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if claim.Recipient != "" {
		if err := leave(ctx, h.DB, claim); err != nil {
			return err
		}
		return web.Render(c, "governance/unsubscribe", unsubscribeView{Page: web.NewPage(c, "Désabonnement"), Token: token, Kind: claim.Kind, Done: true})
	}
	prefs, err := Prefs(ctx, h.DB, claim.CouncilID, claim.AccountID)
	if err != nil {
		return err
	}
	p := prefs[claim.Kind]
	p.Delivery = Never
	if err := SavePrefs(ctx, h.DB, []Pref{p}); err != nil {
		return err
	}
	return web.Render(c, "governance/unsubscribe", unsubscribeView{Page: web.NewPage(c, "Désabonnement"), Token: token, Kind: claim.Kind, Done: true})
}
