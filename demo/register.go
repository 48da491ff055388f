package demo

import (
	"context"
	"fmt"

	"cla/catalog"

	"time"

	"github.com/uptrace/bun"
)

// demoItem describes a register entry of the Dieulefit demo (March 2025 list).
type demoItem struct {
	slug, name  string
	status      catalog.Status
	reason      string
	explanation string
	children    []demoItem
}

func conv(slug, name string, children ...demoItem) demoItem {
	return demoItem{slug: slug, name: name, status: catalog.Conventionne, children: children}
}

func refused(slug, name, reason string) demoItem {
	return demoItem{slug: slug, name: name, status: catalog.NonConventionne, reason: reason}
}

func wanted(slug, name, explanation string) demoItem {
	return demoItem{slug: slug, name: name, status: catalog.DebatSouhaite, explanation: explanation}
}

const (
	reasonNotLocal    = "Produit non local : les critères de mars 2025 retiennent les productions locales."
	reasonNotFood     = "Produit non alimentaire, même issu d'une ferme locale : l'allocation est réservée à l'alimentation."
	explainNotTreated = "Le Conseil n'a pas encore eu le temps de traiter ce sujet : un **débat est souhaité**."
)

// demoRegister is the list of March 2025 (decisions of April 2024 – April 2025).
var demoRegister = []demoItem{
	{slug: "productions-vegetales", name: "Productions végétales", status: catalog.Conventionne, children: []demoItem{
		conv("fruits-et-legumes", "Fruits & légumes"),
		conv("farines-pates-cereales", "Farines, pâtes, céréales",
			wanted("riz-de-camargue", "Riz de Camargue", "Produit de base hors critères (non local) mais qui rendrait le panier plus complet. "+explainNotTreated)),
		conv("legumineuses", "Légumineuses"),
		conv("huiles", "Huiles"),
		conv("pain", "Pain"),
	}},
	{slug: "produits-transformes", name: "Produits transformés", status: catalog.Conventionne,
		explanation: "Transformés **localement**, avec des matières premières locales (tout ou en partie).",
		children: []demoItem{
			conv("viennoiseries-et-biscuits", "Viennoiseries & biscuits"),
			conv("aperitifs-sales", "Apéritifs salés"),
			conv("glaces", "Glaces"),
			conv("conserves", "Conserves"),
		}},
	{slug: "boissons", name: "Boissons", status: catalog.Conventionne, children: []demoItem{
		conv("jus-de-fruit", "Jus de fruit"),
		conv("sirops", "Sirops"),
		conv("tisanes", "Tisanes"),
		refused("alcool", "Alcool", "Non conventionné pour des raisons de santé publique, après débat au sein du Conseil."),
		wanted("kombucha", "Kombucha", explainNotTreated),
	}},
	{slug: "produits-origine-animale", name: "Produits d'origine animale", status: catalog.Conventionne, children: []demoItem{
		conv("viande", "Viande"),
		conv("charcuteries", "Charcuteries"),
		conv("oeufs", "Œufs"),
		conv("fromages-et-produits-laitiers", "Fromages & produits laitiers"),
		conv("miel", "Miel"),
		wanted("produits-de-la-peche", "Produits de la pêche", "Produits non locaux. "+explainNotTreated),
		wanted("produits-de-la-chasse", "Produits de la chasse", explainNotTreated),
	}},
	{slug: "produits-non-locaux", name: "Produits non locaux", status: catalog.NonConventionne, reason: reasonNotLocal, children: []demoItem{
		refused("the-cafe-chocolat", "Thé, café, chocolat", reasonNotLocal),
		refused("fruits-exotiques", "Fruits exotiques (hors UE)", reasonNotLocal),
		refused("agrumes-avocats-espagne", "Agrumes & avocats d'Espagne", reasonNotLocal),
	}},
	{slug: "produits-non-alimentaires", name: "Produits non alimentaires", status: catalog.NonConventionne, reason: reasonNotFood, children: []demoItem{
		wanted("complements-alimentaires", "Compléments alimentaires (propolis, spiruline…)", "Produits fermiers de type compléments alimentaires. "+explainNotTreated),
		refused("plantes-aromatiques-transformees", "Transformation des plantes aromatiques et médicinales (huiles essentielles, cosmétiques, hygiène, bougies…)", reasonNotFood),
	}},
}

// demoShops are the three points de vente of 2025, with the categories each carries.
var demoShops = []struct {
	shop       catalog.Shop
	categories []string
}{
	{catalog.Shop{Slug: "marche-du-lavoir", Name: "Marché du Lavoir", Kind: "marche", Commune: "Dieulefit", Address: "Place du Lavoir",
		Hours: "Le mercredi soir", Status: catalog.ShopConventionne,
		Description: "Marché de producteurs locaux lancé en septembre 2021 : légumes, pommes, fromage de chèvre, œufs, miel, agneau, pain, pêches, noix et confitures."},
		[]string{"fruits-et-legumes", "pain", "conserves", "viande", "oeufs", "fromages-et-produits-laitiers", "miel"}},
	{catalog.Shop{Slug: "marche-de-pont-de-barret", Name: "Marché de Pont de Barret", Kind: "marche", Commune: "Pont-de-Barret",
		Status: catalog.ShopConventionne, Description: "Marché de producteurs, point de vente depuis juin 2022."},
		[]string{"fruits-et-legumes", "pain", "oeufs", "fromages-et-produits-laitiers", "miel"}},
	{catalog.Shop{Slug: "fournil-des-cometes", Name: "Fournil des Comètes", Kind: "boulangerie", Commune: "Le Poët-Laval",
		Status: catalog.ShopConventionne, Description: "Boulangerie paysanne, point de vente depuis septembre 2022."},
		[]string{"farines-pates-cereales", "pain", "viennoiseries-et-biscuits"}},
}

// registerEffectiveOn is the date the demo's first register version takes effect.
var registerEffectiveOn = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// LoadRegister writes the Dieulefit register and points de vente for councilID, as
// register version 1 ("Liste de mars 2025") created through ApplyChange. It
// does nothing when the council already has a register version, so loading
// twice changes nothing. Pass a transaction to make it part of a larger load.
func LoadRegister(ctx context.Context, db bun.IDB, councilID int64) error {
	if tx, ok := db.(bun.Tx); ok {
		return loadRegister(ctx, tx, councilID)
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return loadRegister(ctx, tx, councilID) })
}

func loadRegister(ctx context.Context, tx bun.Tx, councilID int64) error {
	exists, err := tx.NewSelect().Table("register_versions").Where("council_id = ?", councilID).Exists(ctx)
	if err != nil || exists {
		return err
	}
	change := catalog.Change{EffectiveOn: registerEffectiveOn, Summary: "Liste de mars 2025"}
	var add func(parent string, kind catalog.Kind, d demoItem)
	add = func(parent string, kind catalog.Kind, d demoItem) {
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
	for _, d := range demoRegister {
		add("", catalog.Family, d)
	}
	signed := registerEffectiveOn
	for _, s := range demoShops {
		shop := s.shop
		change.Shops = append(change.Shops, catalog.ShopChange{Slug: shop.Slug, Status: shop.Status, SignedOn: &signed,
			Categories: s.categories, New: &shop})
	}
	_, err = catalog.ApplyChange(ctx, tx, councilID, change, catalog.DecisionRef{
		Title: "Décisions du Conseil d'avril 2024 à avril 2025 (liste de mars 2025)", ActorName: "Démonstration"})
	if err != nil {
		return fmt.Errorf("demo register: %w", err)
	}
	return nil
}
