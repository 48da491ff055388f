package catalog

import (
	"time"

	"github.com/uptrace/bun"
)

// ShopStatus is a point de vente's convention status.
type ShopStatus string

// The statuses of a point de vente.
const (
	ShopCandidat     ShopStatus = "candidat"
	ShopConventionne ShopStatus = "conventionne"
	ShopSuspendu     ShopStatus = "suspendu"
	ShopRetire       ShopStatus = "retire"
)

// Label is the shop status in French.
func (s ShopStatus) Label() string {
	switch s {
	case ShopCandidat:
		return "Candidat"
	case ShopConventionne:
		return "Conventionné"
	case ShopSuspendu:
		return "Suspendu"
	case ShopRetire:
		return "Retiré"
	}
	return string(s)
}

// ShopKind is the kind of point de vente.
type ShopKind string

// Label returns the French name of a shop kind.
func (k ShopKind) Label() string {
	switch k {
	case "marche":
		return "Marché"
	case "epicerie":
		return "Épicerie"
	case "producteur":
		return "Producteur"
	case "boulangerie":
		return "Boulangerie"
	case "supermarche":
		return "Supermarché"
	case "magasin_franchise":
		return "Magasin franchisé"
	}
	return "Autre"
}

// Shop is a point de vente.
type Shop struct {
	bun.BaseModel `bun:"table:shops"`

	ID          int64      `bun:"id,pk,autoincrement"`
	CouncilID   int64      `bun:"council_id"`
	Slug        string     `bun:"slug"`
	Name        string     `bun:"name"`
	Kind        ShopKind   `bun:"kind"`
	Address     string     `bun:"address"`
	Commune     string     `bun:"commune"`
	Hours       string     `bun:"hours"`
	Status      ShopStatus `bun:"status"`
	Description string     `bun:"description"`
	CreatedAt   time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt   time.Time  `bun:"updated_at,nullzero,default:current_timestamp"`
}
