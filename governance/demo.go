package governance

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/council"
)

// DemoCouncilSlug is the slug of the demo council.
const DemoCouncilSlug = "dieulefit"

var demoBoussole = []struct {
	group    string
	criteria []string
}{
	{"Pour les consommateurs", []string{
		"Accessibilité : prix",
		"Accessibilité géographique",
		"Santé humaine (produits phyto, nutrition)",
		"Choix, diversité des régimes alimentaires",
		"Convivialité, plaisir, goût (couleurs, saveurs, odeurs)",
		"Confiance : traçabilité, information",
	}},
	{"Pour les producteurs et artisans", []string{
		"Conditions de travail",
		"Viabilité économique",
	}},
	{"Changement de système", []string{
		"Agriculture de proximité (local, saisons)",
		"Santé de l'environnement",
		"Territoire vivant, paysages, dynamisme rural",
		"Désirabilité de la SSA",
	}},
}

// demoDebates is the council's own backlog of open questions (March 2025).
var demoDebates = []Debate{
	{Slug: "pratiques-non-labellisees", Theme: "criteres", Title: "Évaluer les pratiques agricoles non labellisées bio",
		Question: "Comment évaluer les pratiques agricoles, et avec quels moyens, si l'on ne s'appuie pas sur les labels ?"},
	{Slug: "fermes-en-conversion", Theme: "criteres", Title: "Les fermes en conversion bio",
		Question: "Faut-il conventionner les productions des fermes en conversion vers l'agriculture biologique ?"},
	{Slug: "complements-alimentaires", Theme: "produits", Title: "Les compléments alimentaires fermiers",
		Question: "Faut-il conventionner les produits fermiers de type compléments alimentaires (spiruline, propolis…) ?"},
	{Slug: "produits-de-base-hors-criteres", Theme: "produits", Title: "Les produits de base hors critères",
		Question: "Des produits hors critères rendraient le panier plus attractif, complet et accessible : pâtes, tofu, maïs… Faut-il les conventionner ?"},
	{Slug: "riz-de-camargue", Theme: "produits", Title: "Le riz de Camargue",
		Question: "Le riz de Camargue n'est pas local mais c'est un produit de base : faut-il le conventionner ?"},
	{Slug: "plants-potagers", Theme: "produits", Title: "Les plants potagers",
		Question: "Les plants de légumes pour le potager peuvent-ils être payés avec l'allocation ?"},
	{Slug: "produits-de-la-peche", Theme: "produits", Title: "Les produits de la pêche",
		Question: "Faut-il conventionner le poisson, par exemple les conserves de poisson de Poiscaille (avec ingrédients complémentaires bio) ?"},
	{Slug: "produits-de-la-chasse", Theme: "produits", Title: "Les produits de la chasse",
		Question: "Faut-il conventionner le gibier et ses conserves ?"},
	{Slug: "producteurs-en-supermarche", Theme: "points_de_vente", Title: "Un producteur conventionné vendu en supermarché",
		Question: "Des producteurs conventionnés vendent aussi via un supermarché (Super U) : faut-il conventionner ce supermarché ?"},
	{Slug: "epiceries-franchisees", Theme: "points_de_vente", Title: "Les épiceries franchisées",
		Question: "Quid des magasins non indépendants, comme les épiceries franchisées de la grande distribution ?"},
	{Slug: "charte-engagement", Theme: "points_de_vente", Title: "Une charte d'engagement des points de vente",
		Question: "Faut-il affiner le processus d'adhésion avec une charte d'engagement des points de vente ?"},
	{Slug: "saisonnalite-approvisionnement", Theme: "points_de_vente", Title: "Saisonnalité et régularité de l'approvisionnement",
		Question: "Comment tenir compte des aléas des fournisseurs et de la saisonnalité dans le temps ?"},
	{Slug: "ethique-elevage", Theme: "societe", Title: "L'éthique de l'élevage et de la viande",
		Question: "Quelle éthique de l'élevage et de la consommation de viande ?"},
	{Slug: "recommandations-nutritionnelles", Theme: "societe", Title: "S'aligner sur les recommandations nutritionnelles ?",
		Question: "Viande, produits transformés, sucrés, salés, boissons sucrées, alcool : santé ou désirabilité et plaisir ?"},
	{Slug: "pourquoi-le-local", Theme: "societe", Title: "Pourquoi le local ?",
		Question: "Circuits courts, nombre d'intermédiaires : que veut dire « local » pour la caisse ?"},
	{Slug: "informer-les-mangeurs", Theme: "transmission", Title: "Informer les mangeurs",
		Question: "Comment informe-t-on le consommateur sur ce qu'il mange, même sans bénévole présent sur le point de vente ?"},
	{Slug: "documenter-le-conventionnement", Theme: "transmission", Title: "Documenter et transmettre le conventionnement",
		Question: "Comment documenter et transmettre notre processus de conventionnement ?"},
}

// demoLockKey serialises demo loading across instances starting together.
const demoLockKey = 0x636c615f64656d6f // "cla_demo"

// LoadDemo loads the Dieulefit council: boussole, register, points de vente and
// requested debates. Every row is keyed (slugs, positions), so loading twice
// duplicates nothing; it runs in one transaction.
func LoadDemo(ctx context.Context, db *bun.DB) (*council.Council, error) {
	co := new(council.Council)
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", demoLockKey); err != nil {
			return err
		}
		err := tx.NewRaw(`INSERT INTO councils (slug, name, caisse_name, territory, is_default)
			VALUES (?, ?, ?, ?, NOT EXISTS (SELECT 1 FROM councils WHERE is_default))
			ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
			RETURNING *`,
			DemoCouncilSlug, "Conseil Local de l'Alimentation de Dieulefit", "Notre caisse alim'",
			"Dieulefit et alentours (Drôme)").Scan(ctx, co)
		if err != nil {
			return fmt.Errorf("demo council: %w", err)
		}
		if err := catalog.LoadDemo(ctx, tx, co.ID); err != nil {
			return err
		}
		if err := loadDemoBoussole(ctx, tx, co.ID); err != nil {
			return err
		}
		for _, d := range demoDebates {
			d.CouncilID, d.State = co.ID, DebateRequested
			if _, err := tx.NewInsert().Model(&d).On("CONFLICT (council_id, slug) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("demo debate %s: %w", d.Slug, err)
			}
		}
		return nil
	})
	return co, err
}

func loadDemoBoussole(ctx context.Context, tx bun.Tx, councilID int64) error {
	v := &BoussoleVersion{CouncilID: councilID, Number: 1, AdoptedOn: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		Note: "La boussole du conventionnement, adoptée au lancement du Conseil."}
	if _, err := tx.NewInsert().Model(v).
		On("CONFLICT (council_id, number) DO UPDATE SET number = EXCLUDED.number").Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("demo boussole: %w", err)
	}
	pos := 0
	for gi, g := range demoBoussole {
		grp := &CriterionGroup{CouncilID: councilID, BoussoleVersionID: v.ID, Position: gi + 1, Name: g.group}
		if _, err := tx.NewInsert().Model(grp).
			On("CONFLICT (boussole_version_id, position) DO UPDATE SET position = EXCLUDED.position").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("demo criterion group: %w", err)
		}
		for _, name := range g.criteria {
			pos++
			c := &Criterion{CouncilID: councilID, BoussoleVersionID: v.ID, GroupID: grp.ID, Position: pos, Name: name}
			if _, err := tx.NewInsert().Model(c).On("CONFLICT (boussole_version_id, position) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("demo criterion: %w", err)
			}
		}
	}
	return nil
}
