package boussole

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/council"
)

// Pillar is one of the boussole's three pillars; a criterion belongs to one.
type Pillar string

// The pillars, in the order the boussole shows them.
const (
	PillarConsumers Pillar = "consommateurs"
	PillarProducers Pillar = "producteurs"
	PillarSystem    Pillar = "systeme"
)

// Pillars lists the pillars in display order.
var Pillars = []Pillar{PillarConsumers, PillarProducers, PillarSystem}

// Valid reports whether p is one of Pillars.
func (p Pillar) Valid() bool {
	return p == PillarConsumers || p == PillarProducers || p == PillarSystem
}

// Label is the pillar's French name, also the name of its criterion group.
func (p Pillar) Label() string {
	switch p {
	case PillarConsumers:
		return "Pour les consommateurs"
	case PillarProducers:
		return "Pour les producteurs et artisans"
	case PillarSystem:
		return "Changement de système"
	}
	return "Sans pilier"
}

// CriterionSpec is one criterion of a boussole to publish, as a proposal of
// kind boussole or an exchange file states it. Its JSON is stored in
// proposals.boussole_payload and written in exchange files.
type CriterionSpec struct {
	Name        string `json:"name"`
	Question    string `json:"question"`
	Description string `json:"description"`
	Pillar      Pillar `json:"pillar"`
}

// Limits of a boussole.
const (
	MaxCriteria       = 30
	maxNameRunes      = 200
	maxQuestionRunes  = 500
	maxDescriptionRun = 2000
)

// ValidateSpec checks a list of criteria: each problem is a French message
// keyed "criteria.N.field" (N from 1), or "criteria" for the list itself.
func ValidateSpec(spec []CriterionSpec) apperr.Fields {
	f := apperr.Fields{}
	if len(spec) == 0 {
		f.Add("criteria", "La boussole doit compter au moins un critère.")
	}
	if len(spec) > MaxCriteria {
		f.Add("criteria", fmt.Sprintf("Une boussole compte au plus %d critères.", MaxCriteria))
	}
	seen := map[string]int{}
	for i, c := range spec {
		key := "criteria." + strconv.Itoa(i+1) + "."
		name := strings.TrimSpace(c.Name)
		switch n := utf8.RuneCountInString(name); {
		case n == 0:
			f.Add(key+"name", "Donnez un nom au critère.")
		case n > maxNameRunes:
			f.Add(key+"name", fmt.Sprintf("Le nom du critère dépasse %d caractères.", maxNameRunes))
		}
		if j, ok := seen[strings.ToLower(name)]; ok && name != "" {
			f.Add(key+"name", fmt.Sprintf("Ce nom est déjà celui du critère %d.", j))
		} else {
			seen[strings.ToLower(name)] = i + 1
		}
		if utf8.RuneCountInString(c.Question) > maxQuestionRunes {
			f.Add(key+"question", fmt.Sprintf("La question dépasse %d caractères.", maxQuestionRunes))
		}
		if utf8.RuneCountInString(c.Description) > maxDescriptionRun {
			f.Add(key+"description", fmt.Sprintf("La description dépasse %d caractères.", maxDescriptionRun))
		}
		if !c.Pillar.Valid() {
			f.Add(key+"pillar", "Choisissez le pilier du critère : consommateurs, producteurs ou changement de système.")
		}
	}
	return f
}

// OrderByPillar returns spec with its criteria grouped by pillar (in Pillars
// order), keeping their order inside a pillar: the numbering the boussole
// shows.
func OrderByPillar(spec []CriterionSpec) []CriterionSpec {
	out := make([]CriterionSpec, 0, len(spec))
	for _, p := range Pillars {
		for _, c := range spec {
			if c.Pillar == p {
				out = append(out, c)
			}
		}
	}
	return out
}

// SpecOf returns the criteria of b as a spec, in their order.
func SpecOf(b *Boussole) []CriterionSpec {
	var out []CriterionSpec
	for _, g := range b.Groups {
		for _, c := range g.Criteria {
			p := c.Pillar
			if p == "" {
				p = PillarOfGroup(g.Name, g.Position)
			}
			out = append(out, CriterionSpec{Name: c.Name, Question: c.Question, Description: c.Description, Pillar: p})
		}
	}
	return out
}

// Publication says how a new version came to be.
type Publication struct {
	Number       int       // 0: the next number
	AdoptedOn    time.Time // the date of the decision
	Note         string    // French, shown in the history
	ImportedFrom string    // the council an exchange file came from ("" when adopted here)
	ImportedOn   time.Time // when ImportedFrom is set
	ActorID      *int64    // for the audit trail
	ActorName    string
}

// Publish writes a new boussole version for the council with the criteria of
// spec (grouped by pillar, one group per pillar), in db — the transaction of
// the decision or import behind it. Versions only go forward: a Number at or
// below the latest one is refused. Scores given earlier stay attached to the
// version they were given under.
func Publish(ctx context.Context, db bun.IDB, councilID int64, spec []CriterionSpec, pub Publication) (*BoussoleVersion, error) {
	if f := ValidateSpec(spec); len(f) > 0 {
		return nil, f.Err()
	}
	var latest int
	// Lock the council's row so that two decisions never take the same number.
	if err := council.Lock(ctx, db, councilID); err != nil {
		return nil, fmt.Errorf("lock council: %w", err)
	}
	if err := db.NewSelect().Table("boussole_versions").ColumnExpr("coalesce(max(number), 0)").
		Where("council_id = ?", councilID).Scan(ctx, &latest); err != nil {
		return nil, err
	}
	number := pub.Number
	if number == 0 {
		number = latest + 1
	}
	if number <= latest {
		return nil, apperr.New(apperr.Conflict, "La boussole en est déjà à la version %d : une version %d ne peut plus être publiée.", latest, number)
	}
	adopted := pub.AdoptedOn
	v := &BoussoleVersion{CouncilID: councilID, Number: number,
		AdoptedOn: time.Date(adopted.Year(), adopted.Month(), adopted.Day(), 0, 0, 0, 0, time.UTC), Note: pub.Note,
		ImportedFrom: pub.ImportedFrom}
	if pub.ImportedFrom != "" {
		on := time.Date(pub.ImportedOn.Year(), pub.ImportedOn.Month(), pub.ImportedOn.Day(), 0, 0, 0, 0, time.UTC)
		v.ImportedOn = &on
	}
	if _, err := db.NewInsert().Model(v).Returning("id").Exec(ctx); err != nil {
		return nil, fmt.Errorf("new boussole version: %w", err)
	}
	pos, gpos := 0, 0
	for _, p := range Pillars {
		var grp *CriterionGroup
		for _, c := range spec {
			if c.Pillar != p {
				continue
			}
			if grp == nil {
				gpos++
				grp = &CriterionGroup{CouncilID: councilID, BoussoleVersionID: v.ID, Position: gpos, Name: p.Label()}
				if _, err := db.NewInsert().Model(grp).Returning("id").Exec(ctx); err != nil {
					return nil, fmt.Errorf("new boussole group: %w", err)
				}
			}
			pos++
			cr := &Criterion{CouncilID: councilID, BoussoleVersionID: v.ID, GroupID: grp.ID, Position: pos,
				Name: strings.TrimSpace(c.Name), Question: strings.TrimSpace(c.Question), Description: strings.TrimSpace(c.Description), Pillar: p}
			if _, err := db.NewInsert().Model(cr).Exec(ctx); err != nil {
				return nil, fmt.Errorf("new boussole criterion: %w", err)
			}
		}
	}
	summary := fmt.Sprintf("Boussole version %d publiée (%d critères)", number, pos)
	if pub.ImportedFrom != "" {
		summary = fmt.Sprintf("Boussole version %d importée de %s", number, pub.ImportedFrom)
	}
	if err := audit.Record(ctx, db, pub.actor().Entry(&councilID, "boussole.version", "boussole_version", strconv.Itoa(number), summary), nil, spec); err != nil {
		return nil, err
	}
	return v, nil
}

// Versions lists the council's boussole versions, newest first.
func Versions(ctx context.Context, db bun.IDB, councilID int64) ([]BoussoleVersion, error) {
	var vs []BoussoleVersion
	err := db.NewSelect().Model(&vs).Where("council_id = ?", councilID).Order("number DESC").Scan(ctx)
	return vs, err
}

// errVersionNotFound answers a version number the council does not have.
var errVersionNotFound = apperr.New(apperr.NotFound, "Cette version de la boussole n'existe pas.")

// VersionsByNumber loads the council's boussole versions numbered numbers with
// their groups and criteria (three queries), in the order of numbers; an
// unknown number is apperr.NotFound.
func VersionsByNumber(ctx context.Context, db bun.IDB, councilID int64, numbers ...int) ([]*Boussole, error) {
	var vs []BoussoleVersion
	if err := db.NewSelect().Model(&vs).Where("council_id = ? AND number IN (?)", councilID, bun.List(numbers)).Scan(ctx); err != nil {
		return nil, err
	}
	byNumber := map[int]*Boussole{}
	var ids []int64
	for _, v := range vs {
		byNumber[v.Number] = &Boussole{Version: v}
		ids = append(ids, v.ID)
	}
	out := make([]*Boussole, 0, len(numbers))
	for _, n := range numbers {
		b := byNumber[n]
		if b == nil {
			return nil, errVersionNotFound
		}
		out = append(out, b)
	}
	var groups []CriterionGroup
	if err := db.NewSelect().Model(&groups).Where("council_id = ? AND boussole_version_id IN (?)", councilID, bun.List(ids)).
		Order("position").Scan(ctx); err != nil {
		return nil, err
	}
	var criteria []Criterion
	if err := db.NewSelect().Model(&criteria).Where("council_id = ? AND boussole_version_id IN (?)", councilID, bun.List(ids)).
		Order("position").Scan(ctx); err != nil {
		return nil, err
	}
	for _, b := range byNumber {
		for _, g := range groups {
			if g.BoussoleVersionID != b.Version.ID {
				continue
			}
			for _, c := range criteria {
				if c.GroupID == g.ID {
					g.Criteria = append(g.Criteria, c)
				}
			}
			b.Groups = append(b.Groups, g)
		}
	}
	return out, nil
}

// PillarOfGroup guesses the pillar of a criterion group written before
// pillars existed, from its name, else from its position (the three groups
// of the boussole come in Pillars order). Migration 0016 did the same by name.
func PillarOfGroup(name string, position int) Pillar {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "consommat") || strings.Contains(n, "mangeu"):
		return PillarConsumers
	case strings.Contains(n, "producteur") || strings.Contains(n, "artisan"):
		return PillarProducers
	case strings.Contains(n, "syst"):
		return PillarSystem
	}
	return Pillars[min(max(position, 1), len(Pillars))-1]
}

// actor is who publishes, for the audit trail (the system when nobody is named).
func (p Publication) actor() audit.Actor {
	a := audit.Actor{Name: p.ActorName}
	if p.ActorID != nil {
		a.AccountID = *p.ActorID
	}
	return a
}
