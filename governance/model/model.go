// Package model holds the public model a new council may start from: the
// 12-criterion boussole of Dieulefit and its March 2025 register, as a
// register change to put to the council's first meeting. Public texts only: no
// people, no debates, no shops (they are Dieulefit's own), no demo markers.
// The demo (package demo) loads the same data for Dieulefit.
package model

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
)

// Group is one group of the model boussole with its criteria, in order.
type Group struct {
	Name     string
	Criteria []string
}

// Boussole is the model's 12 criteria in three groups (shared/DOMAIN.md).
var Boussole = []Group{
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

// WriteBoussole writes the model boussole as the council's version 1, adopted
// on adoptedOn. Every row is keyed (version number, positions): writing it
// twice changes nothing.
func WriteBoussole(ctx context.Context, tx bun.Tx, councilID int64, adoptedOn time.Time, note string) error {
	v := &boussole.BoussoleVersion{CouncilID: councilID, Number: 1, AdoptedOn: adoptedOn, Note: note}
	if _, err := tx.NewInsert().Model(v).
		On("CONFLICT (council_id, number) DO UPDATE SET number = EXCLUDED.number").Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("model boussole: %w", err)
	}
	pos := 0
	for gi, g := range Boussole {
		grp := &boussole.CriterionGroup{CouncilID: councilID, BoussoleVersionID: v.ID, Position: gi + 1, Name: g.Name}
		if _, err := tx.NewInsert().Model(grp).
			On("CONFLICT (boussole_version_id, position) DO UPDATE SET position = EXCLUDED.position").Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("model criterion group: %w", err)
		}
		for _, name := range g.Criteria {
			pos++
			c := &boussole.Criterion{CouncilID: councilID, BoussoleVersionID: v.ID, GroupID: grp.ID, Position: pos, Name: name,
				Pillar: boussole.PillarOfGroup(g.Name, gi+1)}
			if _, err := tx.NewInsert().Model(c).On("CONFLICT (boussole_version_id, position) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("model criterion: %w", err)
			}
		}
	}
	return nil
}

// item describes a register entry of the March 2025 list.
type item struct {
	slug, name  string
	status      catalog.Status
	reason      string
	explanation string
	children    []item
}

func conv(slug, name string, children ...item) item {
	return item{slug: slug, name: name, status: catalog.Conventionne, children: children}
}

func refused(slug, name, reason string) item {
	return item{slug: slug, name: name, status: catalog.NonConventionne, reason: reason}
}

func wanted(slug, name, explanation string) item {
	return item{slug: slug, name: name, status: catalog.DebatSouhaite, explanation: explanation}
}

const (
	reasonNotLocal    = "Produit non local : les critères de mars 2025 retiennent les productions locales."
	reasonNotFood     = "Produit non alimentaire, même issu d'une ferme locale : l'allocation est réservée à l'alimentation."
	explainNotTreated = "Le Conseil n'a pas encore eu le temps de traiter ce sujet : un **débat est souhaité**."
)

// register is the list of March 2025 (decisions of April 2024 – April 2025).
var register = []item{
	{slug: "productions-vegetales", name: "Productions végétales", status: catalog.Conventionne, children: []item{
		conv("fruits-et-legumes", "Fruits & légumes"),
		conv("farines-pates-cereales", "Farines, pâtes, céréales",
			wanted("riz-de-camargue", "Riz de Camargue", "Produit de base hors critères (non local) mais qui rendrait le panier plus complet. "+explainNotTreated)),
		conv("legumineuses", "Légumineuses"),
		conv("huiles", "Huiles"),
		conv("pain", "Pain"),
	}},
	{slug: "produits-transformes", name: "Produits transformés", status: catalog.Conventionne,
		explanation: "Transformés **localement**, avec des matières premières locales (tout ou en partie).",
		children: []item{
			conv("viennoiseries-et-biscuits", "Viennoiseries & biscuits"),
			conv("aperitifs-sales", "Apéritifs salés"),
			conv("glaces", "Glaces"),
			conv("conserves", "Conserves"),
		}},
	{slug: "boissons", name: "Boissons", status: catalog.Conventionne, children: []item{
		conv("jus-de-fruit", "Jus de fruit"),
		conv("sirops", "Sirops"),
		conv("tisanes", "Tisanes"),
		refused("alcool", "Alcool", "Non conventionné pour des raisons de santé publique, après débat au sein du Conseil."),
		wanted("kombucha", "Kombucha", explainNotTreated),
	}},
	{slug: "produits-origine-animale", name: "Produits d'origine animale", status: catalog.Conventionne, children: []item{
		conv("viande", "Viande"),
		conv("charcuteries", "Charcuteries"),
		conv("oeufs", "Œufs"),
		conv("fromages-et-produits-laitiers", "Fromages & produits laitiers"),
		conv("miel", "Miel"),
		wanted("produits-de-la-peche", "Produits de la pêche", "Produits non locaux. "+explainNotTreated),
		wanted("produits-de-la-chasse", "Produits de la chasse", explainNotTreated),
	}},
	{slug: "produits-non-locaux", name: "Produits non locaux", status: catalog.NonConventionne, reason: reasonNotLocal, children: []item{
		refused("the-cafe-chocolat", "Thé, café, chocolat", reasonNotLocal),
		refused("fruits-exotiques", "Fruits exotiques (hors UE)", reasonNotLocal),
		refused("agrumes-avocats-espagne", "Agrumes & avocats d'Espagne", reasonNotLocal),
	}},
	{slug: "produits-non-alimentaires", name: "Produits non alimentaires", status: catalog.NonConventionne, reason: reasonNotFood, children: []item{
		wanted("complements-alimentaires", "Compléments alimentaires (propolis, spiruline…)", "Produits fermiers de type compléments alimentaires. "+explainNotTreated),
		refused("plantes-aromatiques-transformees", "Transformation des plantes aromatiques et médicinales (huiles essentielles, cosmétiques, hygiène, bougies…)", reasonNotFood),
	}},
}

// RegisterEffectiveOn is the date the March 2025 list took effect in Dieulefit.
var RegisterEffectiveOn = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// RegisterSummary names the model register's change.
const RegisterSummary = "Liste de mars 2025"

// RegisterChange returns the March 2025 register (families, categories and
// products, no shops) as one register change, for catalog.ApplyChange. Each
// call returns a new value the caller may extend.
func RegisterChange() catalog.Change {
	change := catalog.Change{EffectiveOn: RegisterEffectiveOn, Summary: RegisterSummary}
	var add func(parent string, kind catalog.Kind, d item)
	add = func(parent string, kind catalog.Kind, d item) {
		change.Items = append(change.Items, catalog.ItemChange{Slug: d.slug, Name: d.name, Kind: kind, ParentSlug: parent,
			Status: d.status, Reason: d.reason, ExplanationMD: d.explanation})
		childKind := catalog.Category
		if kind != catalog.Family {
			childKind = catalog.Product
		}
		for _, c := range d.children {
			add(d.slug, childKind, c)
		}
	}
	for _, d := range register {
		add("", catalog.Family, d)
	}
	return change
}
