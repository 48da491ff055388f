package proposal

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/web"
)

// A proposal of kind "boussole" states the whole new boussole in its proposed
// outcome, one line per criterion, each group introduced by a line starting
// with "#":
//
//	# Pour les consommateurs
//	Accessibilité : prix
//	Accessibilité géographique
//	# Changement de système
//	Agriculture de proximité (local, saisons)
//
// Criteria may so be added, renamed, retired or regrouped. When the adopted
// proposal is applied, the council gets a new boussole version; scores given
// earlier stay attached to the version they were given against.

// BoussoleSpecGroup is one group of a proposed boussole.
type BoussoleSpecGroup struct {
	Name     string
	Criteria []string
}

// Limits of a proposed boussole.
const (
	maxSpecCriteria = 30
	maxSpecGroups   = 8
)

// ParseBoussoleSpec reads a proposed boussole; the error is a French message.
func ParseBoussoleSpec(text string) ([]BoussoleSpecGroup, error) {
	var groups []BoussoleSpecGroup
	n := 0
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if name, ok := strings.CutPrefix(line, "#"); ok {
			name = strings.TrimSpace(strings.TrimLeft(name, "#"))
			if name == "" {
				return nil, fmt.Errorf("ligne %d : donnez un nom au groupe après « # »", i+1)
			}
			if utf8.RuneCountInString(name) > 200 {
				return nil, fmt.Errorf("ligne %d : le nom du groupe dépasse 200 caractères", i+1)
			}
			groups = append(groups, BoussoleSpecGroup{Name: name})
			continue
		}
		if len(groups) == 0 {
			return nil, fmt.Errorf("ligne %d : commencez par un groupe, sur une ligne « # Nom du groupe »", i+1)
		}
		if utf8.RuneCountInString(line) > 200 {
			return nil, fmt.Errorf("ligne %d : le nom du critère dépasse 200 caractères", i+1)
		}
		groups[len(groups)-1].Criteria = append(groups[len(groups)-1].Criteria, line)
		n++
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("décrivez la nouvelle boussole : des lignes « # Groupe » suivies d'un critère par ligne")
	}
	for _, g := range groups {
		if len(g.Criteria) == 0 {
			return nil, fmt.Errorf("le groupe « %s » n'a aucun critère", g.Name)
		}
	}
	if len(groups) > maxSpecGroups || n > maxSpecCriteria {
		return nil, fmt.Errorf("une boussole compte au plus %d groupes et %d critères", maxSpecGroups, maxSpecCriteria)
	}
	return groups, nil
}

// BoussoleSpec is the proposed boussole of a proposal of kind "boussole" (nil
// for other kinds or an unreadable outcome).
func (p *Proposal) BoussoleSpec() []BoussoleSpecGroup {
	if p.Kind != ProposalBoussole {
		return nil
	}
	if p.BoussolePayload != nil {
		var groups []BoussoleSpecGroup
		for _, c := range boussole.OrderByPillar(p.BoussolePayload) {
			if n := len(groups); n == 0 || groups[n-1].Name != c.Pillar.Label() {
				groups = append(groups, BoussoleSpecGroup{Name: c.Pillar.Label()})
			}
			groups[len(groups)-1].Criteria = append(groups[len(groups)-1].Criteria, c.Name)
		}
		return groups
	}
	g, err := ParseBoussoleSpec(p.Outcome)
	if err != nil {
		return nil
	}
	return g
}

// applyBoussoleProposal creates the council's next boussole version from an
// adopted proposal of kind "boussole", in db (the transition's transaction).
func applyBoussoleProposal(ctx context.Context, db bun.IDB, p *Proposal, actor audit.Actor) error {
	if p.BoussolePayload != nil {
		_, err := boussole.Publish(ctx, db, p.CouncilID, p.BoussolePayload, boussole.Publication{
			AdoptedOn: time.Now().In(web.Paris()), Note: fmt.Sprintf("Adoptée par la proposition n°%d : %s", p.ID, p.Title),
			ActorID: actor.NullableID(), ActorName: actor.Name})
		return err
	}
	spec, err := ParseBoussoleSpec(p.Outcome)
	if err != nil {
		return apperr.New(apperr.Invalid, "La nouvelle boussole de cette proposition est illisible : %s.", err.Error())
	}
	var number int
	if err := db.NewSelect().Table("boussole_versions").ColumnExpr("coalesce(max(number), 0) + 1").
		Where("council_id = ?", p.CouncilID).Scan(ctx, &number); err != nil {
		return err
	}
	today := time.Now().In(web.Paris())
	v := &boussole.BoussoleVersion{CouncilID: p.CouncilID, Number: number,
		AdoptedOn: time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC),
		Note:      fmt.Sprintf("Adoptée par la proposition n°%d : %s", p.ID, p.Title)}
	if _, err := db.NewInsert().Model(v).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("new boussole version: %w", err)
	}
	pos := 0
	for gi, g := range spec {
		grp := &boussole.CriterionGroup{CouncilID: p.CouncilID, BoussoleVersionID: v.ID, Position: gi + 1, Name: g.Name}
		if _, err := db.NewInsert().Model(grp).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("new boussole group: %w", err)
		}
		for _, name := range g.Criteria {
			pos++
			c := &boussole.Criterion{CouncilID: p.CouncilID, BoussoleVersionID: v.ID, GroupID: grp.ID, Position: pos, Name: name,
				Pillar: boussole.PillarOfGroup(g.Name, gi+1)}
			if _, err := db.NewInsert().Model(c).Exec(ctx); err != nil {
				return fmt.Errorf("new boussole criterion: %w", err)
			}
		}
	}
	return nil
}

// BoussolesByVersion loads the council's boussole versions ids with their groups
// and criteria, in three queries whatever their number.
func BoussolesByVersion(ctx context.Context, db bun.IDB, councilID int64, ids []int64) ([]*boussole.Boussole, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var versions []boussole.BoussoleVersion
	if err := db.NewSelect().Model(&versions).Where("council_id = ? AND id IN (?)", councilID, bun.List(ids)).
		Order("number DESC").Scan(ctx); err != nil {
		return nil, err
	}
	var groups []boussole.CriterionGroup
	if err := db.NewSelect().Model(&groups).Where("council_id = ? AND boussole_version_id IN (?)", councilID, bun.List(ids)).
		Order("position").Scan(ctx); err != nil {
		return nil, err
	}
	var criteria []boussole.Criterion
	if err := db.NewSelect().Model(&criteria).Where("council_id = ? AND boussole_version_id IN (?)", councilID, bun.List(ids)).
		Order("position").Scan(ctx); err != nil {
		return nil, err
	}
	var out []*boussole.Boussole
	for _, v := range versions {
		b := &boussole.Boussole{Version: v}
		for _, g := range groups {
			if g.BoussoleVersionID != v.ID {
				continue
			}
			for _, c := range criteria {
				if c.GroupID == g.ID {
					g.Criteria = append(g.Criteria, c)
				}
			}
			b.Groups = append(b.Groups, g)
		}
		out = append(out, b)
	}
	return out, nil
}
