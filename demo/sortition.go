package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/sortition"
	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
	"cla/internal/audit"
	"cla/internal/authz"
)

// SortitionSlug is the demo's published draw.
const SortitionSlug = "sieges-2026"

// demoRound is a published quicknet round and its signature: the demo's
// draw was committed before it and uses it, so `cla sortition verify` checks
// the real beacon's signature on the demo's draw.json.
const (
	demoRound     = 32281667
	demoSignature = "b0f5ae301358ff87a9d3dd539ed4a07c0148b1ab4f7b61a8ca43c7e9ca7ca9553e4faae9188deb30b2cd1a7f447e3e5b"
)

// loadDemoSortition runs one draw through the real store: 12 seats among
// the 200 generated volunteers of draw.Sample (3 strata), committed the day
// before a published drand round, then drawn with that round. Keyed by its
// slug: loading twice changes nothing.
func loadDemoSortition(ctx context.Context, tx bun.Tx, councilID int64) error {
	var n int
	if err := tx.NewRaw("SELECT count(*) FROM sortition_draws WHERE council_id = ? AND slug = ?", councilID, SortitionSlug).Scan(ctx, &n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	sample := draw.Sample(200)
	round := drand.Quicknet.RoundTime(demoRound)
	closes := round.Add(-24 * time.Hour).Truncate(time.Hour)
	prepared := closes.Add(-30 * 24 * time.Hour)
	fac := audit.Actor{Name: "Karim Benali", Role: authz.Facilitator}
	d, err := sortition.CreateDraw(ctx, tx, fac, councilID, sortition.DrawInput{
		Slug: SortitionSlug, Title: "Sièges du conseil tirés au sort (2026)", Seats: sample.Seats, Reserves: sample.Reserves, TermMonths: 24,
		Categories: sample.Categories, Quotas: sample.Quotas,
		Source:   draw.Source{Kind: draw.SourceDrand, Chain: drand.Quicknet.Hash, Round: demoRound, Description: "drand quicknet"},
		ClosesAt: closes,
	}, prepared)
	if err != nil {
		return fmt.Errorf("demo draw: %w", err)
	}
	volunteers := make([]sortition.VolunteerInput, len(sample.Candidates))
	for i, cand := range sample.Candidates {
		volunteers[i] = sortition.VolunteerInput{Name: fmt.Sprintf("Volontaire %03d", i+1),
			Email: fmt.Sprintf("volontaire%03d@dieulefit.example", i+1), Commune: cand.Strata["commune"], Strata: cand.Strata}
	}
	if err := sortition.AddConfirmedVolunteers(ctx, tx, councilID, d.Slug, volunteers, prepared.Add(24*time.Hour)); err != nil {
		return fmt.Errorf("demo volunteers: %w", err)
	}
	if _, err := sortition.Commit(ctx, tx, fac, councilID, d.Slug, CouncilSlug, closes.Add(time.Minute)); err != nil {
		return fmt.Errorf("demo commitment: %w", err)
	}
	if _, err := sortition.EnterRandomness(ctx, tx, fac, councilID, d.Slug, demoSignature, round.Add(10*time.Minute)); err != nil {
		return fmt.Errorf("demo randomness: %w", err)
	}
	return nil
}
