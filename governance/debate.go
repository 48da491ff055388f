package governance

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// DebateState is where a debate stands.
type DebateState string

// The states of a debate.
const (
	DebateRequested DebateState = "souhaite"
	DebateOpen      DebateState = "ouvert"
	DebateClosed    DebateState = "clos"
)

// Label is the state in French.
func (s DebateState) Label() string {
	switch s {
	case DebateRequested:
		return "Débat souhaité"
	case DebateOpen:
		return "Ouvert"
	case DebateClosed:
		return "Clos"
	}
	return string(s)
}

// Theme groups debates as the council listed them.
type Theme string

// Label is the theme in French.
func (t Theme) Label() string {
	switch t {
	case "criteres":
		return "Sur les critères de conventionnement"
	case "produits":
		return "Sur les produits à conventionner"
	case "points_de_vente":
		return "Sur l'adhésion des points de vente"
	case "societe":
		return "Débats de société"
	case "transmission":
		return "Sur la transmission de la richesse des débats"
	}
	return string(t)
}

// Debate is a question the council debates, or wants to.
type Debate struct {
	bun.BaseModel `bun:"table:debates"`

	ID        int64       `bun:"id,pk,autoincrement"`
	CouncilID int64       `bun:"council_id"`
	Slug      string      `bun:"slug"`
	Theme     Theme       `bun:"theme"`
	Title     string      `bun:"title"`
	Question  string      `bun:"question"`
	State     DebateState `bun:"state"`
	IsDemo    bool        `bun:"is_demo"`
	CreatedAt time.Time   `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt time.Time   `bun:"updated_at,nullzero,default:current_timestamp"`
}

// Debates lists the council's debates by theme.
func Debates(ctx context.Context, db bun.IDB, councilID int64) ([]Debate, error) {
	var ds []Debate
	err := db.NewSelect().Model(&ds).
		Column("id", "slug", "theme", "title", "question", "state").
		Where("council_id = ?", councilID).
		Order("theme", "id").
		Scan(ctx)
	return ds, err
}
