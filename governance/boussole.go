// Package governance is the council's process: members and roles, proposals,
// boussole scoring, debates, meetings, votes and decisions.
package governance

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// BoussoleVersion is one adopted version of the 12-criterion compass.
type BoussoleVersion struct {
	bun.BaseModel `bun:"table:boussole_versions"`

	ID        int64     `bun:"id,pk,autoincrement"`
	CouncilID int64     `bun:"council_id"`
	Number    int       `bun:"number"`
	AdoptedOn time.Time `bun:"adopted_on,type:date"`
	Note      string    `bun:"note"`
}

// CriterionGroup is one of the boussole's groups (pour les consommateurs…).
type CriterionGroup struct {
	bun.BaseModel `bun:"table:criterion_groups"`

	ID                int64  `bun:"id,pk,autoincrement"`
	CouncilID         int64  `bun:"council_id"`
	BoussoleVersionID int64  `bun:"boussole_version_id"`
	Position          int    `bun:"position"`
	Name              string `bun:"name"`

	Criteria []Criterion `bun:"-"`
}

// Criterion is one of the boussole's criteria.
type Criterion struct {
	bun.BaseModel `bun:"table:criteria"`

	ID                int64  `bun:"id,pk,autoincrement"`
	CouncilID         int64  `bun:"council_id"`
	BoussoleVersionID int64  `bun:"boussole_version_id"`
	GroupID           int64  `bun:"group_id"`
	Position          int    `bun:"position"`
	Name              string `bun:"name"`
	Description       string `bun:"description"`
}

// Boussole is a version with its groups and criteria.
type Boussole struct {
	Version BoussoleVersion
	Groups  []CriterionGroup
}

// CurrentBoussole returns the council's latest boussole version with its criteria,
// in two queries.
func CurrentBoussole(ctx context.Context, db bun.IDB, councilID int64) (*Boussole, error) {
	b := &Boussole{}
	if err := db.NewSelect().Model(&b.Version).
		Where("council_id = ?", councilID).Order("number DESC").Limit(1).Scan(ctx); err != nil {
		return nil, err
	}
	if err := db.NewSelect().Model(&b.Groups).
		Where("boussole_version_id = ?", b.Version.ID).Order("position").Scan(ctx); err != nil {
		return nil, err
	}
	var criteria []Criterion
	if err := db.NewSelect().Model(&criteria).
		Where("boussole_version_id = ?", b.Version.ID).Order("position").Scan(ctx); err != nil {
		return nil, err
	}
	for i := range b.Groups {
		for _, c := range criteria {
			if c.GroupID == b.Groups[i].ID {
				b.Groups[i].Criteria = append(b.Groups[i].Criteria, c)
			}
		}
	}
	return b, nil
}
