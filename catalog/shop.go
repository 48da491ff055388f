package catalog

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,119}$`)

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
	case "autre":
		return "Autre"
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
	Latitude    *float64   `bun:"latitude"`
	Longitude   *float64   `bun:"longitude"`
	Contact     string     `bun:"contact"`
	Website     string     `bun:"website"`
	Network     string     `bun:"network"` // "" when independent
	SignedOn    *time.Time `bun:"signed_on,type:date"`
	RenewalOn   *time.Time `bun:"renewal_on,type:date"`
	CreatedAt   time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt   time.Time  `bun:"updated_at,nullzero,default:current_timestamp"`
}

// ShopStatuses lists the shop statuses in the order pages present them.
var ShopStatuses = []ShopStatus{ShopConventionne, ShopCandidat, ShopSuspendu, ShopRetire}

// ShopKinds lists the kinds of point de vente, in the order filters show them.
var ShopKinds = []ShopKind{"marche", "epicerie", "producteur", "boulangerie", "supermarche", "magasin_franchise", "autre"}

// Valid reports whether s is one of the four shop statuses.
func (s ShopStatus) Valid() bool {
	switch s {
	case ShopCandidat, ShopConventionne, ShopSuspendu, ShopRetire:
		return true
	}
	return false
}

// Valid reports whether k is a known kind.
func (k ShopKind) Valid() bool {
	for _, v := range ShopKinds {
		if v == k {
			return true
		}
	}
	return false
}

// Independent reports whether the shop belongs to no network.
func (s *Shop) Independent() bool { return s.Network == "" }

// Validate checks the shop's own rules; the schema checks them again.
func (s *Shop) Validate() error {
	f := apperr.Fields{}
	s.Name = strings.TrimSpace(s.Name)
	s.Commune = strings.TrimSpace(s.Commune)
	s.Website = strings.TrimSpace(s.Website)
	s.Network = strings.TrimSpace(s.Network)
	if !slugRE.MatchString(s.Slug) {
		f.Add("slug", "Identifiant invalide (minuscules, chiffres et tirets).")
	}
	if n := utf8.RuneCountInString(s.Name); n == 0 || n > maxNameLen {
		f.Add("name", "Le nom est obligatoire (200 caractères au plus).")
	}
	if n := utf8.RuneCountInString(s.Commune); n == 0 || n > 120 {
		f.Add("commune", "La commune est obligatoire (120 caractères au plus).")
	}
	if !s.Kind.Valid() {
		f.Add("kind", "Type de point de vente inconnu.")
	}
	if !s.Status.Valid() {
		f.Add("status", "Statut inconnu.")
	}
	if s.Website != "" && !strings.HasPrefix(s.Website, "https://") && !strings.HasPrefix(s.Website, "http://") {
		f.Add("website", "L'adresse du site doit commencer par https://.")
	}
	if (s.Latitude == nil) != (s.Longitude == nil) ||
		s.Latitude != nil && (*s.Latitude < -90 || *s.Latitude > 90 || *s.Longitude < -180 || *s.Longitude > 180) {
		f.Add("coordinates", "Coordonnées invalides.")
	}
	if s.SignedOn != nil && s.RenewalOn != nil && s.RenewalOn.Before(*s.SignedOn) {
		f.Add("renewal_on", "Le renouvellement ne peut pas précéder la signature.")
	}
	if utf8.RuneCountInString(s.Address) > 300 || utf8.RuneCountInString(s.Contact) > 300 || utf8.RuneCountInString(s.Hours) > 500 ||
		utf8.RuneCountInString(s.Description) > 2000 || utf8.RuneCountInString(s.Network) > 200 || len(s.Website) > 300 {
		f.Add("length", "Un des textes est trop long.")
	}
	return f.Err()
}

// PartnerShop is a point de vente as the payment tool's connector pushes it
// to its Odoo partner (governance/lokavaluto).
type PartnerShop struct {
	ID        int64
	Slug      string
	Name      string
	Status    ShopStatus
	SignedOn  *time.Time
	RenewalOn *time.Time
	// Categories are the names of the register items the shop carries, in
	// register order.
	Categories []string
}

// PartnerShops returns the council's points de vente with their convention
// and categories, by name. Two queries.
func PartnerShops(ctx context.Context, db bun.IDB, councilID int64) ([]PartnerShop, error) {
	shops, err := Shops(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ShopID int64  `bun:"shop_id"`
		Name   string `bun:"name"`
	}
	if err := db.NewSelect().TableExpr("shop_categories AS sc").
		ColumnExpr("sc.shop_id, i.name").
		Join("JOIN register_items AS i ON i.id = sc.item_id AND i.council_id = sc.council_id").
		Where("sc.council_id = ?", councilID).OrderExpr("sc.shop_id, i.id").Scan(ctx, &rows); err != nil {
		return nil, err
	}
	cats := map[int64][]string{}
	for _, r := range rows {
		cats[r.ShopID] = append(cats[r.ShopID], r.Name)
	}
	out := make([]PartnerShop, 0, len(shops))
	for _, s := range shops {
		out = append(out, PartnerShop{ID: s.ID, Slug: s.Slug, Name: s.Name, Status: s.Status, SignedOn: s.SignedOn,
			RenewalOn: s.RenewalOn, Categories: cats[s.ID]})
	}
	return out, nil
}
