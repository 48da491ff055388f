package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/model"
)

// demoShops are the three points de vente of 2025, with the categories each carries.
// renewalIn is the days from the load to each shop's convention renewal: the
// demo exercises /gestion/renouvellements with one renewal due within the
// 60-day window, one within 15 days and one already past.
var demoShops = []struct {
	shop       catalog.Shop
	categories []string
	renewalIn  int
}{
	{catalog.Shop{Slug: "marche-du-lavoir", Name: "Marché du Lavoir", Kind: "marche", Commune: "Dieulefit", Address: "Place du Lavoir",
		Hours: "Le mercredi soir", Status: catalog.ShopConventionne,
		Description: "Marché de producteurs locaux lancé en septembre 2021 : légumes, pommes, fromage de chèvre, œufs, miel, agneau, pain, pêches, noix et confitures."},
		[]string{"fruits-et-legumes", "pain", "conserves", "viande", "oeufs", "fromages-et-produits-laitiers", "miel"}, 45},
	{catalog.Shop{Slug: "marche-de-pont-de-barret", Name: "Marché de Pont de Barret", Kind: "marche", Commune: "Pont-de-Barret",
		Status: catalog.ShopConventionne, Description: "Marché de producteurs, point de vente depuis juin 2022."},
		[]string{"fruits-et-legumes", "pain", "oeufs", "fromages-et-produits-laitiers", "miel"}, 10},
	{catalog.Shop{Slug: "fournil-des-cometes", Name: "Fournil des Comètes", Kind: "boulangerie", Commune: "Le Poët-Laval",
		Status: catalog.ShopConventionne, Description: "Boulangerie paysanne, point de vente depuis septembre 2022."},
		[]string{"farines-pates-cereales", "pain", "viennoiseries-et-biscuits"}, -12},
}

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
	// The register is the public model's (governance/model); the shops are
	// Dieulefit's own.
	change := model.RegisterChange()
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, s := range demoShops {
		shop := s.shop
		// A convention runs twelve months (application.defaultRenewalMonths):
		// each one was signed, or last renewed, a year before its renewal.
		renewal := today.AddDate(0, 0, s.renewalIn)
		signed := renewal.AddDate(-1, 0, 0)
		change.Shops = append(change.Shops, catalog.ShopChange{Slug: shop.Slug, Status: shop.Status, SignedOn: &signed,
			RenewalOn: &renewal, Categories: s.categories, New: &shop})
	}
	_, err = catalog.ApplyChange(ctx, tx, councilID, change, catalog.DecisionRef{
		Title: "Décisions du Conseil d'avril 2024 à avril 2025 (liste de mars 2025)", ActorName: "Démonstration"})
	if err != nil {
		return fmt.Errorf("demo register: %w", err)
	}
	return nil
}
