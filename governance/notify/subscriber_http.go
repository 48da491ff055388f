package notify

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"cla/internal/apperr"
	"cla/internal/council"
	"cla/internal/web"
)

// SubscribeRoutes are the citizens' subscription pages: the form (the home
// page and /decisions carry a small GET form that lands here, since their
// anonymous versions are cached and hold no CSRF token) and the
// confirmation link.
func (h *Handlers) SubscribeRoutes(app fiber.Router) {
	app.Get("/abonnement", web.Gated(h.subscribeForm))
	app.Post("/abonnement", h.subscribe)
	app.Get("/abonnement/confirmer/:token", web.Gated(h.confirmForm))
	app.Post("/abonnement/confirmer/:token", h.confirm)
}

// InstanceRoutes is the operator's page of subscribers; requireOperator is
// governance/instance's guard (notify does not import it).
func (h *Handlers) InstanceRoutes(app fiber.Router, requireOperator fiber.Handler) {
	app.Get("/instance/abonnes", requireOperator, web.Gated(h.subscribers))
}

func (h *Handlers) service(c *fiber.Ctx) *Service {
	base := h.BaseURL
	if base == "" {
		base = c.BaseURL()
	}
	return &Service{DB: h.DB, BaseURL: base, From: h.From}
}

type subscribeView struct {
	web.Page
	Email  string
	Errors apperr.Fields
}

func (h *Handlers) subscribeForm(c *fiber.Ctx) error {
	return web.Render(c, "governance/subscribe", subscribeView{Page: web.NewPage(c, "S'abonner au résumé du conseil"), Email: strings.Clone(c.Query("email"))})
}

// subscribeDone is the one answer of the form, whatever the address's state.
const subscribeDone = "Merci ! Si cette adresse peut recevoir le résumé, un message vient d'y être envoyé : ouvrez le lien qu'il contient pour confirmer l'abonnement (valable 48 heures)."

func (h *Handlers) subscribe(c *fiber.Ctx) error {
	email := web.Form(c, "email")
	err := h.service(c).Subscribe(c.UserContext(), web.Council(c).ID, email, web.ClientIP(c))
	if err == nil {
		return web.RedirectWithFlash(c, "/abonnement", subscribeDone)
	}
	f := apperr.FieldsOf(err)
	if f == nil && apperr.CodeOf(err) != apperr.TooMany {
		return err
	}
	if f == nil {
		f = apperr.Fields{"email": apperr.MessageOf(err)}
		web.TooMany(c, err)
	} else {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return web.Render(c, "governance/subscribe", subscribeView{Page: web.NewPage(c, "S'abonner au résumé du conseil"), Email: email, Errors: f})
}

type confirmView struct {
	web.Page
	Token string
	Done  bool
}

// confirmForm asks for a click: a GET changes nothing (mail scanners
// follow links).
func (h *Handlers) confirmForm(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if err := checkConfirm(c.UserContext(), h.DB, web.Council(c).ID, token, h.service(c).now()); err != nil {
		return err
	}
	return web.Render(c, "governance/subscribe_confirm", confirmView{Page: web.NewPage(c, "Confirmer l'abonnement"), Token: token})
}

func (h *Handlers) confirm(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if err := Confirm(c.UserContext(), h.DB, web.Council(c).ID, token, h.service(c).now()); err != nil {
		return err
	}
	return web.Render(c, "governance/subscribe_confirm", confirmView{Page: web.NewPage(c, "Abonnement confirmé"), Done: true})
}

type councilSubscribers struct {
	Name        string
	Subscribers []Subscriber
}

type subscribersView struct {
	web.Page
	Counts []SubscriberCount
	Lists  []councilSubscribers
}

// subscribers is the operator's page: the counts per council and the
// addresses.
func (h *Handlers) subscribers(c *fiber.Ctx) error {
	ctx := c.UserContext()
	counts, err := SubscriberCounts(ctx, h.DB)
	if err != nil {
		return err
	}
	v := subscribersView{Page: web.NewPage(c, "Abonné·es au résumé public"), Counts: counts}
	for i := range v.Counts {
		co, err := council.ByID(ctx, h.DB, v.Counts[i].CouncilID)
		if err != nil {
			return err
		}
		v.Counts[i].Name = co.Name
		subs, err := SubscribersOf(ctx, h.DB, co.ID)
		if err != nil {
			return err
		}
		v.Lists = append(v.Lists, councilSubscribers{Name: co.Name, Subscribers: subs})
	}
	return web.Render(c, "instance/subscribers", v)
}
