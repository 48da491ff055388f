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

	"cla/governance/boussole"
	"cla/internal/council"
)

// CouncilSlug is the slug of the demo council.
const CouncilSlug = "dieulefit"

var demoBoussole = []struct {
	group    string
	criteria []string
}{
	{"Pour les consommateurs", []string{
		"Accessibilité : prix",
		"Accessibilité géographique",
		"Santé humaine (produits phyto, nutrition)",
		"Choix, diversité des régimes alimentaires",
		"Convivialité, plaisir, goût (couleurs, saveurs, odeurs)",
		"Confiance : traçabilité, information",
	}},
	{"Pour les producteurs et artisans", []string{
		"Conditions de travail",
		"Viabilité économique",
	}},
	{"Changement de système", []string{
		"Agriculture de proximité (local, saisons)",
		"Santé de l'environnement",
		"Territoire vivant, paysages, dynamisme rural",
		"Désirabilité de la SSA",
	}},
}

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
		err := tx.NewRaw(`INSERT INTO councils (slug, name, caisse_name, territory, is_default)
			VALUES (?, ?, ?, ?, NOT EXISTS (SELECT 1 FROM councils WHERE is_default))
			ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
			RETURNING *`,
			CouncilSlug, "Conseil Local de l'Alimentation de Dieulefit", "Notre caisse alim'",
			"Dieulefit et alentours (Drôme)").Scan(ctx, co)
		if err != nil {
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
	v := &boussole.BoussoleVersion{CouncilID: councilID, Number: 1, AdoptedOn: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		Note: "La boussole du conventionnement, adoptée au lancement du Conseil."}
	if _, err := tx.NewInsert().Model(v).
		On("CONFLICT (council_id, number) DO UPDATE SET number = EXCLUDED.number").Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("demo boussole: %w", err)
	}
	pos := 0
	for gi, g := range demoBoussole {
		grp := &boussole.CriterionGroup{CouncilID: councilID, BoussoleVersionID: v.ID, Position: gi + 1, Name: g.group}
		if _, err := tx.NewInsert().Model(grp).
			On("CONFLICT (boussole_version_id, position) DO UPDATE SET position = EXCLUDED.position").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("demo criterion group: %w", err)
		}
		for _, name := range g.criteria {
			pos++
			c := &boussole.Criterion{CouncilID: councilID, BoussoleVersionID: v.ID, GroupID: grp.ID, Position: pos, Name: name,
				Pillar: boussole.PillarOfGroup(g.group, gi+1)}
			if _, err := tx.NewInsert().Model(c).On("CONFLICT (boussole_version_id, position) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("demo criterion: %w", err)
			}
		}
	}
	return nil
}
