// Package draw is the pure core of the council's sortition: the commitment
// document published at the closing of volunteering, and the deterministic
// stratified selection computed from that commitment and the public
// randomness entered afterwards. It touches no database and no network, so
// that `cla sortition verify` and anyone reading docs/sortition.md can run
// exactly the code the platform ran.
package draw

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"cla/internal/apperr"
)

// Algorithm names the selection algorithm written in the commitment; a draw
// is always re-run with the algorithm and version it committed to.
const Algorithm = "cla-stratified-feasible-uniform"

// AlgorithmVersion is the version of Algorithm this package implements.
// Any change that can change a selection must bump it.
const AlgorithmVersion = 1

// FormatVersion is the version of the commitment and draw.json documents.
const FormatVersion = 1

// PreferNotToSay is the stratum value of a volunteer who chose "je préfère
// ne pas répondre". It is an ordinary value: a quota may name it or not.
const PreferNotToSay = "nr"

// Source kinds of public randomness, fixed in the commitment before anyone
// can know the value.
const (
	SourceDrand   = "drand"   // a future round of a drand beacon
	SourceLottery = "lottery" // the result of a named public lottery on a named date
	SourceIndex   = "index"   // the closing values of a named index on a named date
)

// Category is a stratum the council balances on (age band, gender…), with
// the values a volunteer can answer, PreferNotToSay included.
type Category struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Quota bounds the number of seats held by volunteers whose answer to
// Category is Value: Min ≤ count ≤ Max.
type Quota struct {
	Category string `json:"category"`
	Value    string `json:"value"`
	Min      int    `json:"min"`
	Max      int    `json:"max"`
}

// Candidate is one volunteer as the commitment shows them: a pseudonymous
// id (no name, no email) and their answer to every category.
type Candidate struct {
	ID     string            `json:"id"`
	Strata map[string]string `json:"strata"`
}

// Source is the public randomness fixed in advance. For drand, Chain is the
// chain hash (hex) and Round the future round; for a lottery or an index,
// Description names the draw or the index, the date and which numbers are
// used, so that anyone can look the value up.
type Source struct {
	Kind        string `json:"kind"`
	Chain       string `json:"chain,omitempty"`
	Round       uint64 `json:"round,omitempty"`
	Description string `json:"description"`
}

// Commitment is the document whose SHA-256 the platform publishes at the
// closing of volunteering, before the randomness is known.
type Commitment struct {
	Format           int         `json:"format"`
	Council          string      `json:"council"`
	Draw             string      `json:"draw"`
	Algorithm        string      `json:"algorithm"`
	AlgorithmVersion int         `json:"algorithm_version"`
	Seats            int         `json:"seats"`
	Reserves         int         `json:"reserves"`
	Categories       []Category  `json:"categories"`
	Quotas           []Quota     `json:"quotas"`
	Candidates       []Candidate `json:"candidates"`
	Source           Source      `json:"source"`
}

// Error is a refusal with a French message for the person who prepared or
// entered something; Field names what is wrong for forms.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets the web layer map the refusal as any apperr.Invalid error and
// show its message.
func (e *Error) Unwrap() error { return apperr.New(apperr.Invalid, "%s", e.Message) }

func errf(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate checks the commitment is internally consistent: every candidate
// answers every category with a declared value, ids are unique, quotas name
// declared values and Min ≤ Max ≤ Seats, the source is complete, and there
// are at least as many volunteers as seats.
func (c *Commitment) Validate() error {
	if c.Format != FormatVersion {
		return errf("format", "Version de format inconnue : %d.", c.Format)
	}
	if c.Algorithm != Algorithm || c.AlgorithmVersion != AlgorithmVersion {
		return errf("algorithm", "Algorithme inconnu : %s version %d.", c.Algorithm, c.AlgorithmVersion)
	}
	if c.Seats < 1 {
		return errf("seats", "Il faut au moins un siège à tirer.")
	}
	if c.Reserves < 0 {
		return errf("reserves", "Le nombre de suppléant·es ne peut pas être négatif.")
	}
	values := map[string]map[string]bool{}
	for _, cat := range c.Categories {
		if cat.Name == "" {
			return errf("categories", "Une catégorie n’a pas de nom.")
		}
		if values[cat.Name] != nil {
			return errf("categories", "La catégorie « %s » apparaît deux fois.", cat.Name)
		}
		if len(cat.Values) == 0 {
			return errf("categories", "La catégorie « %s » n’a aucune valeur.", cat.Name)
		}
		values[cat.Name] = map[string]bool{}
		for _, v := range cat.Values {
			if v == "" || values[cat.Name][v] {
				return errf("categories", "La catégorie « %s » a une valeur vide ou en double.", cat.Name)
			}
			values[cat.Name][v] = true
		}
	}
	seen := map[[2]string]bool{}
	for _, q := range c.Quotas {
		if !values[q.Category][q.Value] {
			return errf("quotas", "Le quota « %s : %s » ne correspond à aucune valeur déclarée.", q.Category, q.Value)
		}
		if seen[[2]string{q.Category, q.Value}] {
			return errf("quotas", "Le quota « %s : %s » apparaît deux fois.", q.Category, q.Value)
		}
		seen[[2]string{q.Category, q.Value}] = true
		if q.Min < 0 || q.Max < q.Min || q.Max > c.Seats {
			return errf("quotas", "Le quota « %s : %s » doit vérifier 0 ≤ minimum ≤ maximum ≤ %d sièges.", q.Category, q.Value, c.Seats)
		}
	}
	ids := map[string]bool{}
	for _, p := range c.Candidates {
		if p.ID == "" || ids[p.ID] {
			return errf("candidates", "L’identifiant « %s » est vide ou apparaît deux fois.", p.ID)
		}
		ids[p.ID] = true
		if len(p.Strata) != len(c.Categories) {
			return errf("candidates", "La personne « %s » ne répond pas à toutes les catégories.", p.ID)
		}
		for cat, v := range p.Strata {
			if !values[cat][v] {
				return errf("candidates", "La personne « %s » a une réponse inconnue « %s : %s ».", p.ID, cat, v)
			}
		}
	}
	if len(c.Candidates) < c.Seats {
		return errf("seats", "Il y a %d volontaire%s pour %d sièges : pas assez pour tirer au sort.",
			len(c.Candidates), plural(len(c.Candidates)), c.Seats)
	}
	switch c.Source.Kind {
	case SourceDrand:
		if len(c.Source.Chain) != 64 || c.Source.Round == 0 {
			return errf("source", "Un tirage drand doit nommer la chaîne (empreinte hexadécimale) et un tour.")
		}
		if _, err := hex.DecodeString(c.Source.Chain); err != nil {
			return errf("source", "L’empreinte de la chaîne drand n’est pas hexadécimale.")
		}
	case SourceLottery, SourceIndex:
		if strings.TrimSpace(c.Source.Description) == "" {
			return errf("source", "Décrivez la source de hasard : quel tirage ou quel indice, à quelle date.")
		}
	default:
		return errf("source", "Source de hasard inconnue : « %s ».", c.Source.Kind)
	}
	return nil
}

func plural(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}

// Canonical returns the canonical JSON of the commitment: candidates sorted
// by id, categories, their values and quotas in the order given (the order
// is part of what is committed), no insignificant white space, map keys
// sorted (encoding/json sorts them). The same document always gives the
// same bytes, so its SHA-256 identifies it.
func (c *Commitment) Canonical() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cp := *c
	cp.Candidates = slices.Clone(c.Candidates)
	slices.SortFunc(cp.Candidates, func(a, b Candidate) int { return strings.Compare(a.ID, b.ID) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&cp); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Hash is the commitment: the SHA-256 of the canonical JSON.
func (c *Commitment) Hash() ([32]byte, error) {
	b, err := c.Canonical()
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}
