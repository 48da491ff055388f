package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/markdown"
)

// AllVersions returns every register version of the council with its
// snapshot, oldest first: what the exchange file carries.
func AllVersions(ctx context.Context, db bun.IDB, councilID int64) ([]Version, error) {
	var vs []Version
	err := db.NewSelect().Model(&vs).Where("council_id = ?", councilID).Order("number").Scan(ctx)
	return vs, err
}

// ImportedVersion is one register version copied from another council's
// exchange file: its number, date, summary, decision and items (no shops:
// points de vente belong to their own caisse).
type ImportedVersion struct {
	Number        int
	EffectiveOn   time.Time
	Summary       string
	DecisionRef   string
	DecisionTitle string
	Items         []SnapshotItem // parents before children
}

// ImportHistory gives an empty register (no item, no version) the versions
// of another council, in tx: each becomes a register version marked "imported
// from <from>, <on>", with its change lines and the items' status history,
// and the last one becomes the register in force. The versions must already
// be valid (the exchange package checks the whole file first); explanations
// are sanitised again, since they come from outside.
func ImportHistory(ctx context.Context, tx bun.Tx, councilID int64, versions []ImportedVersion, from string, on time.Time) error {
	if len(versions) == 0 {
		return nil
	}
	if _, err := tx.NewRaw("INSERT INTO register_heads (council_id) VALUES (?) ON CONFLICT (council_id) DO NOTHING", councilID).Exec(ctx); err != nil {
		return fmt.Errorf("register head: %w", err)
	}
	var head int
	if err := tx.NewRaw("SELECT version FROM register_heads WHERE council_id = ? FOR UPDATE", councilID).Scan(ctx, &head); err != nil {
		return fmt.Errorf("lock register head: %w", err)
	}
	n, err := tx.NewSelect().Table("register_items").Where("council_id = ?", councilID).Count(ctx)
	if err != nil {
		return err
	}
	if head != 0 || n != 0 {
		return apperr.New(apperr.Conflict, "Le registre de ce conseil n'est pas vide : un import ne remplit qu'un registre vide.")
	}
	var slug string
	if err := tx.NewSelect().Table("councils").Column("slug").Where("id = ?", councilID).Scan(ctx, &slug); err != nil {
		return fmt.Errorf("council: %w", err)
	}
	onDay := time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, time.UTC)
	var prev map[string]SnapshotItem
	type pending struct {
		slug string
		h    HistoryEntry
	}
	var histories []pending
	for _, iv := range versions {
		items := make([]SnapshotItem, len(iv.Items))
		cur := make(map[string]SnapshotItem, len(iv.Items))
		var lines []ChangeLine
		for i, it := range iv.Items {
			it.ExplanationHTML = markdown.Sanitize(it.ExplanationHTML)
			it.StatusLabel = it.Status.Label()
			items[i] = it
			cur[it.Slug] = it
			old, existed := prev[it.Slug]
			switch {
			case !existed:
				lines = append(lines, ChangeLine{Object: "item", Slug: it.Slug, Name: it.Name, Action: "added", To: string(it.Status)})
			case old.Status != it.Status || old.Conditions != it.Conditions || old.Reason != it.Reason || old.ReviewOn != it.ReviewOn:
				lines = append(lines, ChangeLine{Object: "item", Slug: it.Slug, Name: it.Name, Action: "status", From: string(old.Status), To: string(it.Status)})
			default:
				continue
			}
			h := HistoryEntry{CouncilID: councilID, VersionNumber: iv.Number, Status: it.Status, Conditions: it.Conditions,
				Reason: it.Reason, ReviewOn: parseDate(it.ReviewOn), EffectiveOn: iv.EffectiveOn,
				DecisionRef: iv.DecisionRef, DecisionTitle: iv.DecisionTitle}
			histories = append(histories, pending{it.Slug, h})
		}
		if lines == nil {
			lines = []ChangeLine{}
		}
		snap := &Snapshot{Council: slug, Version: iv.Number, EffectiveOn: iv.EffectiveOn.Format(time.DateOnly), Summary: iv.Summary,
			Decision: &SnapDecision{Ref: iv.DecisionRef, Title: iv.DecisionTitle}, Items: items, Shops: []SnapshotShop{}}
		v := &Version{CouncilID: councilID, Number: iv.Number, EffectiveOn: iv.EffectiveOn, Summary: iv.Summary,
			DecisionRef: iv.DecisionRef, DecisionTitle: iv.DecisionTitle, Changes: lines, ImportedFrom: from, ImportedOn: &onDay}
		if v.Snapshot, err = marshalJSON(snap); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(v).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("imported version %d: %w", iv.Number, err)
		}
		prev = cur
	}

	// The last version is the register in force.
	last := versions[len(versions)-1]
	ids := map[string]int64{}
	for pos, it := range last.Items {
		item := &Item{CouncilID: councilID, Kind: it.Kind, Slug: it.Slug, Name: it.Name, Position: pos + 1, Status: it.Status,
			Conditions: it.Conditions, ReviewOn: parseDate(it.ReviewOn), Reason: it.Reason,
			ExplanationHTML: markdown.Sanitize(it.ExplanationHTML), Keywords: strings.Join(it.Keywords, ", ")}
		// The source's markdown is not exchanged: its text stands in for it.
		item.ExplanationMD = markdown.ToText(item.ExplanationHTML)
		if it.Parent != "" {
			id, ok := ids[it.Parent]
			if !ok {
				return apperr.New(apperr.Invalid, "L'élément « %s » vient avant son parent « %s ».", it.Slug, it.Parent)
			}
			item.ParentID = &id
		}
		if err := item.Validate(); err != nil {
			return withPrefix(err, item.Name)
		}
		if _, err := tx.NewInsert().Model(item).ExcludeColumn("created_at", "updated_at").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("imported item %s: %w", it.Slug, err)
		}
		ids[it.Slug] = item.ID
	}
	var history []HistoryEntry
	for _, p := range histories {
		// Items gone from the register in force keep no history here.
		if id, ok := ids[p.slug]; ok {
			p.h.ItemID = id
			history = append(history, p.h)
		}
	}
	if len(history) > 0 {
		if _, err := tx.NewInsert().Model(&history).Exec(ctx); err != nil {
			return fmt.Errorf("imported item history: %w", err)
		}
	}
	if err := audit.Record(ctx, tx, audit.Actor{}.Entry(&councilID, "register.import", "register_version",
		strconv.Itoa(last.Number), fmt.Sprintf("Registre importé de %s : %d versions, %d éléments", from, len(versions), len(last.Items))),
		nil, nil); err != nil {
		return err
	}
	if _, err := tx.NewRaw("UPDATE register_heads SET version = ?, generation = generation + 1, changed_at = now() WHERE council_id = ?",
		last.Number, councilID).Exec(ctx); err != nil {
		return err
	}
	return notify(ctx, tx, councilID)
}

// parseDate reads a YYYY-MM-DD date ("" or unreadable: nil).
func parseDate(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil
	}
	return &t
}
