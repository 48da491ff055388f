package demo

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"cla/governance/debate"
	"cla/internal/markdown"
)

// demoDebates is the council's own backlog of open questions (March 2025).
var demoDebates = []debate.Debate{
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

// demoArgument is an example argument of an opened demo debate.
type demoArgument struct {
	stance    debate.Stance
	criterion string // exact criterion name, "" for none
	body      string
	replyTo   int // 1-based index of the argument answered, 0 for none
}

// demoOpened are the two requested debates the demo opens, with their context,
// synthesis and example arguments.
var demoOpened = []struct {
	slug, context, synthesis string
	arguments                []demoArgument
}{
	{slug: "produits-de-la-peche",
		context: "Le poisson et les fruits de mer ne sont pas encore traités (liste de mars 2025). " +
			"La question vient des **conserves de poisson de Poiscaille**, pêche artisanale française, avec des ingrédients complémentaires bio.",
		synthesis: "Deux lectures s'opposent : le poisson n'est pas **local** (la Drôme n'a pas de côte), mais il complète le panier " +
			"et peut venir de la pêche artisanale. Piste évoquée : conventionner les seules conserves, à l'essai.",
		arguments: []demoArgument{
			{debate.StanceAgainst, "Agriculture de proximité (local, saisons)", "La Drôme n'a pas de façade maritime : le poisson vient forcément de loin, ce qui va contre le critère « local » adopté en mars 2025.", 0},
			{debate.StanceFor, "Santé humaine (produits phyto, nutrition)", "Le poisson apporte des protéines et des oméga-3 ; l'exclure rend le panier moins complet pour les familles qui ne mangent pas de viande.", 0},
			{debate.StanceAgainst, "Santé de l'environnement", "La surpêche menace de nombreux stocks : sans label fiable, nous ne saurions pas vérifier les espèces et les zones de pêche.", 0},
			{debate.StanceQuestion, "Confiance : traçabilité, information", "Les conserves indiquent-elles le bateau, la zone et la date de pêche ? Sans cela, comment informer les mangeurs ?", 0},
			{debate.StanceNuance, "", "On pourrait conventionner les seules conserves de pêche artisanale, à l'essai pendant 12 mois, comme pour les fermes en conversion.", 1},
		}},
	{slug: "riz-de-camargue",
		context: "Le riz de Camargue n'est pas local, mais c'est un produit de base que beaucoup de foyers achètent chaque semaine. " +
			"Il existe une IGP *Riz de Camargue* et du riz de Camargue bio.",
		synthesis: "Le riz de Camargue est le riz français le plus proche : le Conseil pèse l'**accessibilité** d'un produit de base contre le critère **local**. " +
			"L'exigence du bio revient dans plusieurs arguments.",
		arguments: []demoArgument{
			{debate.StanceFor, "Accessibilité : prix", "Le riz est un produit de base bon marché : le conventionner rend le panier plus complet et plus accessible, et le riz de Camargue est le riz français le plus proche de Dieulefit.", 0},
			{debate.StanceAgainst, "Agriculture de proximité (local, saisons)", "La Camargue est hors de notre territoire : conventionner ce riz ouvrirait la porte à d'autres produits non locaux.", 0},
			{debate.StanceAgainst, "Santé de l'environnement", "Les rizières de Camargue demandent beaucoup d'eau et de traitements quand elles ne sont pas en bio.", 0},
			{debate.StanceFor, "Choix, diversité des régimes alimentaires", "Pour les personnes qui évitent le gluten, le riz remplace les pâtes et le pain.", 0},
			{debate.StanceNuance, "Santé de l'environnement", "Le riz de Camargue **bio** existe : n'accepter que celui-là répondrait à l'objection environnementale.", 3},
		}},
}

// demoAuthors are the display names of demo arguments when the database has no
// demo member accounts.
var demoAuthors = []string{"Claire (membre du CLA)", "Mehdi (membre du CLA)", "Josiane (membre du CLA)", "Paul (membre du CLA)"}

// loadDemoDebates inserts the requested debates, then opens the two demo
// debates with their arguments. Idempotent: a debate that already has demo
// arguments is left alone.
func loadDemoDebates(ctx context.Context, tx bun.Tx, councilID int64) error {
	for _, d := range demoDebates {
		d.CouncilID, d.State, d.IsDemo = councilID, debate.DebateRequested, true
		if _, err := tx.NewInsert().Model(&d).Column("council_id", "slug", "theme", "title", "question", "state", "is_demo").
			On("CONFLICT (council_id, slug) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("demo debate %s: %w", d.Slug, err)
		}
	}
	// A demo debate is linked to the register item and the demo proposal that
	// share its slug (riz-de-camargue, produits-de-la-peche…).
	if _, err := tx.NewRaw(`INSERT INTO debate_register_items (council_id, debate_id, register_item_id)
		SELECT d.council_id, d.id, r.id FROM debates d JOIN register_items r ON r.council_id = d.council_id AND r.slug = d.slug
		WHERE d.council_id = ? AND d.is_demo ON CONFLICT DO NOTHING`, councilID).Exec(ctx); err != nil {
		return fmt.Errorf("demo debate links: %w", err)
	}
	if _, err := tx.NewRaw(`INSERT INTO debate_proposals (council_id, debate_id, proposal_id)
		SELECT d.council_id, d.id, p.id FROM debates d JOIN proposals p ON p.council_id = d.council_id AND p.demo_key = d.slug
		WHERE d.council_id = ? AND d.is_demo AND p.state <> 'brouillon' ON CONFLICT DO NOTHING`, councilID).Exec(ctx); err != nil {
		return fmt.Errorf("demo debate links: %w", err)
	}
	var crit []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := tx.NewRaw(`SELECT id, name FROM criteria WHERE council_id = ? AND boussole_version_id =
		(SELECT id FROM boussole_versions WHERE council_id = ? ORDER BY number DESC LIMIT 1)`, councilID, councilID).Scan(ctx, &crit); err != nil {
		return err
	}
	criteria := map[string]int64{}
	for _, c := range crit {
		criteria[c.Name] = c.ID
	}
	// Demo members, when the accounts side loaded some, sign the arguments.
	var members []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := tx.NewRaw(`SELECT a.id, a.name FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.council_id = ? AND m.disabled_at IS NULL ORDER BY m.role = 'member' DESC, a.id LIMIT 4`, councilID).Scan(ctx, &members); err != nil {
		return err
	}
	for _, o := range demoOpened {
		var d debate.Debate
		if err := tx.NewSelect().Model(&d).Column("id", "state").
			Where("council_id = ? AND slug = ?", councilID, o.slug).Scan(ctx); err != nil {
			return fmt.Errorf("demo debate %s: %w", o.slug, err)
		}
		done, err := tx.NewSelect().Table("arguments").Where("debate_id = ? AND is_demo", d.ID).Exists(ctx)
		if err != nil {
			return err
		}
		if done || d.State != debate.DebateRequested {
			continue
		}
		ctxMD, synMD := o.context, o.synthesis
		if _, err := tx.NewRaw(`UPDATE debates SET state = 'ouvert', opened_at = now(), updated_at = now(),
			context_md = ?, context_html = ?, synthesis_md = ?, synthesis_html = ?, synthesis_by_name = ?, synthesis_at = now()
			WHERE council_id = ? AND id = ?`, ctxMD, markdown.ToHTML(ctxMD), synMD, markdown.ToHTML(synMD),
			"Équipe d'animation", councilID, d.ID).Exec(ctx); err != nil {
			return err
		}
		ids := make([]int64, len(o.arguments))
		for i, da := range o.arguments {
			a := &debate.Argument{CouncilID: councilID, DebateID: d.ID, Stance: da.stance, BodyMD: da.body, IsDemo: true,
				AuthorName: demoAuthors[i%len(demoAuthors)]}
			if len(members) > 0 {
				m := members[i%len(members)]
				a.AuthorID, a.AuthorName = &m.ID, m.Name
			}
			if da.criterion != "" {
				id, ok := criteria[da.criterion]
				if !ok {
					return fmt.Errorf("demo argument: unknown criterion %q", da.criterion)
				}
				a.CriterionID = &id
			}
			if da.replyTo > 0 {
				a.ParentID = &ids[da.replyTo-1]
			}
			a.BodyHTML = markdown.ToHTML(a.BodyMD)
			a.BodyText = markdown.ToText(a.BodyHTML)
			if _, err := tx.NewInsert().Model(a).
				Column("council_id", "debate_id", "parent_id", "stance", "criterion_id", "body_md", "body_html", "body_text", "author_id", "author_name", "is_demo").
				Returning("id").Exec(ctx); err != nil {
				return fmt.Errorf("demo argument: %w", err)
			}
			ids[i] = a.ID
		}
	}
	return nil
}
