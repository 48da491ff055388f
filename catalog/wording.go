package catalog

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/markdown"
	"cla/internal/web"
)

// WordingView is the facilitators' form to correct an item's wording.
type WordingView struct {
	web.Page
	Item *Item
	Name string
	Expl string
	// OFF and GPC are the classification codes as typed.
	OFF, GPC string
	// Keywords are the lookup's keywords as typed.
	Keywords string
	Errors   apperr.Fields
}

// Wording is what a facilitator may correct on an item without a decision:
// its name, its public explanation, its classification codes and the
// keywords the lookup matches.
type Wording struct {
	Name, ExplanationMD   string
	OFFCategory, GPCBrick string
	Keywords              string
}

func canEditWording(v *web.Viewer) bool {
	return v != nil && authz.Can(authz.Role(v.Role), authz.EditItemWording)
}

func (h *Handlers) wordingForm(c *fiber.Ctx) error {
	it, err := ItemBySlug(c.UserContext(), h.DB, web.Council(c).ID, c.Params("slug"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return web.Render(c, "catalog/wording", WordingView{Page: web.NewPage(c, "Corriger : "+it.Name), Item: it,
		Name: it.Name, Expl: it.ExplanationMD, OFF: it.OFFCategory, GPC: it.GPCBrick, Keywords: it.Keywords})
}

// CorrectWording changes an item's name, public explanation and
// classification codes, never its status, writes the edit to the audit trail
// and tells the caches. It runs in its own transaction.
func CorrectWording(ctx context.Context, db *bun.DB, councilID int64, slug string, w Wording, actor *web.Viewer) (*Item, error) {
	var out *Item
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The register head first, as ApplyChange takes it, then the item:
		// the two never wait for each other in opposite orders.
		if _, err := lockRegisterHead(ctx, tx, councilID); err != nil {
			return err
		}
		it := new(Item)
		err := tx.NewSelect().Model(it).Where("council_id = ? AND slug = ?", councilID, slug).For("UPDATE").Scan(ctx)
		if isNoRows(err) {
			return apperr.New(apperr.NotFound, "Cet élément du registre n'existe pas.")
		}
		if err != nil {
			return err
		}
		before := *it
		it.Name = w.Name
		it.ExplanationMD = strings.TrimSpace(strings.ReplaceAll(w.ExplanationMD, "\r\n", "\n"))
		it.OFFCategory, it.GPCBrick, it.Keywords = w.OFFCategory, w.GPCBrick, w.Keywords
		if err := it.Validate(); err != nil {
			return err
		}
		if utf8.RuneCountInString(it.ExplanationMD) > 20000 {
			return apperr.Fields{"explanation": "L'explication ne doit pas dépasser 20 000 caractères."}.Err()
		}
		if it.Name == before.Name && it.ExplanationMD == before.ExplanationMD &&
			it.OFFCategory == before.OFFCategory && it.GPCBrick == before.GPCBrick && it.Keywords == before.Keywords {
			out = it
			return nil
		}
		it.ExplanationHTML = ""
		if it.ExplanationMD != "" {
			it.ExplanationHTML = markdown.ToHTML(it.ExplanationMD)
		}
		it.UpdatedAt = time.Now()
		if _, err := tx.NewUpdate().Model(it).Column("name", "explanation_md", "explanation_html", "off_category", "gpc_brick", "keywords", "updated_at").
			Where("id = ? AND council_id = ?", it.ID, councilID).Exec(ctx); err != nil {
			return err
		}
		var by audit.Actor
		if actor != nil {
			by = audit.Actor{AccountID: actor.AccountID, Name: actor.Name}
		}
		e := by.Entry(&councilID, "register_item.wording", "register_item", strconv.FormatInt(it.ID, 10), "Correction de rédaction : "+it.Name)
		type wording struct {
			Name          string `json:"name"`
			ExplanationMD string `json:"explanation_md"`
			OFFCategory   string `json:"off_category,omitempty"`
			GPCBrick      string `json:"gpc_brick,omitempty"`
			Keywords      string `json:"keywords,omitempty"`
		}
		if err := audit.Record(ctx, tx, e, wording{before.Name, before.ExplanationMD, before.OFFCategory, before.GPCBrick, before.Keywords},
			wording{it.Name, it.ExplanationMD, it.OFFCategory, it.GPCBrick, it.Keywords}); err != nil {
			return err
		}
		out = it
		if it.Name != before.Name {
			// The reason the cashier reads names the item: the baskets
			// under it follow the correction, in this transaction.
			return ReevaluateItemBaskets(ctx, tx, councilID, it.ID)
		}
		return nil
	})
	return out, err
}

func (h *Handlers) wordingSave(c *fiber.Ctx) error {
	co := web.Council(c)
	slug := strings.Clone(c.Params("slug"))
	name, expl := web.Form(c, "name"), web.Form(c, "explanation")
	off, gpc, kw := web.Form(c, "off_category"), web.Form(c, "gpc_brick"), web.Form(c, "keywords")
	it, err := CorrectWording(c.UserContext(), h.DB, co.ID, slug,
		Wording{Name: name, ExplanationMD: expl, OFFCategory: off, GPCBrick: gpc, Keywords: kw}, web.ViewerOf(c))
	if f := apperr.FieldsOf(err); f != nil {
		cur, lerr := ItemBySlug(c.UserContext(), h.DB, co.ID, slug)
		if lerr != nil {
			return lerr
		}
		return web.RenderStatus(c, fiber.StatusUnprocessableEntity, "catalog/wording", WordingView{Page: web.NewPage(c, "Corriger : "+cur.Name), Item: cur,
			Name: name, Expl: expl, OFF: off, GPC: gpc, Keywords: kw, Errors: f})
	}
	if err != nil {
		return err
	}
	return web.RedirectWithFlash(c, "/registre/"+it.Slug, "Correction enregistrée.")
}
