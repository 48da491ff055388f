// Package exchange is the exchange format between caisses: one JSON document
// with a council's public identity, its boussole versions, its register
// versions and its decisions (public text only), served at GET /api/v1/export
// and read back by ImportInto to start a new council from it. The format is
// documented, with its JSON Schema, in docs/exchange.md.
package exchange

import (
	"cla/catalog"
	"cla/governance/boussole"
)

// Format and Version identify the document; a file of another version is
// refused.
const (
	Format  = "cla-exchange"
	Version = 1
)

// MaxBytes is the largest file ImportInto reads (10 MB).
const MaxBytes = 10 << 20

// Document is the exchange file. Lists are in a fixed order (versions by
// number, decisions by date then reference) so that the same council always
// gives the same bytes.
type Document struct {
	Format    string            `json:"format"`
	Version   int               `json:"version"`
	Council   Council           `json:"council"`
	Boussole  []BoussoleVersion `json:"boussole_versions"`
	Register  []RegisterVersion `json:"register_versions"`
	Decisions []Decision        `json:"decisions"`
}

// Council is the council's public identity.
type Council struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Caisse    string `json:"caisse"`
	Territory string `json:"territory"`
}

// BoussoleVersion is one version of the boussole with its criteria in order.
type BoussoleVersion struct {
	Number    int                      `json:"number"`
	AdoptedOn string                   `json:"adopted_on"` // YYYY-MM-DD
	Note      string                   `json:"note"`
	Criteria  []boussole.CriterionSpec `json:"criteria"`
}

// RegisterVersion is one version of the register: its items, parents first.
type RegisterVersion struct {
	Number      int             `json:"number"`
	EffectiveOn string          `json:"effective_on"` // YYYY-MM-DD
	Summary     string          `json:"summary"`
	Decision    *DecisionRef    `json:"decision"` // null for a version without decision (the initial list)
	Items       []RegisterEntry `json:"items"`
}

// DecisionRef names the decision behind a register version.
type DecisionRef struct {
	Ref   string `json:"ref"`
	Title string `json:"title"`
}

// RegisterEntry is a family, category or product with its status.
type RegisterEntry struct {
	Slug            string         `json:"slug"`
	Parent          string         `json:"parent"` // "" for a family
	Kind            catalog.Kind   `json:"kind"`
	Name            string         `json:"name"`
	Status          catalog.Status `json:"status"`
	Conditions      string         `json:"conditions"`
	ReviewOn        string         `json:"review_on"` // YYYY-MM-DD or ""
	Reason          string         `json:"reason"`
	ExplanationHTML string         `json:"explanation_html"` // sanitised HTML
}

// Decision is a council decision's public text: no people, no private notes.
type Decision struct {
	Ref             string `json:"ref"`
	Title           string `json:"title"`
	Outcome         string `json:"outcome"`    // adoptee, rejetee or ajournee
	DecidedOn       string `json:"decided_on"` // YYYY-MM-DD
	Motivation      string `json:"motivation"` // markdown
	RegisterVersion *int   `json:"register_version"`
}
