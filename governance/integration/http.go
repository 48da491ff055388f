// Package integration is the facilitators' page of the council's webhooks,
// /gestion/integrations: register an endpoint (address, events, a secret
// shown once), read its delivery log, re-send, test, rotate the secret, delete.
// The events themselves are queued by the domains through internal/webhook
// (webhook.Emit, in each change's transaction) and delivered by its job.
package integration

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/database"
	"cla/internal/outbound"
	"cla/internal/web"
	"cla/internal/webhook"
)

// Handlers serve the integration pages.
type Handlers struct {
	DB *bun.DB
	// AllowPrivate accepts endpoint addresses on private networks and plain
	// http to this machine (the operator's --webhooks-allow-private; tests).
	AllowPrivate bool
}

// Routes lists the integration pages, all for facilitators.
func (h *Handlers) Routes(app fiber.Router) {
	app.Get("/gestion/integrations", auth.Require(authz.ManageIntegrations), web.Gated(h.list))
	app.Post("/gestion/integrations", auth.Require(authz.ManageIntegrations), h.create)
	app.Get("/gestion/integrations/:id", auth.Require(authz.ManageIntegrations), web.Gated(h.show))
	app.Post("/gestion/integrations/:id/test", auth.Require(authz.ManageIntegrations), h.ping)
	app.Post("/gestion/integrations/:id/rotation", auth.Require(authz.ManageIntegrations), h.rotate)
	app.Post("/gestion/integrations/:id/suppression", auth.Require(authz.ManageIntegrations), h.remove)
	app.Post("/gestion/integrations/:id/envois/:delivery/renvoi", auth.Require(authz.ManageIntegrations), h.resend)
}

// EventOption is one checkbox of the events.
type EventOption struct {
	Value, Label string
	Checked      bool
}

// EndpointLine is an endpoint in the list.
type EndpointLine struct {
	webhook.Endpoint
	EventLabels []string
	Pending     int
	Failed      int
}

// ListView is /gestion/integrations.
type ListView struct {
	web.Page
	Endpoints   []EndpointLine
	URL         string
	Description string
	Events      []EventOption
	Errors      apperr.Fields
}

// SecretView shows a secret just made, once.
type SecretView struct {
	web.Page
	Endpoint *webhook.Endpoint
	Secret   string
	Rotated  bool
	Grace    string
}

// DeliveryLine is one delivery in the log, with its attempts.
type DeliveryLine struct {
	webhook.DeliveryRow
	EventLabel string
	Attempts   []webhook.Attempt
}

// EndpointView is one endpoint with its delivery log.
type EndpointView struct {
	web.Page
	Endpoint    *webhook.Endpoint
	EventLabels []string
	Deliveries  []DeliveryLine
}

func eventOptions(checked []string) []EventOption {
	out := make([]EventOption, 0, len(webhook.Events))
	for _, e := range webhook.Events {
		o := EventOption{Value: string(e), Label: e.Label()}
		for _, c := range checked {
			o.Checked = o.Checked || c == string(e)
		}
		out = append(out, o)
	}
	return out
}

func labels(events []string) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = webhook.Event(e).Label()
	}
	return out
}

func (h *Handlers) listView(c *fiber.Ctx) (*ListView, error) {
	ctx := c.UserContext()
	co := web.Council(c).ID
	var eps []webhook.Endpoint
	if err := h.DB.NewSelect().Model(&eps).ExcludeColumn("secret", "previous_secret").
		Where("council_id = ?", co).Order("id").Scan(ctx); err != nil {
		return nil, err
	}
	counts, err := webhook.PendingCounts(ctx, h.DB, co)
	if err != nil {
		return nil, err
	}
	v := &ListView{Page: web.NewPage(c, "Intégrations"), Events: eventOptions(nil)}
	for _, e := range eps {
		l := EndpointLine{Endpoint: e, EventLabels: labels(e.Events)}
		for _, n := range counts {
			if n.EndpointID == e.ID && n.State == webhook.StatePending {
				l.Pending = n.N
			} else if n.EndpointID == e.ID && n.State == webhook.StateFailed {
				l.Failed = n.N
			}
		}
		v.Endpoints = append(v.Endpoints, l)
	}
	return v, nil
}

func (h *Handlers) list(c *fiber.Ctx) error {
	v, err := h.listView(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/integrations", v)
}

func (h *Handlers) create(c *fiber.Ctx) error {
	rawURL := strings.TrimSpace(web.Form(c, "url"))
	desc := strings.TrimSpace(web.Form(c, "description"))
	var events []string
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti("events") {
		events = append(events, string(v)) // string() copies: the request's memory is reused
	}
	ep, secret, err := Create(c.UserContext(), h.DB, web.Council(c).ID, rawURL, desc, events, h.AllowPrivate, web.ViewerOf(c))
	if f := apperr.FieldsOf(err); f != nil {
		v, verr := h.listView(c)
		if verr != nil {
			return verr
		}
		v.URL, v.Description, v.Events, v.Errors = rawURL, desc, eventOptions(events), f
		c.Status(fiber.StatusUnprocessableEntity)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return web.Render(c, "governance/integrations", v)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/integration_secret", SecretView{Page: web.NewPage(c, "Intégration créée"), Endpoint: ep, Secret: secret})
}

// Create validates and stores a new endpoint for the council and returns it
// with its secret, which is shown once. The address must pass the outgoing
// call policy (outbound.ValidateURL: https, no private or reserved address
// unless allowPrivate).
func Create(ctx context.Context, db *bun.DB, councilID int64, rawURL, desc string, events []string, allowPrivate bool, actor *web.Viewer) (*webhook.Endpoint, string, error) {
	f := apperr.Fields{}
	if rawURL == "" {
		f.Add("url", "Indiquez l'adresse qui recevra les messages.")
	} else if err := outbound.ValidateURL(rawURL, allowPrivate); err != nil {
		f.Add("url", apperr.MessageOf(err))
	}
	if len([]rune(desc)) > 200 {
		f.Add("description", "La description ne doit pas dépasser 200 caractères.")
	}
	seen := map[string]bool{}
	var evs []string
	for _, e := range events {
		if !webhook.Event(e).Valid() {
			f.Add("events", "Événement inconnu.")
			continue
		}
		if !seen[e] {
			seen[e] = true
			evs = append(evs, e)
		}
	}
	if len(evs) == 0 {
		f.Add("events", "Cochez au moins un événement.")
	}
	if err := f.Err(); err != nil {
		return nil, "", err
	}
	secret := webhook.NewSecret()
	ep := &webhook.Endpoint{CouncilID: councilID, URL: rawURL, Description: desc, Events: evs, Secret: secret, Active: true}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(ep).Exec(ctx); err != nil {
			return err
		}
		return record(ctx, tx, councilID, ep, actor, "webhook_endpoint.create", "Intégration ajoutée : "+ep.URL)
	})
	return ep, secret, err
}

// record writes an endpoint change to the audit trail, without its secret.
func record(ctx context.Context, tx bun.Tx, councilID int64, ep *webhook.Endpoint, actor *web.Viewer, action, summary string) error {
	e := auth.ActorOf(actor).Entry(&councilID, action, "webhook_endpoint", strconv.FormatInt(ep.ID, 10), summary)
	type public struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	return audit.Record(ctx, tx, e, nil, public{ep.URL, ep.Events})
}

// endpoint loads the endpoint named by :id in the request's council.
func (h *Handlers) endpoint(c *fiber.Ctx) (*webhook.Endpoint, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	notFound := apperr.New(apperr.NotFound, "Cette intégration n'existe pas dans ce conseil.")
	if err != nil || id <= 0 {
		return nil, notFound
	}
	ep := new(webhook.Endpoint)
	err = h.DB.NewSelect().Model(ep).Where("id = ? AND council_id = ?", id, web.Council(c).ID).Scan(c.UserContext())
	if err != nil {
		if isNoRows(err) {
			return nil, notFound
		}
		return nil, err
	}
	return ep, nil
}

// logLimit is how many deliveries the log shows, newest first.
const logLimit = 50

func (h *Handlers) show(c *fiber.Ctx) error {
	ep, err := h.endpoint(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var ds []webhook.DeliveryRow
	if err := h.DB.NewSelect().Model(&ds).ExcludeColumn("payload").Where("endpoint_id = ?", ep.ID).
		Order("id DESC").Limit(logLimit).Scan(ctx); err != nil {
		return err
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	var as []webhook.Attempt
	if len(ids) > 0 {
		if err := h.DB.NewSelect().Model(&as).Where("delivery_id IN (?)", bun.List(ids)).Order("id").Scan(ctx); err != nil {
			return err
		}
	}
	v := EndpointView{Page: web.NewPage(c, "Intégration : "+ep.URL), Endpoint: ep, EventLabels: labels(ep.Events)}
	for _, d := range ds {
		l := DeliveryLine{DeliveryRow: d, EventLabel: d.Event.Label()}
		for _, a := range as {
			if a.DeliveryID == d.ID {
				l.Attempts = append(l.Attempts, a)
			}
		}
		v.Deliveries = append(v.Deliveries, l)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/integration", v)
}

func (h *Handlers) back(c *fiber.Ctx, ep *webhook.Endpoint, msg string) error {
	return web.RedirectWithFlash(c, "/gestion/integrations/"+strconv.FormatInt(ep.ID, 10), msg)
}

func (h *Handlers) ping(c *fiber.Ctx) error {
	ep, err := h.endpoint(c)
	if err != nil {
		return err
	}
	if err := webhook.SendPing(c.UserContext(), h.DB, ep.CouncilID, ep.ID); err != nil {
		return err
	}
	return h.back(c, ep, "Message de test mis en file : il apparaît ci-dessous dès son envoi.")
}

func (h *Handlers) resend(c *fiber.Ctx) error {
	ep, err := h.endpoint(c)
	if err != nil {
		return err
	}
	did, err := strconv.ParseInt(c.Params("delivery"), 10, 64)
	if err == nil {
		err = webhook.Resend(c.UserContext(), h.DB, ep.CouncilID, ep.ID, did)
	}
	if err != nil {
		if errors.Is(err, webhook.ErrNotFound) || did <= 0 {
			return apperr.New(apperr.NotFound, "Cet envoi n'existe pas pour cette intégration.")
		}
		return err
	}
	return h.back(c, ep, "Message renvoyé, avec le même identifiant (webhook-id).")
}

func (h *Handlers) rotate(c *fiber.Ctx) error {
	ep, err := h.endpoint(c)
	if err != nil {
		return err
	}
	secret := webhook.NewSecret()
	until := time.Now().Add(webhook.GraceDefault)
	err = h.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := webhook.RotateSecret(ctx, tx, ep.CouncilID, ep.ID, secret, until); err != nil {
			return err
		}
		return record(ctx, tx, ep.CouncilID, ep, web.ViewerOf(c), "webhook_endpoint.rotate", "Secret d'intégration renouvelé : "+ep.URL)
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/integration_secret", SecretView{Page: web.NewPage(c, "Nouveau secret"), Endpoint: ep,
		Secret: secret, Rotated: true, Grace: "24 heures"})
}

func (h *Handlers) remove(c *fiber.Ctx) error {
	ep, err := h.endpoint(c)
	if err != nil {
		return err
	}
	err = h.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := webhook.DeleteEndpoint(ctx, tx, ep.CouncilID, ep.ID); err != nil {
			return err
		}
		return record(ctx, tx, ep.CouncilID, ep, web.ViewerOf(c), "webhook_endpoint.delete", "Intégration supprimée : "+ep.URL)
	})
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/gestion/integrations", "Intégration supprimée : plus aucun message ne lui sera envoyé.")
}

func isNoRows(err error) bool { return database.IsNoRows(err) }
