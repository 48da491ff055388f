// Package catalog is the convention register: families, categories and products
// with their conventionnement status, and the points de vente.
package catalog

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
)

// Status is an item's conventionnement status.
type Status string

// The four statuses of the register.
const (
	Conventionne          Status = "conventionne"
	SousConditions        Status = "sous_conditions"
	NonConventionne       Status = "non_conventionne"
	DebatSouhaite         Status = "debat_souhaite"
	maxNameLen                   = 200
	maxConditionsOrReason        = 2000
)

// Statuses lists the statuses in the order pages present them.
var Statuses = []Status{Conventionne, SousConditions, NonConventionne, DebatSouhaite}

// Label is the status in French, as eaters read it.
func (s Status) Label() string {
	switch s {
	case Conventionne:
		return "Conventionné"
	case SousConditions:
		return "Conventionné sous conditions"
	case NonConventionne:
		return "Non conventionné"
	case DebatSouhaite:
		return "Pas encore traité — débat souhaité"
	}
	return string(s)
}

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case Conventionne, SousConditions, NonConventionne, DebatSouhaite:
		return true
	}
	return false
}

// Kind is an item's level in the register.
type Kind string

// The three levels of the register.
const (
	Family   Kind = "family"
	Category Kind = "category"
	Product  Kind = "product"
)

// Item is one entry of the register: a family, a category or a product.
type Item struct {
	bun.BaseModel `bun:"table:register_items"`

	ID              int64      `bun:"id,pk,autoincrement"`
	CouncilID       int64      `bun:"council_id"`
	ParentID        *int64     `bun:"parent_id"`
	Kind            Kind       `bun:"kind"`
	Slug            string     `bun:"slug"`
	Name            string     `bun:"name"`
	Position        int        `bun:"position"`
	Status          Status     `bun:"status"`
	Conditions      string     `bun:"conditions"`
	ReviewOn        *time.Time `bun:"review_on,type:date"`
	Reason          string     `bun:"reason"`
	ExplanationMD   string     `bun:"explanation_md"`
	ExplanationHTML string     `bun:"explanation_html"`
	// OFFCategory is an Open Food Facts category tag ("en:rices") and
	// GPCBrick a GS1 GPC brick code (8 digits): optional codes that let a
	// point-of-sale system map its own catalogue onto the register.
	OFFCategory string `bun:"off_category"`
	// Keywords are the everyday words that name the item without being in
	// its name ("poisson, saumon, fruits de mer"), comma-separated, for the
	// lookup (catalog/match.go).
	Keywords  string    `bun:"keywords"`
	GPCBrick  string    `bun:"gpc_brick"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,default:current_timestamp"`
}

// Validate checks the item's own rules; the schema checks them again.
func (it *Item) Validate() error {
	f := apperr.Fields{}
	it.Name = strings.TrimSpace(it.Name)
	switch n := utf8.RuneCountInString(it.Name); {
	case n == 0:
		f.Add("name", "Le nom est obligatoire.")
	case n > maxNameLen:
		f.Add("name", "Le nom ne doit pas dépasser 200 caractères.")
	}
	switch it.Kind {
	case Family:
		if it.ParentID != nil {
			f.Add("parent", "Une famille ne peut pas avoir de parent.")
		}
	case Category, Product:
		if it.ParentID == nil {
			f.Add("parent", "Choisissez la famille ou la catégorie parente.")
		}
	default:
		f.Add("kind", "Type d'élément inconnu.")
	}
	if !it.Status.Valid() {
		f.Add("status", "Statut inconnu.")
	}
	if it.Status == SousConditions && strings.TrimSpace(it.Conditions) == "" {
		f.Add("conditions", "Précisez les conditions du conventionnement.")
	}
	if it.Status == NonConventionne && strings.TrimSpace(it.Reason) == "" {
		f.Add("reason", "Donnez la raison du non-conventionnement.")
	}
	if utf8.RuneCountInString(it.Conditions) > maxConditionsOrReason {
		f.Add("conditions", "Les conditions ne doivent pas dépasser 2000 caractères.")
	}
	if utf8.RuneCountInString(it.Reason) > maxConditionsOrReason {
		f.Add("reason", "La raison ne doit pas dépasser 2000 caractères.")
	}
	it.Keywords = strings.Join(Keywords(it.Keywords), ", ")
	if utf8.RuneCountInString(it.Keywords) > maxConditionsOrReason {
		f.Add("keywords", "Les mots-clés ne doivent pas dépasser 2000 caractères.")
	}
	it.OFFCategory, it.GPCBrick = NormalizeCodes(it.OFFCategory, it.GPCBrick)
	validateCodes(f, it.OFFCategory, it.GPCBrick)
	return f.Err()
}

var (
	offCategoryRE = regexp.MustCompile(`^[a-z]{2}:[a-z0-9-]+$`)
	gpcBrickRE    = regexp.MustCompile(`^[0-9]{8}$`)
)

// NormalizeCodes trims the classification codes as typed: the tag in lower
// case, the brick without spaces (it is often printed "10 00 00 25").
func NormalizeCodes(off, gpc string) (string, string) {
	off = strings.ToLower(strings.TrimSpace(off))
	gpc = strings.Join(strings.Fields(gpc), "")
	return off, gpc
}

// validateCodes adds the French messages of invalid codes to f; the schema
// checks the same patterns.
func validateCodes(f apperr.Fields, off, gpc string) {
	if off != "" && (!offCategoryRE.MatchString(off) || len(off) > 100) {
		f.Add("off_category", "La catégorie Open Food Facts s'écrit comme « en:rices » : deux lettres de langue, deux-points, puis lettres minuscules, chiffres ou tirets.")
	}
	if gpc != "" && !gpcBrickRE.MatchString(gpc) {
		f.Add("gpc_brick", "La brique GS1 GPC est un code de 8 chiffres, par exemple 10000025.")
	}
}

// Slug turns a French name into a register slug (a new item's, a candidate
// shop's): lower case, accents folded, one dash between words, at most 100
// bytes, "element" when nothing is left.
func Slug(name string) string {
	fold := strings.NewReplacer("à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
		"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ÿ", "y", "œ", "oe", "æ", "ae")
	var b strings.Builder
	dash := false
	for _, r := range fold.Replace(strings.ToLower(name)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 100 {
		s = strings.TrimRight(s[:100], "-")
	}
	if s == "" {
		s = "element"
	}
	return s
}
