package member

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/web"
)

// personOption is one person of the audit trail's filter.
type personOption struct {
	ID       int64
	Name     string
	Selected bool
}

// auditRow is one entry as the page shows it: short before → after inline,
// long ones folded.
type auditRow struct {
	audit.Entry
	Actor       string // who acted, or "La plateforme"
	Sentence    string // the rest of the sentence, in French
	ObjectLabel string // the object type in French
	Changes     []auditChange
}

// typeOption is one object type of the filter.
type typeOption struct {
	Value, Label string
}

// auditView is the audit trail page for facilitators.
type auditView struct {
	web.Page
	Entries     []auditRow
	People      []personOption
	ObjectTypes []typeOption
	ObjectType  string
	ObjectID    string
	ActorID     int64
	MoreURL     string // link to older entries, "" when none
	LatestURL   string // link back to the newest entries, "" on the first page
	Filtered    bool
}

func (h *Handlers) auditLog(c *fiber.Ctx) error {
	ctx := c.UserContext()
	co := web.Council(c)
	f := audit.Filter{
		ObjectType: strings.TrimSpace(strings.Clone(c.Query("type"))),
		ObjectID:   strings.TrimSpace(strings.Clone(c.Query("objet"))),
	}
	f.ActorID, _ = strconv.ParseInt(c.Query("personne"), 10, 64)
	f.Before, _ = strconv.ParseInt(c.Query("avant"), 10, 64)
	if len(f.ObjectType) > 100 || len(f.ObjectID) > 200 {
		f.ObjectType, f.ObjectID = "", ""
	}
	entries, more, err := audit.List(ctx, h.DB, co.ID, f)
	if err != nil {
		return err
	}
	members, err := auth.Members(ctx, h.DB, co.ID, true)
	if err != nil {
		return err
	}
	types, err := audit.ObjectTypes(ctx, h.DB, co.ID)
	if err != nil {
		return err
	}
	view := auditView{Page: web.NewPage(c, "Journal des modifications"),
		ObjectType: f.ObjectType, ObjectID: f.ObjectID, ActorID: f.ActorID,
		Filtered: f.ActorID != 0 || f.ObjectType != ""}
	for _, t := range types {
		view.ObjectTypes = append(view.ObjectTypes, typeOption{Value: t, Label: auditObjectLabel(t)})
	}
	for _, e := range entries {
		actor, sentence := auditSentence(e)
		view.Entries = append(view.Entries, auditRow{Entry: e, Actor: actor, Sentence: sentence,
			ObjectLabel: auditObjectLabel(e.ObjectType), Changes: auditChanges(e.BeforeJSON, e.AfterJSON)})
	}
	for _, m := range members {
		view.People = append(view.People, personOption{ID: m.AccountID, Name: m.Name, Selected: m.AccountID == f.ActorID})
	}
	if more {
		q := url.Values{}
		if f.ActorID != 0 {
			q.Set("personne", strconv.FormatInt(f.ActorID, 10))
		}
		if f.ObjectType != "" {
			q.Set("type", f.ObjectType)
		}
		if f.ObjectID != "" {
			q.Set("objet", f.ObjectID)
		}
		q.Set("avant", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		view.MoreURL = "/gestion/journal?" + q.Encode()
	}
	if f.Before != 0 {
		q := url.Values{}
		if f.ActorID != 0 {
			q.Set("personne", strconv.FormatInt(f.ActorID, 10))
		}
		if f.ObjectType != "" {
			q.Set("type", f.ObjectType)
		}
		if f.ObjectID != "" {
			q.Set("objet", f.ObjectID)
		}
		view.LatestURL = "/gestion/journal"
		if len(q) > 0 {
			view.LatestURL += "?" + q.Encode()
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "governance/audit", view)
}
