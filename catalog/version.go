package catalog

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
)

// DecisionRef points at the council decision behind a register change. The
// catalog stores it as given; governance owns what it refers to.
type DecisionRef struct {
	Ref       string // stable reference, e.g. "decision:42"; "" for the initial list
	Title     string // French, shown on item pages and in the history
	URL       string // path or URL of the decision's public page; "" for none
	ActorID   *int64 // account that recorded the decision, for the audit trail
	ActorName string
}

// actor is who the audit trail names for the change: the account that
// recorded the decision, or the system.
func (r DecisionRef) actor() audit.Actor {
	a := audit.Actor{Name: r.ActorName}
	if r.ActorID != nil {
		a.AccountID = *r.ActorID
	}
	return a
}

// Change is what one council decision does to the register. Item and shop
// changes are applied in order, so a new category may follow its new family.
type Change struct {
	EffectiveOn time.Time // the date the new version takes effect
	Summary     string    // French, one line: "Le riz de Camargue est conventionné"
	Items       []ItemChange
	Shops       []ShopChange
}

// ItemChange creates an item or sets an existing item's status.
//
// When Slug names an existing item of the council, its status, conditions,
// review date and reason are replaced, and its explanation: by ExplanationMD
// when it is not empty, cleared when the status changes without one (an
// explanation belongs to the status it was written for); Name, Kind,
// ParentSlug and Keywords are ignored. Otherwise a new item is
// created from every field, at the end of its siblings.
type ItemChange struct {
	Slug          string
	Status        Status
	Conditions    string     // required for SousConditions
	ReviewOn      *time.Time // review date, for SousConditions
	Reason        string     // required for NonConventionne
	ExplanationMD string     // public explanation (markdown)

	// For a new item only.
	Kind       Kind
	Name       string
	ParentSlug string // "" for a family
	// Keywords are the everyday words that name the item, comma-separated
	// (Item.Keywords); facilitators correct them later with the wording.
	Keywords string
}

// ShopChange creates a point de vente or changes an existing one's status,
// convention dates or categories.
type ShopChange struct {
	Slug      string
	Status    ShopStatus
	SignedOn  *time.Time // convention signature; nil keeps the current date
	RenewalOn *time.Time // convention renewal; nil keeps the current date
	// Categories are the register items' slugs the shop carries; nil keeps them.
	Categories []string
	// New is the full record of a shop that does not exist yet (its Slug and
	// Status are taken from the change).
	New *Shop
}

// Validate checks what can be checked without the database.
func (ch *Change) Validate() error {
	f := apperr.Fields{}
	ch.Summary = strings.TrimSpace(ch.Summary)
	if n := utf8.RuneCountInString(ch.Summary); n == 0 || n > 500 {
		f.Add("summary", "Le résumé du changement est obligatoire (500 caractères au plus).")
	}
	if ch.EffectiveOn.IsZero() {
		f.Add("effective_on", "La date d'effet est obligatoire.")
	}
	if len(ch.Items) == 0 && len(ch.Shops) == 0 {
		f.Add("changes", "Le changement ne modifie rien.")
	}
	seen := map[string]bool{}
	for _, it := range ch.Items {
		if !slugRE.MatchString(it.Slug) {
			f.Add("items", "Identifiant d'élément invalide : "+it.Slug)
		} else if seen[it.Slug] {
			f.Add("items", "Élément cité deux fois : "+it.Slug)
		}
		seen[it.Slug] = true
		if !it.Status.Valid() {
			f.Add("items", "Statut inconnu pour "+it.Slug)
		}
	}
	seenShop := map[string]bool{}
	for _, s := range ch.Shops {
		if !slugRE.MatchString(s.Slug) || seenShop[s.Slug] {
			f.Add("shops", "Point de vente invalide ou cité deux fois : "+s.Slug)
		}
		seenShop[s.Slug] = true
		if !s.Status.Valid() {
			f.Add("shops", "Statut inconnu pour "+s.Slug)
		}
	}
	return f.Err()
}

// Version is one published state of the register. It never changes once written.
type Version struct {
	bun.BaseModel `bun:"table:register_versions"`

	ID            int64           `bun:"id,pk,autoincrement"`
	CouncilID     int64           `bun:"council_id"`
	Number        int             `bun:"number"`
	EffectiveOn   time.Time       `bun:"effective_on,type:date"`
	Summary       string          `bun:"summary"`
	DecisionRef   string          `bun:"decision_ref"`
	DecisionTitle string          `bun:"decision_title"`
	DecisionURL   string          `bun:"decision_url"`
	Changes       []ChangeLine    `bun:"changes,type:jsonb"`
	Snapshot      json.RawMessage `bun:"snapshot,type:jsonb"`
	CreatedAt     time.Time       `bun:"created_at,nullzero,default:current_timestamp"`
	// ImportedFrom names the council whose exchange file this version was
	// copied from ("" for a version decided here), on ImportedOn.
	ImportedFrom string     `bun:"imported_from"`
	ImportedOn   *time.Time `bun:"imported_on,type:date"`
}

// ChangeLine is one line of what a version changed, as the history shows it.
type ChangeLine struct {
	Object string `json:"object"` // "item" or "shop"
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Action string `json:"action"` // "added" or "status"
	From   string `json:"from,omitempty"`
	To     string `json:"to"`
}

// HistoryEntry is one status an item received, with the decision behind it.
type HistoryEntry struct {
	bun.BaseModel `bun:"table:register_item_history"`

	ID            int64      `bun:"id,pk,autoincrement"`
	CouncilID     int64      `bun:"council_id"`
	ItemID        int64      `bun:"item_id"`
	VersionNumber int        `bun:"version_number"`
	Status        Status     `bun:"status"`
	Conditions    string     `bun:"conditions"`
	ReviewOn      *time.Time `bun:"review_on,type:date"`
	Reason        string     `bun:"reason"`
	EffectiveOn   time.Time  `bun:"effective_on,type:date"`
	DecisionRef   string     `bun:"decision_ref"`
	DecisionTitle string     `bun:"decision_title"`
	DecisionURL   string     `bun:"decision_url"`
	CreatedAt     time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
}

// Snapshot is the content of a register version, and the body of the open-data
// JSON (/api/v1/register and /api/v1/register/versions/{n}). Its field names are
// a public contract documented in docs/api.md.
type Snapshot struct {
	Council     string         `json:"council"`
	Version     int            `json:"version"`
	EffectiveOn string         `json:"effective_on"`
	Summary     string         `json:"summary"`
	Decision    *SnapDecision  `json:"decision"`
	Items       []SnapshotItem `json:"items"`
	Shops       []SnapshotShop `json:"shops"`
}

// SnapDecision is the decision behind a version, in the open data.
type SnapDecision struct {
	Ref   string `json:"ref"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// SnapshotItem is a register item in the open data.
type SnapshotItem struct {
	Slug            string `json:"slug"`
	Parent          string `json:"parent"`
	Kind            Kind   `json:"kind"`
	Name            string `json:"name"`
	Status          Status `json:"status"`
	StatusLabel     string `json:"status_label"`
	Conditions      string `json:"conditions"`
	ReviewOn        string `json:"review_on"`
	Reason          string `json:"reason"`
	ExplanationHTML string `json:"explanation_html"`
	// OFFCategory and GPCBrick are the item's classification codes ("" for
	// none), added in issue 18 (an additive field of the contract).
	OFFCategory string `json:"off_category"`
	GPCBrick    string `json:"gpc_brick"`
	// Keywords are the everyday words the lookup matches besides the name
	// (issue 20, additive: absent when the item has none).
	Keywords []string `json:"keywords,omitempty"`
}

// SnapshotShop is a point de vente as a register version records it.
type SnapshotShop struct {
	Slug       string     `json:"slug"`
	Name       string     `json:"name"`
	Kind       ShopKind   `json:"kind"`
	Commune    string     `json:"commune"`
	Status     ShopStatus `json:"status"`
	Categories []string   `json:"categories"`
}

// Label is the French status of an item in a snapshot.
func (s SnapshotItem) Label() string { return s.Status.Label() }

// dateString formats an optional date as YYYY-MM-DD ("" for none).
func dateString(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
