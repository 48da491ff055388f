package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/application"
	"cla/internal/markdown"
)

// demoCharterTitle and demoCharter are the Dieulefit charte d'engagement, v1.
const demoCharterTitle = "Charte d'engagement des points de vente de Notre caisse alim'"

const demoCharter = `En rejoignant les points de vente de **Notre caisse alim'**, je m'engage à :

1. **Privilégier l'approvisionnement local et biologique** : proposer en priorité des produits
   bio (ou en conversion) et locaux, et des produits transformés localement avec des matières
   premières locales, conformément aux critères de conventionnement du Conseil.
2. **Afficher la liste des produits conventionnés**, tenue à jour à partir du registre public
   (affiche du point de vente), pour que chacun·e sache ce que l'allocation permet d'acheter,
   même en l'absence de bénévole.
3. **Respecter le partage du ticket en deux paniers** à la caisse : les produits conventionnés,
   payés avec l'allocation, et le reste, payé autrement. Aucun produit non conventionné ne passe
   dans le premier panier.
4. **Accueillir tous les cotisant·es de la même façon**, sans prix ni conditions différentes selon
   le moyen de paiement.
5. **Informer le Conseil** de tout changement important : produits, fournisseurs, saisonnalité,
   horaires, appartenance à un réseau ou à une franchise.
6. **Participer à la vie du conventionnement** : répondre aux questions du Conseil, accueillir
   ses membres, et renouveler la convention à son échéance.

Le Conseil Local de l'Alimentation peut suspendre ou retirer le conventionnement d'un point de
vente qui ne respecte pas cette charte, après l'avoir entendu.`

// loadDemoApplications loads the Dieulefit charter v1 and one pending
// application. Keyed: loading twice duplicates nothing.
func loadDemoApplications(ctx context.Context, tx bun.Tx, councilID int64) error {
	var n int
	if err := tx.NewRaw("SELECT count(*) FROM charters WHERE council_id = ?", councilID).Scan(ctx, &n); err != nil {
		return err
	}
	var charterID int64
	if n == 0 {
		if err := tx.NewRaw(`INSERT INTO charters (council_id, version, title, body_md, body_html, author_name)
			VALUES (?, 1, ?, ?, ?, 'Conseil Local de l''Alimentation') RETURNING id`,
			councilID, demoCharterTitle, demoCharter, markdown.ToHTML(demoCharter)).Scan(ctx, &charterID); err != nil {
			return fmt.Errorf("demo charter: %w", err)
		}
	} else if err := tx.NewRaw("SELECT id FROM charters WHERE council_id = ? AND version = 1", councilID).Scan(ctx, &charterID); err != nil {
		return err
	}
	key := "demo-epicerie-la-bonne-graine"
	_, hash := application.NewApplicationToken()
	accepted := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
	a := &application.Application{CouncilID: councilID, TokenHash: hash, State: application.AppNew, ShopName: "Épicerie La Bonne Graine",
		Kind: "epicerie", SIRET: "73282932000074", Address: "12 rue du Bourg", Commune: "Dieulefit",
		ContactName: "Camille Martin", Email: "contact@labonnegraine.example", Phone: "04 75 00 00 00",
		Categories: []string{"fruits-et-legumes", "legumineuses", "farines-pates-cereales", "huiles", "conserves"},
		LocalShare: 50, OrganicShare: 75,
		Seasonality: "Fruits et légumes selon les saisons, de producteurs à moins de 30 km ; vrac toute l'année.",
		Message:     "Épicerie vrac ouverte en 2023, nous aimerions accueillir les cotisant·es de la caisse.",
		CharterID:   charterID, CharterVersion: 1, CharterAcceptedAt: accepted, DemoKey: &key, CreatedAt: accepted, UpdatedAt: accepted}
	_, err := tx.NewInsert().Model(a).On("CONFLICT (council_id, demo_key) DO NOTHING").Exec(ctx)
	return err
}
