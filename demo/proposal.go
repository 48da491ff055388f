package demo

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/markdown"
)

// demoProposal is one open proposal of the demo, with the typical grade of each
// of the 12 criteria (members vary around it).
type demoProposal struct {
	key      string
	kind     proposal.ProposalKind
	item     string // slug of the target item (parent for a new item)
	itemName string
	status   catalog.Status
	title    string
	cond     string
	outcome  string
	md       string
	sources  string
	comment  string // the first member's comment on the first criterion
	profile  [12]boussole.Grade
}

var demoProposals = []demoProposal{
	{key: "riz-de-camargue", kind: proposal.ProposalItemStatus, item: "riz-de-camargue", status: catalog.SousConditions,
		title:   "Conventionner le riz de Camargue",
		cond:    "Riz biologique de Camargue uniquement, à réexaminer dans 12 mois.",
		outcome: "Le riz de Camargue bio est conventionné sous conditions : c'est un produit de base, même s'il n'est pas local.",
		md: "Le riz est un **produit de base** que beaucoup de foyers achètent chaque semaine. Il n'est pas produit dans la Drôme, " +
			"mais la Camargue est à moins de 200 km et des rizicultures y sont en bio.\n\n" +
			"- Pour : panier plus complet, prix accessible, produit qui se conserve.\n" +
			"- Contre : pas local, irrigation intensive, pas de lien avec les producteurs du territoire.",
		sources: "https://www.riz-camargue.com/\nCompte rendu du CLA de mars 2025 (débat souhaité)",
		comment: "Moins cher que les céréales locales, c'est un vrai plus pour les petits budgets.",
		profile: [12]boussole.Grade{boussole.TresBien, boussole.Bien, boussole.Bien, boussole.TresBien, boussole.Bien, boussole.AssezBien, boussole.Passable, boussole.AssezBien, boussole.Insuffisant, boussole.Passable, boussole.Insuffisant, boussole.Bien}},
	{key: "produits-de-la-peche", kind: proposal.ProposalItemStatus, item: "produits-de-la-peche", status: catalog.SousConditions,
		title:   "Conventionner les produits de la pêche (conserves Poiscaille)",
		cond:    "Conserves de poisson de pêche artisanale (Poiscaille), avec ingrédients complémentaires bio.",
		outcome: "Les conserves de poisson de pêche artisanale sont conventionnées sous conditions.",
		md: "Poiscaille travaille avec des **pêcheurs artisans** et publie l'origine de chaque lot. Les conserves élargissent " +
			"les régimes possibles, mais le poisson vient de loin et la ressource est fragile.",
		sources: "https://www.poiscaille.fr/\nFiche produit des conserves (document papier apporté en séance)",
		comment: "Les conserves restent chères au kilo.",
		profile: [12]boussole.Grade{boussole.Passable, boussole.AssezBien, boussole.TresBien, boussole.Excellent, boussole.TresBien, boussole.TresBien, boussole.Bien, boussole.AssezBien, boussole.ARejeter, boussole.AssezBien, boussole.Insuffisant, boussole.Bien}},
	{key: "cereales-locales", kind: proposal.ProposalItemNew, item: "farines-pates-cereales", itemName: "Petit épeautre de Haute-Provence", status: catalog.Conventionne,
		title:   "Inscrire le petit épeautre de Haute-Provence",
		outcome: "Le petit épeautre de Haute-Provence (IGP) est inscrit au registre comme conventionné, parmi les céréales.",
		md:      "Une céréale locale, cultivée sans irrigation, qui peut remplacer le riz dans bien des plats.",
		sources: "Syndicat du petit épeautre de Haute-Provence",
		profile: [12]boussole.Grade{boussole.AssezBien, boussole.TresBien, boussole.TresBien, boussole.Bien, boussole.Bien, boussole.TresBien, boussole.TresBien, boussole.Bien, boussole.Excellent, boussole.TresBien, boussole.Excellent, boussole.TresBien}},
}

// demoVariation shifts each demo member's grades around a proposal's profile,
// so that the demo shows both consensus and disagreement.
var demoVariation = []int{0, 1, -1, 0, 2, -2, 1, -1}

// loadDemoProposals loads the demo's open proposals and, when the council has
// members, their grades. Keyed by demo_key: loading twice duplicates nothing.
func loadDemoProposals(ctx context.Context, tx bun.Tx, councilID int64) error {
	var members []int64
	if err := tx.NewSelect().Table("memberships").Column("account_id").
		Where("council_id = ? AND disabled_at IS NULL", councilID).Order("account_id").Limit(8).Scan(ctx, &members); err != nil {
		return fmt.Errorf("demo proposals: members: %w", err)
	}
	b, err := boussole.CurrentBoussole(ctx, tx, councilID)
	if err != nil {
		return fmt.Errorf("demo proposals: boussole: %w", err)
	}
	var critIDs []int64
	for _, g := range b.Groups {
		for _, c := range g.Criteria {
			critIDs = append(critIDs, c.ID)
		}
	}
	for _, d := range demoProposals {
		key := d.key
		var itemID int64
		if err := tx.NewSelect().Table("register_items").Column("id").
			Where("council_id = ? AND slug = ?", councilID, d.item).Scan(ctx, &itemID); err != nil {
			return fmt.Errorf("demo proposal %s: item %s: %w", d.key, d.item, err)
		}
		p := &proposal.Proposal{CouncilID: councilID, Kind: d.kind, State: proposal.ProposalOpen, Title: d.title, TargetItemID: &itemID,
			ItemName: d.itemName, ProposedStatus: d.status, Conditions: d.cond, Outcome: d.outcome,
			RationaleMD: d.md, RationaleHTML: markdown.ToHTML(d.md), Sources: d.sources,
			AuthorName: "Commission produits", DemoKey: &key}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("demo proposal %s: %w", d.key, err)
		}
		res, err := tx.NewInsert().Model(p).ExcludeColumn("created_at", "updated_at", "state_changed_at").
			On("CONFLICT (council_id, demo_key) DO NOTHING").Returning("id").Exec(ctx)
		if err != nil {
			return fmt.Errorf("demo proposal %s: %w", d.key, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // already loaded
		}
		for _, ev := range []proposal.ProposalEvent{
			{CouncilID: councilID, ProposalID: p.ID, ToState: proposal.ProposalDraft, ActorName: p.AuthorName},
			{CouncilID: councilID, ProposalID: p.ID, FromState: proposal.ProposalDraft, ToState: proposal.ProposalOpen, ActorName: p.AuthorName},
		} {
			if _, err := tx.NewInsert().Model(&ev).ExcludeColumn("created_at").Exec(ctx); err != nil {
				return fmt.Errorf("demo proposal %s: event: %w", d.key, err)
			}
		}
		if len(critIDs) != len(d.profile) || len(members) == 0 {
			continue
		}
		var scores []proposal.Score
		for mi, account := range members {
			for ci, cid := range critIDs {
				g := int(d.profile[ci]) + demoVariation[(mi+ci)%len(demoVariation)]
				g = max(int(boussole.ARejeter), min(int(boussole.Excellent), g))
				if (mi+ci)%11 == 5 {
					g = int(boussole.NoOpinion)
				}
				s := proposal.Score{CouncilID: councilID, ProposalID: p.ID, AccountID: account, CriterionID: cid,
					BoussoleVersionID: b.Version.ID, Grade: boussole.Grade(g)}
				if mi == 0 && ci == 0 {
					s.Comment = d.comment
				}
				scores = append(scores, s)
			}
		}
		if _, err := tx.NewInsert().Model(&scores).ExcludeColumn("created_at", "updated_at").
			On("CONFLICT (proposal_id, account_id, criterion_id) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("demo proposal %s: scores: %w", d.key, err)
		}
	}
	return nil
}
