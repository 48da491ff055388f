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

// keywords are the everyday words eaters type for each item of the model
// register, besides its name: the lookup /puis-je-acheter matches them on
// French stems without accents, so a singular form stands for its plural.
// A phrase ("viande de chasse") counts only when all its words are typed,
// and then beats an item that matches one word ("viande").
var keywords = map[string]string{
	"productions-vegetales": "végétal, produit végétal",
	"fruits-et-legumes": "fruit, légume, fruits et légumes, primeur, pomme, poire, abricot, cerise, prune, mirabelle, reine-claude, " +
		"raisin, fraise, framboise, mûre, myrtille, cassis, groseille, melon, pastèque, noix, noisette, amande, châtaigne, marron, " +
		"figue, kiwi, coing, rhubarbe, nectarine, brugnon, tomate, salade, laitue, mâche, roquette, carotte, pomme de terre, patate, " +
		"courgette, aubergine, poivron, piment, oignon, ail, échalote, poireau, chou, chou-fleur, brocoli, épinard, blette, courge, " +
		"potiron, citrouille, butternut, radis, betterave, navet, panais, concombre, cornichon, haricot vert, petit pois, fenouil, céleri, " +
		"champignon, asperge, artichaut, herbe aromatique, persil, basilic, ciboulette, thym, romarin, olive, légume de saison, soupe",
	"farines-pates-cereales": "farine, pâte, pâtes, spaghetti, macaroni, nouille, ravioli, semoule, couscous, blé, épeautre, petit épeautre, " +
		"seigle, orge, avoine, flocon d'avoine, sarrasin, millet, maïs, polenta, muesli, céréale, boulgour",
	"riz-de-camargue": "riz, riz complet, riz blanc, riz rond",
	"legumineuses":    "légume sec, lentille, pois chiche, haricot, haricot sec, haricot blanc, haricot rouge, fève, flageolet, soja, pois cassé, houmous",
	"huiles":          "huile, huile d'olive, huile de tournesol, huile de noix, huile de colza",
	"pain":            "pain, baguette, boule, pain complet, pain de campagne, pain au levain, fougasse, boulangerie",
	"viennoiseries-et-biscuits": "viennoiserie, croissant, pain au chocolat, chocolatine, brioche, pain aux raisins, biscuit, gâteau, sablé, " +
		"cookie, madeleine, pâtisserie, tarte, galette, crêpe, pain d'épices, nougat",
	"aperitifs-sales":          "apéritif salé, chips, cracker, biscuit apéritif, tapenade, gressin",
	"glaces":                   "glace, sorbet, crème glacée, esquimau",
	"conserves":                "conserve, bocal, confiture, compote, coulis, sauce tomate, ratatouille, légume en conserve, purée, gelée, pâte de fruit",
	"boissons":                 "boisson, à boire",
	"jus-de-fruit":             "jus, jus de fruit, jus de pomme, jus de raisin, jus de poire, nectar, pur jus",
	"sirops":                   "sirop, sirop de menthe, sirop de fruit",
	"tisanes":                  "tisane, infusion, verveine, tilleul, camomille, menthe",
	"alcool":                   "alcool, vin, vin rouge, vin blanc, rosé, bière, cidre, poiré, pastis, liqueur, spiritueux, whisky, rhum, vodka, champagne, crémant, clairette, eau-de-vie, apéritif alcoolisé",
	"kombucha":                 "kombucha, kéfir, boisson fermentée",
	"produits-origine-animale": "produit animal",
	"viande": "viande, boeuf, bœuf, veau, agneau, mouton, porc, cochon, poulet, volaille, dinde, pintade, canard, lapin, chevreau, cabri, " +
		"steak, steak haché, viande hachée, côtelette, rôti, escalope, gigot, bavette, entrecôte, colis de viande",
	"charcuteries":                  "charcuterie, jambon, saucisson, saucisse, pâté, terrine, rillettes, lard, lardon, merguez, chipolata, boudin, andouille, caillette",
	"oeufs":                         "oeuf, œuf, œuf de poule, œuf frais",
	"fromages-et-produits-laitiers": "lait, fromage, laitage, produit laitier, yaourt, yogourt, beurre, crème, crème fraîche, fromage blanc, faisselle, picodon, tomme, chèvre, fromage de chèvre, brebis, fromage de brebis, lait de vache, lait de chèvre, lait cru, caillé",
	"miel":                          "miel, miel de lavande, miel de montagne, pain de miel",
	"produits-de-la-peche": "poisson, fruit de mer, crustacé, coquillage, huître, moule, crevette, saumon, thon, sardine, maquereau, cabillaud, " +
		"colin, merlu, truite, sole, dorade, calamar, seiche, poulpe, crabe, homard, langoustine, anchois, surimi, poisson en conserve, " +
		"conserve de poisson, boîte de sardines, thon en boîte, poiscaille, pêche en mer",
	"produits-de-la-chasse": "chasse, gibier, viande de chasse, viande de gibier, sanglier, viande de sanglier, chevreuil, cerf, biche, lièvre, " +
		"faisan, perdrix, civet, pâté de sanglier, terrine de gibier",
	"produits-non-locaux":       "importé, produit importé, produit exotique",
	"the-cafe-chocolat":         "thé, café, chocolat, cacao, thé vert, expresso, chocolat chaud, tablette de chocolat",
	"fruits-exotiques":          "fruit exotique, banane, ananas, mangue, papaye, litchi, fruit de la passion, noix de coco, coco, datte, goyave",
	"agrumes-avocats-espagne":   "agrume, citron, citron vert, orange, jus d'orange, clémentine, mandarine, pamplemousse, avocat",
	"produits-non-alimentaires": "non alimentaire",
	"complements-alimentaires":  "complément alimentaire, propolis, spiruline, gelée royale, pollen, vitamine, gélule",
	"plantes-aromatiques-transformees": "plante médicinale, huile essentielle, cosmétique, savon, shampoing, bougie, hygiène, baume, parfum, " +
		"hydrolat, lessive, crème pour le visage",
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
			Status: d.status, Reason: d.reason, ExplanationMD: d.explanation, Keywords: keywords[d.slug]})
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
