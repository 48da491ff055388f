package exchange

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/assembly"
	"cla/governance/boussole"
	"cla/internal/web"
)

// importedDecision is a decision copied from another council's file.
type importedDecision struct {
	bun.BaseModel `bun:"table:imported_decisions"`

	ID              int64     `bun:"id,pk,autoincrement"`
	CouncilID       int64     `bun:"council_id"`
	Position        int       `bun:"position"`
	Ref             string    `bun:"ref"`
	Title           string    `bun:"title"`
	Outcome         string    `bun:"outcome"`
	DecidedOn       time.Time `bun:"decided_on,type:date"`
	MotivationMD    string    `bun:"motivation_md"`
	RegisterVersion *int      `bun:"register_version"`
	ImportedFrom    string    `bun:"imported_from"`
	ImportedOn      time.Time `bun:"imported_on,type:date"`
}

// maxExportedDecisions bounds the decisions an export reads.
const maxExportedDecisions = 100000

// Export builds the council's exchange document: its identity (from co), every
// boussole version, every register version and every decision, public text
// only.
func Export(ctx context.Context, db bun.IDB, co Council, councilID int64) (*Document, error) {
	doc := &Document{Format: Format, Version: Version, Council: co,
		Boussole: []BoussoleVersion{}, Register: []RegisterVersion{}, Decisions: []Decision{}}

	vs, err := boussole.Versions(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	if len(vs) > 0 {
		numbers := make([]int, len(vs))
		for i, v := range vs {
			numbers[len(vs)-1-i] = v.Number // oldest first
		}
		bs, err := boussole.VersionsByNumber(ctx, db, councilID, numbers...)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			doc.Boussole = append(doc.Boussole, BoussoleVersion{Number: b.Version.Number, AdoptedOn: b.Version.AdoptedOn.Format(time.DateOnly),
				Note: b.Version.Note, Criteria: boussole.SpecOf(b)})
		}
	}

	rvs, err := catalog.AllVersions(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	for _, v := range rvs {
		snap, err := v.Decode()
		if err != nil {
			return nil, fmt.Errorf("register version %d: %w", v.Number, err)
		}
		rv := RegisterVersion{Number: v.Number, EffectiveOn: v.EffectiveOn.Format(time.DateOnly), Summary: v.Summary,
			Items: make([]RegisterEntry, 0, len(snap.Items))}
		if v.DecisionRef != "" || v.DecisionTitle != "" {
			rv.Decision = &DecisionRef{Ref: v.DecisionRef, Title: v.DecisionTitle}
		}
		for _, it := range snap.Items {
			rv.Items = append(rv.Items, RegisterEntry{Slug: it.Slug, Parent: it.Parent, Kind: it.Kind, Name: it.Name, Status: it.Status,
				Conditions: it.Conditions, ReviewOn: it.ReviewOn, Reason: it.Reason, ExplanationHTML: it.ExplanationHTML})
		}
		doc.Register = append(doc.Register, rv)
	}

	// Decisions copied from another council come first, in their file's order.
	var imported []importedDecision
	if err := db.NewSelect().Model(&imported).Where("council_id = ?", councilID).Order("position").Scan(ctx); err != nil {
		return nil, err
	}
	for _, d := range imported {
		doc.Decisions = append(doc.Decisions, Decision{Ref: d.Ref, Title: d.Title, Outcome: d.Outcome,
			DecidedOn: d.DecidedOn.Format(time.DateOnly), Motivation: d.MotivationMD, RegisterVersion: d.RegisterVersion})
	}
	ds, err := assembly.Decisions(ctx, db, councilID, maxExportedDecisions)
	if err != nil {
		return nil, err
	}
	for i := len(ds) - 1; i >= 0; i-- { // oldest first
		d := ds[i]
		doc.Decisions = append(doc.Decisions, Decision{Ref: d.Ref(), Title: d.Title, Outcome: string(d.Outcome),
			DecidedOn: d.DecidedAt.In(web.Paris()).Format(time.DateOnly), Motivation: d.MotivationMD, RegisterVersion: d.RegisterVersion})
	}
	return doc, nil
}
