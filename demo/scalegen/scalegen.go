// Package scalegen generates a network of councils of a chosen scale for
// load tests and the benchmark (Generate, SizesFor), the same for the same
// seed. Only cmd imports it.
package scalegen

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/demo"
	"cla/internal/auth"
	"cla/internal/database"
)

// Password is the password of every account the scale generator creates
// (membre-<council>-<n>@scale.example.org). Generated data is for load tests only.
const Password = "mot de passe de charge 2026"

// Sizes is what Generate creates. Scale 1 is the whole French network:
// 50 councils, 2,000 register items, 500 shops, 5,000 proposals, 1,000,000
// grades, 200,000 arguments and 20,000 votes (with their ballots).
type Sizes struct {
	Councils  int // councils (caisses)
	Members   int // members per council
	Items     int // register items per council
	Shops     int // shops per council
	Proposals int // proposals per council
	Grades    int // boussole grades per council
	Arguments int // arguments per council
	Debates   int // debates per council (about 500 arguments each)
	Votes     int // votes per council (10 per meeting)
}

// SizesFor returns the sizes for scale s (s may be fractional, e.g. 0.01).
func SizesFor(s float64) Sizes {
	c := max(1, int(math.Round(50*s)))
	per := func(total float64, min int) int { return max(min, int(math.Round(total*s))/c) }
	z := Sizes{Councils: c, Members: 40, Items: per(2000, 10), Shops: per(500, 2), Proposals: per(5000, 5),
		Grades: per(1_000_000, 12), Arguments: per(200_000, 10), Votes: per(20_000, 2)}
	z.Debates = max(1, (z.Arguments+499)/500)
	return z
}

// Total is the network-wide count of n per council.
func (z Sizes) Total(n int) int { return n * z.Councils }

// Generate fills db with a generated network of the given scale, the same
// for the same seed (in an empty database: ids are deterministic too). It runs
// in one transaction and writes its progress to progress. The first generated
// council becomes the default one if there is none.
func Generate(ctx context.Context, db *bun.DB, scale float64, seed int64, progress io.Writer) (Sizes, error) {
	z := SizesFor(scale)
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	step := 0
	const steps = 9
	report := func(what string, rows int64, t0 time.Time) {
		step++
		fmt.Fprintf(progress, "[%d/%d] %-28s %9d rows  %6.1fs  (total %.1fs)\n", step, steps, what, rows, time.Since(t0).Seconds(), time.Since(start).Seconds())
	}
	// One argon2id hash for every generated account: hashing 2,000 passwords
	// would take a minute.
	hash, err := auth.HashPassword(ctx, Password)
	if err != nil {
		return z, err
	}
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		g := &scaleGen{tx: tx, z: z, seed: seed}
		t0 := time.Now()
		ids, err := g.councils(ctx, hash)
		if err != nil {
			return err
		}
		report("councils, boussoles, members", int64(len(ids)*(1+z.Members)), t0)
		t0 = time.Now()
		rng := rand.New(rand.NewPCG(uint64(seed), 0x636c61))
		for i, id := range ids {
			if _, err := catalog.ApplyChange(ctx, tx, id, scaleRegister(rng, z, i), catalog.DecisionRef{Title: "Liste initiale (données générées)"}); err != nil {
				return fmt.Errorf("register of council %d: %w", i, err)
			}
		}
		report("register items and shops", int64(z.Total(z.Items+z.Shops)), t0)
		if err := g.temps(ctx, ids); err != nil {
			return err
		}
		for _, st := range []struct {
			name string
			fn   func(context.Context) (int64, error)
		}{
			{"proposals", g.proposals}, {"grades", g.grades}, {"debates", g.debates}, {"arguments", g.arguments},
			{"meetings, agendas, votes", g.votes}, {"ballots", g.ballots}, {"tallies and decisions", g.close},
		} {
			t0 = time.Now()
			n, err := st.fn(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", st.name, err)
			}
			report(st.name, n, t0)
		}
		return nil
	})
	if err == nil {
		// Fresh statistics: the planner otherwise sees empty tables.
		_, err = db.ExecContext(ctx, "ANALYZE")
	}
	return z, err
}

type scaleGen struct {
	tx   bun.Tx
	z    Sizes
	seed int64
}

// exec runs q (bun placeholders) and returns the rows affected.
func (g *scaleGen) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := g.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// h is a deterministic pseudo-random non-negative integer for an SQL expression
// and a salt.
func (g *scaleGen) h(expr string, salt int) string {
	return fmt.Sprintf("abs(hashint8extended((%s)::bigint * 7919 + %d, %d))", expr, salt, g.seed)
}

// pick is an SQL expression choosing one of words by h(expr, salt).
func (g *scaleGen) pick(expr string, salt int, words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + sqlQuote([]string{w})[0] + "'" // bun reads ? as a placeholder
	}
	return fmt.Sprintf("(ARRAY[%s])[1 + %s %% %d]", strings.Join(q, ","), g.h(expr, salt), len(words))
}

var scaleTowns = []string{"Dieulefit", "Montpellier", "Cadenet", "Nantes", "Bordeaux", "Toulouse", "Lyon", "Paris", "Grenoble",
	"Marseille", "Rennes", "Lille", "Strasbourg", "Besançon", "Clermont-Ferrand", "Poitiers", "Limoges", "Nancy", "Dijon", "Tours"}

func (g *scaleGen) councils(ctx context.Context, hash string) ([]int64, error) {
	var hasDefault, generated bool
	if err := g.tx.NewRaw("SELECT EXISTS (SELECT 1 FROM councils WHERE is_default), EXISTS (SELECT 1 FROM councils WHERE slug = 'cla-001')").
		Scan(ctx, &hasDefault, &generated); err != nil {
		return nil, err
	}
	if generated {
		return nil, fmt.Errorf("this database already holds a generated network (council cla-001): use an empty database")
	}
	ids := make([]int64, g.z.Councils)
	for i := range ids {
		town := scaleTowns[i%len(scaleTowns)]
		slug := fmt.Sprintf("cla-%03d", i+1)
		name := fmt.Sprintf("Conseil Local de l'Alimentation de %s (%d)", town, i+1)
		if err := g.tx.NewRaw(`INSERT INTO councils (slug, name, caisse_name, territory, is_default, created_at)
			VALUES (?, ?, ?, ?, ?, '2024-01-01T00:00:00Z') RETURNING id`,
			slug, name, "Caisse alimentaire "+town, town+" et alentours", i == 0 && !hasDefault).Scan(ctx, &ids[i]); err != nil {
			return nil, fmt.Errorf("council %s: %w", slug, err)
		}
		if _, err := g.tx.ExecContext(ctx, "INSERT INTO council_hosts (host, council_id) VALUES (?, ?)", slug+".scale.test", ids[i]); err != nil {
			return nil, err
		}
		if err := demo.LoadBoussole(ctx, g.tx, ids[i]); err != nil {
			return nil, err
		}
		if _, err := g.tx.ExecContext(ctx, `INSERT INTO accounts (email, name, password_hash, created_at, updated_at)
			SELECT format('membre-%s-%s@scale.example.org', ?::text, k), `+g.pick("k", 1, "Camille", "Dominique", "Claude", "Alix", "Sacha", "Louison", "Maxime", "Noa", "Eden", "Charlie")+` || ' ' || `+
			g.pick("k", 2, "Martin", "Bernard", "Roux", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Chevalier", "Morel", "Garnier")+`,
			?, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'
			FROM generate_series(1, ?) k ORDER BY k`, slug, hash, g.z.Members); err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		if _, err := g.tx.ExecContext(ctx, `INSERT INTO memberships (council_id, account_id, role, created_at, updated_at)
			SELECT ?, id, CASE WHEN email LIKE 'membre-%-1@%' THEN 'admin' WHEN email ~ '-[23]@' THEN 'facilitator' ELSE 'member' END,
				'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'
			FROM accounts WHERE email LIKE ? ORDER BY id`, ids[i], "membre-"+slug+"-%"); err != nil {
			return nil, fmt.Errorf("memberships: %w", err)
		}
	}
	return ids, nil
}

// scaleRegister is council i's register: families, categories, products (every
// status) and shops carrying some categories.
func scaleRegister(rng *rand.Rand, z Sizes, i int) catalog.Change {
	families := []string{"Fruits et légumes", "Céréales et légumineuses", "Produits laitiers", "Viandes et œufs", "Boulangerie",
		"Épicerie", "Boissons", "Produits transformés", "Miel et confitures", "Huiles et condiments"}
	nf := min(len(families), max(2, z.Items/20))
	ch := catalog.Change{EffectiveOn: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Summary: "Liste initiale du registre (données générées)"}
	statuses := []catalog.Status{catalog.Conventionne, catalog.Conventionne, catalog.Conventionne, catalog.SousConditions, catalog.NonConventionne, catalog.DebatSouhaite}
	add := func(slug, name, parent string, kind catalog.Kind) {
		s := statuses[rng.IntN(len(statuses))]
		if kind == catalog.Family {
			s = catalog.Conventionne
		}
		ic := catalog.ItemChange{Slug: slug, Name: name, ParentSlug: parent, Kind: kind, Status: s}
		switch s {
		case catalog.SousConditions:
			ic.Conditions = "Uniquement les produits de producteurs locaux, à réexaminer dans 12 mois."
		case catalog.NonConventionne:
			ic.Reason = "Non conventionné après débat : produit non local."
		}
		ch.Items = append(ch.Items, ic)
	}
	var cats []string
	for f := 0; f < nf; f++ {
		fam := fmt.Sprintf("famille-%d", f+1)
		add(fam, families[f], "", catalog.Family)
		for c := 0; c < 3; c++ {
			cat := fmt.Sprintf("categorie-%d-%d", f+1, c+1)
			cats = append(cats, cat)
			add(cat, fmt.Sprintf("%s, catégorie %d", families[f], c+1), fam, catalog.Category)
		}
	}
	adjectives := []string{"fermier", "bio", "de saison", "local", "en vrac", "artisanal", "de montagne", "du marché"}
	nouns := []string{"Pommes", "Lentilles", "Fromage de chèvre", "Pain au levain", "Farine de blé", "Miel de lavande", "Jus de raisin",
		"Œufs", "Huile d'olive", "Pâtes", "Confiture d'abricot", "Yaourt", "Pois chiches", "Tisane", "Saucisson", "Courges"}
	for p := 0; len(ch.Items) < z.Items; p++ {
		add(fmt.Sprintf("produit-%d", p+1), fmt.Sprintf("%s %s n°%d", nouns[rng.IntN(len(nouns))], adjectives[rng.IntN(len(adjectives))], p+1),
			cats[rng.IntN(len(cats))], catalog.Product)
	}
	kinds := []catalog.ShopKind{"marche", "epicerie", "producteur", "boulangerie", "supermarche", "magasin_franchise"}
	shopStatuses := []catalog.ShopStatus{catalog.ShopConventionne, catalog.ShopConventionne, catalog.ShopConventionne, catalog.ShopCandidat, catalog.ShopSuspendu}
	town := scaleTowns[i%len(scaleTowns)]
	for s := 0; s < z.Shops; s++ {
		carried := map[string]bool{}
		var list []string
		for k := 0; k < 4; k++ {
			c := cats[rng.IntN(len(cats))]
			if !carried[c] {
				carried[c] = true
				list = append(list, c)
			}
		}
		ch.Shops = append(ch.Shops, catalog.ShopChange{Slug: fmt.Sprintf("point-de-vente-%d", s+1), Status: shopStatuses[rng.IntN(len(shopStatuses))],
			Categories: list, New: &catalog.Shop{Name: fmt.Sprintf("Point de vente n°%d de %s", s+1, town), Kind: kinds[rng.IntN(len(kinds))],
				Commune: fmt.Sprintf("%s %d", town, s%7+1), Address: fmt.Sprintf("%d place du Marché", s+1), Hours: "Du mardi au samedi, 9 h – 19 h"}})
	}
	return ch
}

// temps creates the session's lookup tables: generated councils, members and
// criteria numbered per council.
func (g *scaleGen) temps(ctx context.Context, ids []int64) error {
	for _, q := range []string{
		`CREATE TEMP TABLE sg_councils ON COMMIT DROP AS SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS k FROM councils WHERE id = ANY(?)`,
		`CREATE TEMP TABLE sg_members ON COMMIT DROP AS SELECT m.council_id, m.account_id, (row_number() OVER (PARTITION BY m.council_id ORDER BY m.account_id) - 1)::int AS k
			FROM memberships m JOIN sg_councils c ON c.id = m.council_id`,
		`CREATE TEMP TABLE sg_criteria ON COMMIT DROP AS SELECT cr.council_id, cr.id, cr.boussole_version_id, cr.position
			FROM criteria cr JOIN sg_councils c ON c.id = cr.council_id`,
		`CREATE TEMP TABLE sg_products ON COMMIT DROP AS SELECT i.council_id, i.id, (row_number() OVER (PARTITION BY i.council_id ORDER BY i.id) - 1)::int AS k, i.name
			FROM register_items i JOIN sg_councils c ON c.id = i.council_id WHERE i.kind = 'product'`,
	} {
		var args []any
		if strings.Contains(q, "ANY(?)") {
			args = append(args, pgInt8Array(ids))
		}
		if _, err := g.tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	_, err := g.tx.ExecContext(ctx, "CREATE INDEX ON sg_members (council_id, k); CREATE INDEX ON sg_products (council_id, k)")
	return err
}

func pgInt8Array(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return "{" + strings.Join(s, ",") + "}"
}

func (g *scaleGen) proposals(ctx context.Context) (int64, error) {
	z := g.z
	key := "c.k * 100000 + i"
	state := g.pick(key, 10, "ouverte", "ouverte", "ouverte", "ouverte", "adoptee", "adoptee", "rejetee", "rejetee", "appliquee", "appliquee",
		"inscrite", "retiree", "brouillon", "ajournee")
	status := g.pick(key, 11, "conventionne", "conventionne", "sous_conditions", "non_conventionne", "debat_souhaite")
	n, err := g.exec(ctx, `
		INSERT INTO proposals (council_id, kind, state, title, target_item_id, proposed_status, conditions, reason, outcome,
			rationale_md, rationale_html, sources, author_id, author_name, created_at, updated_at, state_changed_at)
		SELECT x.council_id, 'item_status', x.state, left('Statut de « ' || p.name || ' »', 200), p.id, x.status,
			CASE WHEN x.status = 'sous_conditions' THEN 'Uniquement auprès de producteurs locaux, revue dans 12 mois.' ELSE '' END,
			CASE WHEN x.status = 'non_conventionne' THEN 'Produit non local, après débat.' ELSE '' END,
			'Passer « ' || p.name || ' » au statut proposé.',
			x.rationale, '<p>' || x.rationale || '</p>', '', a.account_id, acc.name, x.ts, x.ts, x.ts
		FROM (
			SELECT c.id AS council_id, i AS k, `+state+` AS state, `+status+` AS status,
				timestamptz '2024-02-01T10:00:00Z' + (i * interval '7 hours') AS ts,
				`+g.pick(key, 12, "Les producteurs du territoire le demandent depuis longtemps.", "Le débat de la dernière séance a montré un large accord.",
		"Une alternative locale existe désormais.", "La boussole donne des scores contrastés : il faut trancher.")+` || ' ' ||
				`+g.pick(key, 13, "Le prix reste accessible.", "La traçabilité est bonne.", "Les conditions de travail sont connues.", "L'impact environnemental est discuté.")+` AS rationale
			FROM sg_councils c, generate_series(0, ? - 1) i
		) x
		JOIN sg_products p ON p.council_id = x.council_id AND p.k = x.k % (SELECT count(*) FROM sg_products q WHERE q.council_id = x.council_id)
		JOIN sg_members a ON a.council_id = x.council_id AND a.k = x.k % ?
		JOIN accounts acc ON acc.id = a.account_id
		ORDER BY x.council_id, x.k`, z.Proposals, z.Members)
	if err != nil {
		return n, err
	}
	if _, err := g.tx.ExecContext(ctx, `CREATE TEMP TABLE sg_proposals ON COMMIT DROP AS
		SELECT p.council_id, p.id, (row_number() OVER (PARTITION BY p.council_id ORDER BY p.id) - 1)::int AS k, p.title, p.state, p.author_id, p.author_name, p.created_at
		FROM proposals p JOIN sg_councils c ON c.id = p.council_id;
		CREATE INDEX ON sg_proposals (council_id, k)`); err != nil {
		return n, err
	}
	_, err = g.tx.ExecContext(ctx, `INSERT INTO proposal_events (council_id, proposal_id, from_state, to_state, actor_id, actor_name, note, created_at)
		SELECT council_id, id, '', state, author_id, author_name, 'Données générées', created_at FROM sg_proposals ORDER BY id`)
	return n, err
}

func (g *scaleGen) grades(ctx context.Context) (int64, error) {
	z := g.z
	scorers := min(z.Members, (z.Grades+z.Proposals*12-1)/(z.Proposals*12))
	return g.exec(ctx, `
		INSERT INTO proposal_scores (council_id, proposal_id, account_id, criterion_id, boussole_version_id, grade, comment, created_at, updated_at)
		SELECT p.council_id, p.id, m.account_id, cr.id, cr.boussole_version_id,
			((`+g.h("p.id * 1000 + s * 16 + cr.position", 20)+` % 8 + `+g.h("p.id * 1000 + s * 16 + cr.position", 21)+` % 8) / 2)::smallint, '',
			p.created_at + s * interval '1 hour', p.created_at + s * interval '1 hour'
		FROM sg_proposals p
		CROSS JOIN generate_series(0, ? - 1) s
		JOIN sg_members m ON m.council_id = p.council_id AND m.k = (p.k + s) % ?
		JOIN sg_criteria cr ON cr.council_id = p.council_id
		WHERE p.k * ? * 12 + s * 12 + cr.position - 1 < ?
		ORDER BY p.id, s, cr.position`, scorers, z.Members, scorers, z.Grades)
}

var scaleDebateTitles = []string{"Faut-il conventionner les compléments alimentaires ?", "Les produits non locaux : thé, café, chocolat",
	"Le riz de Camargue dans le panier", "Poissons et fruits de mer", "Le gibier de chasse", "Éthique de l'élevage et viande",
	"Santé ou plaisir : les recommandations nutritionnelles", "Les supermarchés qui vendent des produits conventionnés",
	"Évaluer les pratiques sans label", "Les fermes en conversion bio", "Transmettre la richesse des débats", "Saisonnalité et régularité de l'offre"}

func (g *scaleGen) debates(ctx context.Context) (int64, error) {
	n, err := g.exec(ctx, `
		INSERT INTO debates (council_id, slug, theme, title, question, state, context_md, context_html, opened_at, created_at, updated_at)
		SELECT c.id, 'debat-' || (j + 1), `+g.pick("c.k * 1000 + j", 30, "criteres", "produits", "points_de_vente", "societe", "transmission")+`,
			(ARRAY['`+strings.Join(sqlQuote(scaleDebateTitles), "','")+`'])[1 + j % `+fmt.Sprint(len(scaleDebateTitles))+`] || CASE WHEN j >= `+fmt.Sprint(len(scaleDebateTitles))+` THEN ' (' || (j + 1) || ')' ELSE '' END,
			'Quelle position le conseil doit-il prendre ' || chr(63), 'ouvert',
			'Contexte : les membres ont demandé ce débat lors d''une séance.', '<p>Contexte : les membres ont demandé ce débat lors d''une séance.</p>',
			timestamptz '2024-03-01T18:00:00Z' + j * interval '9 days', timestamptz '2024-03-01T18:00:00Z' + j * interval '9 days', timestamptz '2024-03-01T18:00:00Z' + j * interval '9 days'
		FROM sg_councils c, generate_series(0, ? - 1) j ORDER BY c.id, j`, g.z.Debates)
	if err != nil {
		return n, err
	}
	_, err = g.tx.ExecContext(ctx, `CREATE TEMP TABLE sg_debates ON COMMIT DROP AS
		SELECT d.council_id, d.id, (row_number() OVER (PARTITION BY d.council_id ORDER BY d.id) - 1)::int AS k, d.opened_at
		FROM debates d JOIN sg_councils c ON c.id = d.council_id WHERE d.slug ~ '^debat-[0-9]+$';
		CREATE INDEX ON sg_debates (council_id, k)`)
	return n, err
}

func sqlQuote(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(s, "'", "''"), "?", "' || chr(63) || '")
	}
	return out
}

func (g *scaleGen) arguments(ctx context.Context) (int64, error) {
	z := g.z
	key := "c.k * 1000000 + a"
	body := g.pick(key, 40, "Je pense que", "À mon avis,", "D'après les producteurs rencontrés,", "Selon l'étude citée en séance,", "Pour les familles du quartier,") + ` || ' ' || ` +
		g.pick(key, 41, "le prix est trop élevé pour la plupart des foyers", "la production locale ne suffit pas toute l'année",
			"les conditions de travail sont exemplaires", "le transport pèse lourd sur le bilan carbone", "la qualité nutritionnelle est excellente",
			"la traçabilité laisse à désirer", "ce produit complète utilement le panier", "les petits producteurs en dépendent") + ` || '. ' || ` +
		g.pick(key, 42, "Il faudrait consulter les producteurs.", "Un essai de douze mois me semble raisonnable.", "Je propose de reporter la décision.",
			"C'est un point de vigilance pour la boussole.", "Les cotisant·es le demandent souvent.", "Voir le compte rendu de la séance précédente.")
	n, err := g.exec(ctx, `
		INSERT INTO arguments (council_id, debate_id, stance, criterion_id, body_md, body_html, body_text, author_id, author_name, created_at, updated_at)
		SELECT x.council_id, d.id, x.stance, cr.id, x.body, '<p>' || x.body || '</p>', x.body, m.account_id, acc.name,
			d.opened_at + x.a * interval '17 minutes', d.opened_at + x.a * interval '17 minutes'
		FROM (SELECT c.id AS council_id, a, `+g.pick(key, 43, "pour", "pour", "contre", "contre", "nuance", "question", "fait_source")+` AS stance,
				`+body+` AS body, `+g.h(key, 44)+` % 36 AS crit
			FROM sg_councils c, generate_series(0, ? - 1) a) x
		JOIN sg_debates d ON d.council_id = x.council_id AND d.k = x.a * ? / ?
		JOIN sg_members m ON m.council_id = x.council_id AND m.k = x.a % ?
		JOIN accounts acc ON acc.id = m.account_id
		LEFT JOIN sg_criteria cr ON cr.council_id = x.council_id AND cr.position = x.crit + 1
		ORDER BY x.council_id, x.a`, z.Arguments, z.Debates, z.Arguments, z.Members)
	if err != nil {
		return n, err
	}
	// One argument in five replies to the one before it (a top-level one).
	_, err = g.tx.ExecContext(ctx, `UPDATE arguments a SET parent_id = p.id
		FROM arguments p, sg_debates d
		WHERE d.id = a.debate_id AND p.debate_id = a.debate_id AND p.id = a.id - 1 AND a.id % 5 = 0 AND p.parent_id IS NULL`)
	return n, err
}

// votes creates, per council, meetings of 10 agenda items each with one vote;
// every meeting is closed except the last, which is in progress with its votes
// open and every member present.
func (g *scaleGen) votes(ctx context.Context) (int64, error) {
	z := g.z
	meetings := (z.Votes + 9) / 10
	if _, err := g.exec(ctx, `
		INSERT INTO meetings (council_id, title, starts_at, ends_at, place, state, opened_at, closed_at, created_at, updated_at)
		SELECT c.id, 'Séance n°' || (j + 1), s, s + interval '3 hours', 'Salle des fêtes',
			CASE WHEN j = ? - 1 THEN 'en_cours' ELSE 'close' END, s,
			CASE WHEN j = ? - 1 THEN NULL ELSE s + interval '3 hours' END, s - interval '20 days', s
		FROM sg_councils c, generate_series(0, ? - 1) j,
			LATERAL (SELECT timestamptz '2023-01-12T18:00:00Z' + j * interval '2 weeks' AS s) t
		ORDER BY c.id, j`, meetings, meetings, meetings); err != nil {
		return 0, err
	}
	if _, err := g.tx.ExecContext(ctx, `CREATE TEMP TABLE sg_meetings ON COMMIT DROP AS
		SELECT m.council_id, m.id, (row_number() OVER (PARTITION BY m.council_id ORDER BY m.id) - 1)::int AS k, m.starts_at, m.state
		FROM meetings m JOIN sg_councils c ON c.id = m.council_id WHERE m.title ~ '^Séance n°[0-9]+$';
		CREATE INDEX ON sg_meetings (council_id, k)`); err != nil {
		return 0, err
	}
	if _, err := g.exec(ctx, `
		INSERT INTO attendances (council_id, meeting_id, member_id, status, recorded_at)
		SELECT mt.council_id, mt.id, m.account_id,
			CASE WHEN mt.state = 'en_cours' OR (m.k + mt.k) % 5 <> 0 THEN 'present' ELSE 'excuse' END, mt.starts_at
		FROM sg_meetings mt JOIN sg_members m ON m.council_id = mt.council_id ORDER BY mt.id, m.k`); err != nil {
		return 0, err
	}
	if _, err := g.exec(ctx, `
		INSERT INTO agenda_items (council_id, meeting_id, position, kind, proposal_id, title, minutes, created_at)
		SELECT x.council_id, mt.id, x.v % 10 + 1, 'proposal', p.id, p.title, 15, mt.starts_at - interval '20 days'
		FROM (SELECT c.id AS council_id, v FROM sg_councils c, generate_series(0, ? - 1) v) x
		JOIN sg_meetings mt ON mt.council_id = x.council_id AND mt.k = x.v / 10
		JOIN sg_proposals p ON p.council_id = x.council_id AND p.k = x.v % ?
		ORDER BY x.council_id, x.v`, z.Votes, z.Proposals); err != nil {
		return 0, err
	}
	// The proposals on the agenda of the meeting in progress are being voted on.
	if _, err := g.exec(ctx, `
		UPDATE proposals p SET state = 'en_vote' FROM agenda_items ai JOIN sg_meetings mt ON mt.id = ai.meeting_id
		WHERE mt.state = 'en_cours' AND ai.proposal_id = p.id`); err != nil {
		return 0, err
	}
	return g.exec(ctx, `
		INSERT INTO votes (council_id, meeting_id, agenda_item_id, question, method, mode, secrecy, threshold, state, opened_at, created_at)
		SELECT ai.council_id, ai.meeting_id, ai.id, left('Adopter : ' || ai.title, 300), 'majorite', 'en_ligne', 'nominatif', 'exprimes', 'ouvert',
			mt.starts_at + ai.position * interval '15 minutes', mt.starts_at + ai.position * interval '15 minutes'
		FROM agenda_items ai JOIN sg_meetings mt ON mt.id = ai.meeting_id ORDER BY ai.id`)
}

// ballots: every present member votes in the closed meetings; a quarter of
// them already did in the meeting in progress.
func (g *scaleGen) ballots(ctx context.Context) (int64, error) {
	return g.exec(ctx, `
		INSERT INTO ballots (council_id, vote_id, member_id, choice, cast_at)
		SELECT v.council_id, v.id, at.member_id, `+g.pick("v.id * 100 + m.k", 50, "pour", "pour", "pour", "pour", "contre", "contre", "abstention")+`,
			v.opened_at + m.k * interval '10 seconds'
		FROM votes v
		JOIN sg_meetings mt ON mt.id = v.meeting_id
		JOIN attendances at ON at.meeting_id = v.meeting_id AND at.status = 'present'
		JOIN sg_members m ON m.council_id = v.council_id AND m.account_id = at.member_id
		WHERE mt.state = 'close' OR m.k % 4 = 0
		ORDER BY v.id, m.k`)
}

// close tallies and closes the votes of closed meetings and records their
// decisions.
func (g *scaleGen) close(ctx context.Context) (int64, error) {
	n, err := g.exec(ctx, `
		UPDATE votes v SET state = 'clos', closed_at = v.opened_at + interval '10 minutes', ballot_count = t.n,
			outcome = CASE WHEN t.pour > t.contre THEN 'adopte' ELSE 'rejete' END,
			tally = jsonb_build_object('pour', t.pour, 'contre', t.contre, 'abstention', t.abst, 'consentement', 0, 'objections', 0,
				'presents', t.present, 'bulletins', t.n)
		FROM (SELECT b.vote_id, count(*) AS n, count(*) FILTER (WHERE choice = 'pour') AS pour,
				count(*) FILTER (WHERE choice = 'contre') AS contre, count(*) FILTER (WHERE choice = 'abstention') AS abst,
				(SELECT count(*) FROM attendances a WHERE a.meeting_id = min(b.meeting_id) AND a.status = 'present') AS present
			FROM (SELECT b.vote_id, b.choice, v.meeting_id FROM ballots b JOIN votes v ON v.id = b.vote_id
				JOIN sg_meetings mt ON mt.id = v.meeting_id WHERE mt.state = 'close') b
			GROUP BY b.vote_id) t
		WHERE v.id = t.vote_id`)
	if err != nil {
		return n, err
	}
	_, err = g.tx.ExecContext(ctx, `
		INSERT INTO decisions (council_id, meeting_id, vote_id, agenda_item_id, proposal_id, outcome, title, motivation_md, motivation_html, decided_at, actor_name)
		SELECT v.council_id, v.meeting_id, v.id, v.agenda_item_id, ai.proposal_id,
			CASE WHEN v.outcome = 'adopte' THEN 'adoptee' ELSE 'rejetee' END, left(ai.title, 300),
			'Vote à la majorité des exprimés : ' || (v.tally->>'pour') || ' pour, ' || (v.tally->>'contre') || ' contre.',
			'<p>Vote à la majorité des exprimés : ' || (v.tally->>'pour') || ' pour, ' || (v.tally->>'contre') || ' contre.</p>',
			v.closed_at, 'Animation (données générées)'
		FROM votes v JOIN agenda_items ai ON ai.id = v.agenda_item_id JOIN sg_meetings mt ON mt.id = v.meeting_id
		WHERE v.state = 'clos' ORDER BY v.id`)
	return n, err
}

// Counts returns the row counts of the tables the generator fills.
func Counts(ctx context.Context, db bun.IDB) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range Tables {
		var n int64
		if err := db.NewRaw("SELECT count(*) FROM "+t).Scan(ctx, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}

// Tables are the tables the generator fills.
var Tables = []string{"councils", "accounts", "memberships", "register_items", "shops", "shop_categories", "proposals",
	"proposal_scores", "debates", "arguments", "meetings", "attendances", "agenda_items", "votes", "ballots", "decisions"}

// Checksum is an md5 over the generated content of the main tables (ids
// and generated values, no server clock), to compare two generations.
func Checksum(ctx context.Context, db bun.IDB) (string, error) {
	var sum string
	err := db.NewRaw(`SELECT md5(
		(SELECT string_agg(concat_ws('|', id, slug, name, is_default), ',' ORDER BY id) FROM councils) ||
		(SELECT string_agg(concat_ws('|', id, email, name), ',' ORDER BY id) FROM accounts) ||
		(SELECT string_agg(concat_ws('|', id, council_id, slug, name, status, parent_id), ',' ORDER BY id) FROM register_items) ||
		(SELECT string_agg(concat_ws('|', id, council_id, slug, name, kind, status), ',' ORDER BY id) FROM shops) ||
		(SELECT string_agg(concat_ws('|', id, state, title, proposed_status, rationale_md, author_id, created_at), ',' ORDER BY id) FROM proposals) ||
		(SELECT md5(string_agg(concat_ws('|', proposal_id, account_id, criterion_id, grade), ',' ORDER BY id)) FROM proposal_scores) ||
		(SELECT md5(string_agg(concat_ws('|', id, debate_id, parent_id, stance, criterion_id, body_md, author_id, created_at), ',' ORDER BY id)) FROM arguments) ||
		(SELECT string_agg(concat_ws('|', id, state, tally::text, outcome), ',' ORDER BY id) FROM votes) ||
		(SELECT md5(string_agg(concat_ws('|', vote_id, member_id, choice), ',' ORDER BY id)) FROM ballots))`).Scan(ctx, &sum)
	if database.IsNoRows(err) {
		return "", nil
	}
	return sum, err
}
