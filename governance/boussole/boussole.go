// Package boussole holds the seven-grade scale and its tallies (majority
// grade), the council's boussole (criteria in groups, versioned: a score
// always refers to the version it was given against), the radar chart that
// draws scores against it, and the /boussole page.
package boussole

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/database"
)

// BoussoleVersion is one adopted version of the 12-criterion compass.
type BoussoleVersion struct {
	bun.BaseModel `bun:"table:boussole_versions"`

	ID        int64     `bun:"id,pk,autoincrement"`
	CouncilID int64     `bun:"council_id"`
	Number    int       `bun:"number"`
	AdoptedOn time.Time `bun:"adopted_on,type:date"`
	Note      string    `bun:"note"`
	// ImportedFrom names the council whose exchange file this version was
	// copied from ("" for a version adopted here), on ImportedOn.
	ImportedFrom string     `bun:"imported_from"`
	ImportedOn   *time.Time `bun:"imported_on,type:date"`
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
	Question          string `bun:"question"` // the question a member asks when grading it
	Pillar            Pillar `bun:"pillar"`
}

// Boussole is a version with its groups and criteria.
type Boussole struct {
	Version BoussoleVersion
	Groups  []CriterionGroup
}

// boussoleSelect reads a boussole version with its groups and criteria, in
// the order ScanBoussole reads them; each path adds its own WHERE (with its
// own placeholders) and boussoleOrder.
const (
	boussoleSelect = `SELECT v.id, v.council_id, v.number, v.adopted_on, v.note, v.imported_from, v.imported_on,
		g.id, g.position, g.name, c.id, c.position, c.name, c.description, c.question, c.pillar
	FROM boussole_versions AS v
	LEFT JOIN criterion_groups AS g ON g.boussole_version_id = v.id
	LEFT JOIN criteria AS c ON c.group_id = g.id AND c.boussole_version_id = v.id `
	boussoleOrder = ` ORDER BY g.position, c.position`
)

// currentBoussoleSQL reads the council's (?) latest boussole version, for
// bun (CurrentBoussole).
const currentBoussoleSQL = boussoleSelect +
	`WHERE v.id = (SELECT id FROM boussole_versions WHERE council_id = ? ORDER BY number DESC LIMIT 1)` + boussoleOrder

// CurrentBoussoleBatchSQL is currentBoussoleSQL for a pgx batch (the
// proposal page's fast path, docs/decisions.md "One way to reach
// PostgreSQL"): the council is $1; its rows are read by ScanBoussole.
const CurrentBoussoleBatchSQL = boussoleSelect +
	`WHERE v.id = (SELECT id FROM boussole_versions WHERE council_id = $1 ORDER BY number DESC LIMIT 1)` + boussoleOrder

// ErrNoBoussole is the answer for a council whose boussole is not written
// yet (a new council): nothing can be scored, and proposals wait for it. It
// names the proposal kind that writes it (the proposal package's
// ProposalBoussole.Label(), which a test of that package compares).
var ErrNoBoussole = apperr.New(apperr.Conflict, "La boussole de ce conseil n'est pas encore écrite : les propositions ne peuvent pas encore être évaluées. "+
	"Elle s'écrit par une proposition « Modification de la boussole », adoptée en séance.")

// BoussoleExists reports whether the council has a boussole.
func BoussoleExists(ctx context.Context, db bun.IDB, councilID int64) (bool, error) {
	return db.NewSelect().Table("boussole_versions").Where("council_id = ?", councilID).Exists(ctx)
}

// CurrentBoussole returns the council's latest boussole version with its
// groups and criteria, in one query (ErrNoBoussole when it has none).
func CurrentBoussole(ctx context.Context, db bun.IDB, councilID int64) (*Boussole, error) {
	rows, err := db.QueryContext(ctx, currentBoussoleSQL, councilID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return ScanBoussole(rows)
}

// ScanBoussole reads the rows of currentBoussoleSQL or CurrentBoussoleBatchSQL.
func ScanBoussole(rows database.RowScanner) (*Boussole, error) {
	var b *Boussole
	for rows.Next() {
		var v BoussoleVersion
		var gID, cID *int64
		var gPos, cPos *int32
		var gName, cName, cDesc, cQuestion, cPillar *string
		if err := rows.Scan(&v.ID, &v.CouncilID, &v.Number, &v.AdoptedOn, &v.Note, &v.ImportedFrom, &v.ImportedOn,
			&gID, &gPos, &gName, &cID, &cPos, &cName, &cDesc, &cQuestion, &cPillar); err != nil {
			return nil, err
		}
		if b == nil {
			b = &Boussole{Version: v}
		}
		if gID == nil {
			continue
		}
		if n := len(b.Groups); n == 0 || b.Groups[n-1].ID != *gID {
			b.Groups = append(b.Groups, CriterionGroup{ID: *gID, CouncilID: v.CouncilID, BoussoleVersionID: v.ID,
				Position: int(*gPos), Name: *gName})
		}
		if cID != nil {
			g := &b.Groups[len(b.Groups)-1]
			g.Criteria = append(g.Criteria, Criterion{ID: *cID, CouncilID: v.CouncilID, BoussoleVersionID: v.ID,
				GroupID: *gID, Position: int(*cPos), Name: *cName, Description: *cDesc, Question: *cQuestion, Pillar: Pillar(*cPillar)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, ErrNoBoussole
	}
	return b, nil
}
