package catalog

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/markdown"
	"cla/internal/odoo"
	"cla/internal/pagecache"
	"cla/internal/webhook"
)

// ApplyChange is the one way the register changes status: it applies change to
// the council's register on behalf of the decision ref, and publishes the result
// as a new, immutable version.
//
// Contract:
//   - it must be called inside a transaction (tx), typically the governance
//     decision's own transaction: if the caller rolls back, nothing happened;
//   - it validates the change (apperr.Invalid with field messages when a status
//     lacks its conditions or reason, an item or shop is unknown, a parent is
//     missing…) before writing anything it could not undo by rollback;
//   - it locks the council's register head, so concurrent changes are numbered
//     one after the other: the new version is N+1, effective on
//     change.EffectiveOn;
//   - it writes the item status history, the full snapshot of the register, one
//     audit entry per item or shop changed plus one for the version, bumps the
//     register generation, re-evaluates every shop's basket (basket.go),
//     and bumps the page cache's register generation with its NOTIFY, which
//     PostgreSQL delivers at commit (caches on every instance then reload;
//     internal/pagecache).
func ApplyChange(ctx context.Context, tx bun.Tx, councilID int64, change Change, ref DecisionRef) (*Version, error) {
	if err := change.Validate(); err != nil {
		return nil, err
	}
	var number int
	if _, err := tx.NewRaw("INSERT INTO register_heads (council_id) VALUES (?) ON CONFLICT (council_id) DO NOTHING", councilID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("register head: %w", err)
	}
	if err := tx.NewRaw("SELECT version FROM register_heads WHERE council_id = ? FOR UPDATE", councilID).Scan(ctx, &number); err != nil {
		return nil, fmt.Errorf("lock register head: %w", err)
	}
	number++

	items, err := loadItems(ctx, tx, councilID)
	if err != nil {
		return nil, err
	}
	bySlug := make(map[string]*Item, len(items))
	for i := range items {
		bySlug[items[i].Slug] = &items[i]
	}
	var lines []ChangeLine
	var history []HistoryEntry
	type auditLine struct {
		entry         audit.Entry
		before, after any
	}
	var audits []auditLine
	by := ref.actor()
	for _, ic := range change.Items {
		cur := bySlug[ic.Slug]
		if cur == nil {
			it, err := newItem(ctx, tx, councilID, ic, bySlug)
			if err != nil {
				return nil, err
			}
			bySlug[it.Slug] = it
			lines = append(lines, ChangeLine{Object: "item", Slug: it.Slug, Name: it.Name, Action: "added", To: string(it.Status)})
			history = append(history, historyOf(it))
			audits = append(audits, auditLine{by.Entry(&councilID, "register_item.create", "register_item", strconv.FormatInt(it.ID, 10),
				"Nouvel élément du registre : "+it.Name+" ("+it.Status.Label()+")"), nil, it})
			continue
		}
		before := *cur
		cur.Status, cur.Conditions, cur.ReviewOn, cur.Reason = ic.Status, ic.Conditions, ic.ReviewOn, ic.Reason
		if cur.Status != SousConditions {
			cur.Conditions, cur.ReviewOn = "", nil
		}
		if cur.Status != NonConventionne {
			cur.Reason = ""
		}
		cols := []string{"status", "conditions", "review_on", "reason", "updated_at"}
		switch {
		case ic.ExplanationMD != "":
			cur.ExplanationMD, cur.ExplanationHTML = ic.ExplanationMD, markdown.ToHTML(ic.ExplanationMD)
			cols = append(cols, "explanation_md", "explanation_html")
		case cur.Status != before.Status:
			// An explanation written for the old status is never shown
			// beside the new one (issue 20): a change of status without
			// its own explanation clears it; versions keep the old text.
			cur.ExplanationMD, cur.ExplanationHTML = "", ""
			cols = append(cols, "explanation_md", "explanation_html")
		}
		if err := cur.Validate(); err != nil {
			return nil, withPrefix(err, cur.Name)
		}
		cur.UpdatedAt = time.Now()
		if _, err := tx.NewUpdate().Model(cur).Column(cols...).
			Where("id = ? AND council_id = ?", cur.ID, councilID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("update item %s: %w", cur.Slug, err)
		}
		lines = append(lines, ChangeLine{Object: "item", Slug: cur.Slug, Name: cur.Name, Action: "status", From: string(before.Status), To: string(cur.Status)})
		history = append(history, historyOf(cur))
		audits = append(audits, auditLine{by.Entry(&councilID, "register_item.status", "register_item", strconv.FormatInt(cur.ID, 10),
			cur.Name+" : "+before.Status.Label()+" → "+cur.Status.Label()), before, *cur})
	}

	for _, sc := range change.Shops {
		line, before, after, err := applyShop(ctx, tx, councilID, sc, bySlug)
		if err != nil {
			return nil, err
		}
		lines = append(lines, line)
		action := "shop.status"
		if line.Action == "added" {
			action = "shop.create"
		}
		audits = append(audits, auditLine{by.Entry(&councilID, action, "shop", line.Slug, "Point de vente "+line.Name+" : "+ShopStatus(line.To).Label()), before, after})
	}

	co := struct {
		Slug string `bun:"slug"`
	}{}
	if err := tx.NewSelect().Table("councils").Column("slug").Where("id = ?", councilID).Scan(ctx, &co); err != nil {
		return nil, fmt.Errorf("council: %w", err)
	}
	v := &Version{CouncilID: councilID, Number: number, EffectiveOn: change.EffectiveOn, Summary: change.Summary,
		DecisionRef: ref.Ref, DecisionTitle: ref.Title, DecisionURL: ref.URL, Changes: lines}
	snap, err := buildSnapshot(ctx, tx, councilID, co.Slug, v)
	if err != nil {
		return nil, err
	}
	if v.Snapshot, err = marshalJSON(snap); err != nil {
		return nil, err
	}
	if _, err := tx.NewInsert().Model(v).Returning("id, created_at").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert version %d: %w", number, err)
	}
	for i := range history {
		history[i].VersionNumber, history[i].EffectiveOn = number, change.EffectiveOn
		history[i].DecisionRef, history[i].DecisionTitle, history[i].DecisionURL = ref.Ref, ref.Title, ref.URL
	}
	if len(history) > 0 {
		if _, err := tx.NewInsert().Model(&history).Exec(ctx); err != nil {
			return nil, fmt.Errorf("item history: %w", err)
		}
	}
	for _, a := range audits {
		if err := audit.Record(ctx, tx, a.entry, a.before, a.after); err != nil {
			return nil, err
		}
	}
	if err := audit.Record(ctx, tx, by.Entry(&councilID, "register.version", "register_version", strconv.Itoa(number),
		fmt.Sprintf("Registre version %d : %s", number, change.Summary)), nil, lines); err != nil {
		return nil, err
	}
	// Every shop's basket follows the new register in this same transaction.
	var changedItems, changedShops []int64
	for _, h := range history {
		changedItems = append(changedItems, h.ItemID)
	}
	for _, l := range lines {
		if l.Object == "shop" {
			if s, err := ShopBySlug(ctx, tx, councilID, l.Slug); err == nil {
				changedShops = append(changedShops, s.ID)
			}
		}
	}
	if err := reevaluateBaskets(ctx, tx, councilID, changedItems, changedShops, number, change.EffectiveOn); err != nil {
		return nil, err
	}
	if _, err := tx.NewRaw("UPDATE register_heads SET version = ?, generation = generation + 1, changed_at = now() WHERE council_id = ?",
		number, councilID).Exec(ctx); err != nil {
		return nil, err
	}
	if err := notify(ctx, tx, councilID); err != nil {
		return nil, err
	}
	if err := emitChange(ctx, tx, councilID, v); err != nil {
		return nil, err
	}
	// The payment tool's partners follow the shops this decision touched
	// (the Lokavaluto / Odoo connector), by a job of this transaction.
	if len(changedShops) > 0 {
		if err := odoo.EnqueuePush(ctx, tx, councilID); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// emitChange queues the webhooks of a new version (issue 18), in its
// transaction: the version's open-data JSON, and each point de vente whose
// status or convention dates it changed, as /api/v1/shops shows it.
func emitChange(ctx context.Context, tx bun.Tx, councilID int64, v *Version) error {
	if err := webhook.Emit(ctx, tx, councilID, webhook.RegisterVersionPublished,
		webhook.EventKey(webhook.RegisterVersionPublished, v.Number), v.Snapshot); err != nil {
		return err
	}
	var slugs []string
	for _, l := range v.Changes {
		if l.Object == "shop" {
			slugs = append(slugs, l.Slug)
		}
	}
	if len(slugs) == 0 {
		return nil
	}
	if want, err := webhook.Subscribed(ctx, tx, councilID, webhook.ShopChanged); err != nil || !want {
		return err
	}
	shops, err := apiShopList(ctx, tx, councilID)
	if err != nil {
		return err
	}
	for _, s := range shops {
		if slices.Contains(slugs, s.Slug) {
			if err := webhook.Emit(ctx, tx, councilID, webhook.ShopChanged,
				webhook.EventKey(webhook.ShopChanged, s.Slug, v.Number), s); err != nil {
				return err
			}
		}
	}
	return nil
}

// Touch tells every instance's cache that the council's public register pages
// changed without a new version (a wording correction, a shop's contact
// details). Call it inside the transaction of the change.
func Touch(ctx context.Context, db bun.IDB, councilID int64) error {
	if _, err := db.NewRaw(`INSERT INTO register_heads (council_id, generation) VALUES (?, 1)
		ON CONFLICT (council_id) DO UPDATE SET generation = register_heads.generation + 1, changed_at = now()`, councilID).Exec(ctx); err != nil {
		return err
	}
	return notify(ctx, db, councilID)
}

// notify tells the page caches of every instance (internal/pagecache) at
// commit. The triggers of migration 0031 do it too for the register's tables;
// the explicit bump covers a change they cannot see (Touch).
func notify(ctx context.Context, db bun.IDB, councilID int64) error {
	return pagecache.Bump(ctx, db, councilID, pagecache.KindRegister, pagecache.KindShops)
}

func withPrefix(err error, name string) error {
	f := apperr.FieldsOf(err)
	if f == nil {
		return err
	}
	out := apperr.Fields{}
	for k, msg := range f {
		out.Add(k, name+" : "+msg)
	}
	return out.Err()
}

func historyOf(it *Item) HistoryEntry {
	return HistoryEntry{CouncilID: it.CouncilID, ItemID: it.ID, Status: it.Status, Conditions: it.Conditions,
		ReviewOn: it.ReviewOn, Reason: it.Reason}
}

func newItem(ctx context.Context, tx bun.Tx, councilID int64, ic ItemChange, bySlug map[string]*Item) (*Item, error) {
	it := &Item{CouncilID: councilID, Kind: ic.Kind, Slug: ic.Slug, Name: ic.Name, Status: ic.Status,
		Conditions: ic.Conditions, ReviewOn: ic.ReviewOn, Reason: ic.Reason, ExplanationMD: ic.ExplanationMD, Keywords: ic.Keywords}
	if ic.ExplanationMD != "" {
		it.ExplanationHTML = markdown.ToHTML(ic.ExplanationMD)
	}
	if ic.ParentSlug != "" {
		p := bySlug[ic.ParentSlug]
		if p == nil {
			return nil, apperr.Fields{"parent": "Parent inconnu : " + ic.ParentSlug}.Err()
		}
		if p.Kind == Product || (ic.Kind == Category && p.Kind != Family) {
			return nil, apperr.Fields{"parent": "Ce parent ne peut pas contenir cet élément : " + ic.ParentSlug}.Err()
		}
		it.ParentID = &p.ID
	}
	if err := it.Validate(); err != nil {
		return nil, withPrefix(err, ic.Slug)
	}
	// At the end of its siblings.
	pos := 0
	for _, o := range bySlug {
		if ptrEq(o.ParentID, it.ParentID) && o.Position > pos {
			pos = o.Position
		}
	}
	it.Position = pos + 1
	if _, err := tx.NewInsert().Model(it).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert item %s: %w", it.Slug, err)
	}
	return it, nil
}

func ptrEq(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func applyShop(ctx context.Context, tx bun.Tx, councilID int64, sc ShopChange, items map[string]*Item) (ChangeLine, any, any, error) {
	shop := new(Shop)
	err := tx.NewSelect().Model(shop).Where("council_id = ? AND slug = ?", councilID, sc.Slug).Scan(ctx)
	exists := err == nil
	if err != nil && !isNoRows(err) {
		return ChangeLine{}, nil, nil, err
	}
	line := ChangeLine{Object: "shop", Slug: sc.Slug, To: string(sc.Status)}
	var before any
	if exists {
		b := *shop
		before = b
		line.Action, line.From = "status", string(shop.Status)
	} else {
		if sc.New == nil {
			return line, nil, nil, apperr.Fields{"shops": "Point de vente inconnu : " + sc.Slug}.Err()
		}
		shop = sc.New
		shop.ID, shop.CouncilID, shop.Slug = 0, councilID, sc.Slug
		line.Action = "added"
	}
	shop.Status = sc.Status
	if sc.SignedOn != nil {
		shop.SignedOn = sc.SignedOn
	}
	if sc.RenewalOn != nil {
		shop.RenewalOn = sc.RenewalOn
	}
	if err := shop.Validate(); err != nil {
		return line, nil, nil, withPrefix(err, sc.Slug)
	}
	line.Name = shop.Name
	if exists {
		shop.UpdatedAt = time.Now()
		if _, err := tx.NewUpdate().Model(shop).Column("status", "signed_on", "renewal_on", "updated_at").
			Where("id = ? AND council_id = ?", shop.ID, councilID).Exec(ctx); err != nil {
			return line, nil, nil, err
		}
	} else if _, err := tx.NewInsert().Model(shop).Returning("id").Exec(ctx); err != nil {
		return line, nil, nil, fmt.Errorf("insert shop %s: %w", shop.Slug, err)
	}
	if sc.Categories != nil {
		if _, err := tx.NewDelete().Table("shop_categories").Where("shop_id = ? AND council_id = ?", shop.ID, councilID).Exec(ctx); err != nil {
			return line, nil, nil, err
		}
		rows := make([]shopCategory, 0, len(sc.Categories))
		for _, slug := range sc.Categories {
			it := items[slug]
			if it == nil {
				return line, nil, nil, apperr.Fields{"categories": "Catégorie inconnue : " + slug}.Err()
			}
			rows = append(rows, shopCategory{CouncilID: councilID, ShopID: shop.ID, ItemID: it.ID})
		}
		if len(rows) > 0 {
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return line, nil, nil, err
			}
		}
	}
	return line, before, *shop, nil
}

// shopCategory says that a shop carries a register item.
type shopCategory struct {
	bun.BaseModel `bun:"table:shop_categories"`

	CouncilID int64 `bun:"council_id"`
	ShopID    int64 `bun:"shop_id"`
	ItemID    int64 `bun:"item_id"`
}
