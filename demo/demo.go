// Package demo loads the Dieulefit demo into a database: the council, its
// boussole, register and points de vente, members, proposals with scores,
// debates, meetings with votes and decisions, and shop applications (Load).
// Only cmd imports it (and tests, as a fixture); the domain packages never do.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/model"
	"cla/internal/apperr"
	"cla/internal/council"
)

// CouncilSlug is the slug of the demo council.
const CouncilSlug = "dieulefit"

// demoLockKey serialises demo loading across instances starting together.
const demoLockKey = 0x636c615f64656d6f // "cla_demo"

// Load loads the Dieulefit council: boussole, register, points de vente and
// requested debates. Every row is keyed (slugs, positions), so loading twice
// duplicates nothing; it runs in one transaction.
func Load(ctx context.Context, db *bun.DB) (*council.Council, error) {
	co := new(council.Council)
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", demoLockKey); err != nil {
			return err
		}
		// The demo council is created as every council is (internal/council,
		// the path of `cla council create`), then filled; loading twice finds it.
		if err := council.LockCreation(ctx, tx); err != nil {
			return err
		}
		found, err := council.BySlug(ctx, tx, CouncilSlug)
		switch {
		case err == nil:
			*co = *found
		case apperr.CodeOf(err) == apperr.NotFound:
			*co = council.Council{Slug: CouncilSlug, Name: "Conseil Local de l'Alimentation de Dieulefit",
				CaisseName: "Notre caisse alim'", Territory: "Dieulefit et alentours (Drôme)"}
			if err := council.Insert(ctx, tx, co, nil); err != nil {
				return fmt.Errorf("demo council: %w", err)
			}
		default:
			return fmt.Errorf("demo council: %w", err)
		}
		if err := LoadRegister(ctx, tx, co.ID); err != nil {
			return err
		}
		if err := LoadBoussole(ctx, tx, co.ID); err != nil {
			return err
		}
		if err := loadDemoMembers(ctx, tx, co.ID); err != nil {
			return err
		}
		if err := loadDemoProposals(ctx, tx, co.ID); err != nil {
			return err
		}
		// Debates last: the demo arguments refer to the boussole's criteria.
		if err := loadDemoDebates(ctx, tx, co.ID); err != nil {
			return err
		}
		if err := loadDemoApplications(ctx, tx, co.ID); err != nil {
			return err
		}
		// Meetings last: their agendas and decisions refer to everything above.
		return loadDemoMeetings(ctx, tx, co.ID)
	})
	return co, err
}

// LoadBoussole writes the demo's boussole (version 1, the 12 criteria in three
// groups) for councilID; the load generator gives every council the same one.
func LoadBoussole(ctx context.Context, tx bun.Tx, councilID int64) error {
	return model.WriteBoussole(ctx, tx, councilID, time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		"La boussole du conventionnement, adoptée au lancement du Conseil.")
}
