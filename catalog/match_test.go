package catalog_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cla/catalog"
)

func TestStemMeetsSingularPluralAndFeminine(t *testing.T) {
	t.Parallel()
	for _, group := range [][]string{
		{"pomme", "pommes", "Pommes", "POMME"},
		{"œuf", "oeufs", "Œufs"},
		{"laitier", "laitière", "laitiers", "laitières"},
		{"bière", "bières", "biere"},
		{"glace", "glaces"},
		{"bocal", "bocaux"},
		{"chou", "choux"},
		{"agneau", "agneaux"},
		{"myrtille", "myrtilles"},
		{"poisson", "poissons"},
	} {
		want := catalog.Stem(foldForTest(group[0]))
		for _, w := range group[1:] {
			if got := catalog.Stem(foldForTest(w)); got != want {
				t.Errorf("Stem(%q) = %q, want %q (as %q)", w, got, want, group[0])
			}
		}
	}
}

// foldForTest lowers and strips accents the way the lookup does, for the
// few letters the stem table above uses.
func foldForTest(s string) string {
	return strings.NewReplacer("è", "e", "é", "e", "ê", "e", "œ", "oe", "Œ", "oe").Replace(strings.ToLower(s))
}

// lookupAnswer asks the page and returns the headline and the slugs it
// names as the answer (one for an answer, several when ambiguous, none when
// nothing matched).
func lookupAnswer(t *testing.T, body string) (string, []string) {
	t.Helper()
	sec := regexp.MustCompile(`(?s)data-testid="answer[^"]*">\s*<h2 id="reponse">([^<]+)</h2>(.*?)</section>`).FindStringSubmatch(body)
	if sec == nil {
		return "", nil
	}
	var slugs []string
	for _, m := range regexp.MustCompile(`href="/registre/([^"]+)"`).FindAllStringSubmatch(sec[2], -1) {
		slugs = append(slugs, m[1])
	}
	return sec[1], slugs
}

// Everyday words against the demo register (the model's March 2025 list):
// the answer and the item that gives it (issue 20, point 1).
func TestLookupEverydayWords(t *testing.T) {
	t.Parallel()
	app, _, _ := newApp(t)
	const undecided, depends = "Pas encore décidé", "Cela dépend du produit"
	cases := []struct {
		q, answer string
		slugs     []string
	}{
		{"poisson", undecided, []string{"produits-de-la-peche"}},
		{"des poissons", undecided, []string{"produits-de-la-peche"}},
		{"fruits de mer", undecided, []string{"produits-de-la-peche"}},
		{"sardines", undecided, []string{"produits-de-la-peche"}},
		{"conserve de poisson", undecided, []string{"produits-de-la-peche"}},
		{"lait", "Oui", []string{"fromages-et-produits-laitiers"}},
		{"du lait de chèvre", "Oui", []string{"fromages-et-produits-laitiers"}},
		{"yaourts", "Oui", []string{"fromages-et-produits-laitiers"}},
		{"fromage", "Oui", []string{"fromages-et-produits-laitiers"}},
		{"pomme", "Oui", []string{"fruits-et-legumes"}},
		{"Pommes", "Oui", []string{"fruits-et-legumes"}},
		{"pommes de terre", "Oui", []string{"fruits-et-legumes"}},
		{"jus de pomme", "Oui", []string{"jus-de-fruit"}},
		{"tomates", "Oui", []string{"fruits-et-legumes"}},
		{"légumes", "Oui", []string{"fruits-et-legumes"}},
		{"lentilles", "Oui", []string{"legumineuses"}},
		{"pâtes", "Oui", []string{"farines-pates-cereales"}},
		{"farine", "Oui", []string{"farines-pates-cereales"}},
		{"baguette", "Oui", []string{"pain"}},
		{"pain", "Oui", []string{"pain"}},
		{"pain au chocolat", "Oui", []string{"viennoiseries-et-biscuits"}},
		{"croissants", "Oui", []string{"viennoiseries-et-biscuits"}},
		{"huile d'olive", "Oui", []string{"huiles"}},
		{"confiture", "Oui", []string{"conserves"}},
		{"glace", "Oui", []string{"glaces"}},
		{"crème glacée", "Oui", []string{"glaces"}},
		{"vin", "Non", []string{"alcool"}},
		{"du vin rouge", "Non", []string{"alcool"}},
		{"bière", "Non", []string{"alcool"}},
		{"BIERES", "Non", []string{"alcool"}},
		{"cidre", "Non", []string{"alcool"}},
		{"Puis-je acheter de l'alcool ?", "Non", []string{"alcool"}},
		{"gibier", undecided, []string{"produits-de-la-chasse"}},
		{"sanglier", undecided, []string{"produits-de-la-chasse"}},
		{"viande de chasse", undecided, []string{"produits-de-la-chasse"}},
		{"viande de sanglier", undecided, []string{"produits-de-la-chasse"}},
		{"chevreuil", undecided, []string{"produits-de-la-chasse"}},
		{"viande", "Oui", []string{"viande"}},
		{"poulet", "Oui", []string{"viande"}},
		{"steak haché", "Oui", []string{"viande"}},
		{"jambon", "Oui", []string{"charcuteries"}},
		{"oeufs", "Oui", []string{"oeufs"}},
		{"Œuf", "Oui", []string{"oeufs"}},
		{"miel", "Oui", []string{"miel"}},
		{"riz", undecided, []string{"riz-de-camargue"}},
		{"riz complet", undecided, []string{"riz-de-camargue"}},
		{"café", "Non", []string{"the-cafe-chocolat"}},
		{"CAFÉ", "Non", []string{"the-cafe-chocolat"}},
		{"chocolat", "Non", []string{"the-cafe-chocolat"}},
		{"bananes", "Non", []string{"fruits-exotiques"}},
		{"citron", "Non", []string{"agrumes-avocats-espagne"}},
		{"avocats", "Non", []string{"agrumes-avocats-espagne"}},
		{"kombucha", undecided, []string{"kombucha"}},
		{"spiruline", undecided, []string{"complements-alimentaires"}},
		{"savon", "Non", []string{"plantes-aromatiques-transformees"}},
		{"huile essentielle", "Non", []string{"plantes-aromatiques-transformees"}},
		{"pêche", undecided, []string{"produits-de-la-peche"}},
		{"tisane", "Oui", []string{"tisanes"}},
		{"pâté", "Oui", []string{"charcuteries"}},
		{"pâté de sanglier", undecided, []string{"produits-de-la-chasse"}},
		{"carottes", "Oui", []string{"fruits-et-legumes"}},
		{"fraises", "Oui", []string{"fruits-et-legumes"}},
		{"noix", "Oui", []string{"fruits-et-legumes"}},
		{"noix de coco", "Non", []string{"fruits-exotiques"}},
		{"huîtres", undecided, []string{"produits-de-la-peche"}},
		{"lièvre", undecided, []string{"produits-de-la-chasse"}},
		{"beurre", "Oui", []string{"fromages-et-produits-laitiers"}},
		{"crème fraîche", "Oui", []string{"fromages-et-produits-laitiers"}},
		{"agneau", "Oui", []string{"viande"}},
		{"bœuf", "Oui", []string{"viande"}},
		{"saucisson", "Oui", []string{"charcuteries"}},
		{"pois chiches", "Oui", []string{"legumineuses"}},
		{"haricots verts", "Oui", []string{"fruits-et-legumes"}},
		{"haricots secs", "Oui", []string{"legumineuses"}},
		{"pastis", "Non", []string{"alcool"}},
		{"thé", "Non", []string{"the-cafe-chocolat"}},
		{"oranges", "Non", []string{"agrumes-avocats-espagne"}},
		{"kiwis", "Oui", []string{"fruits-et-legumes"}},
		{"bougies", "Non", []string{"plantes-aromatiques-transformees"}},
		{"compote", "Oui", []string{"conserves"}},
		{"sirop", "Oui", []string{"sirops"}},
		{"chips", "Oui", []string{"aperitifs-sales"}},
		// One word of a product and one of another that answers differently:
		// every candidate, and no "Oui".
		{"thon à l'huile", depends, []string{"produits-de-la-peche", "huiles"}},
	}
	for _, tc := range cases {
		_, body := get(t, app, "/puis-je-acheter?q="+url.QueryEscape(tc.q))
		answer, slugs := lookupAnswer(t, body)
		if answer != tc.answer || !sameSet(slugs, tc.slugs) {
			t.Errorf("%q: got %q %v, want %q %v", tc.q, answer, slugs, tc.answer, tc.slugs)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}

// An empty answer offers the full search and the "propose a debate" form
// with the words typed.
func TestLookupNothingFoundOffersSearchAndDebate(t *testing.T) {
	t.Parallel()
	app, _, _ := newApp(t)
	_, body := get(t, app, "/puis-je-acheter?q="+url.QueryEscape("tofu fumé"))
	answer, _ := lookupAnswer(t, body)
	if answer != "Nous n'avons rien trouvé" {
		t.Fatalf("tofu fumé: %q", answer)
	}
	for _, want := range []string{`href="/recherche?q=tofu%20fum%c3%a9"`, `href="/debats/proposer?sujet=tofu%20fum%c3%a9"`} {
		if !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
			t.Errorf("nothing found: no link %s", want)
		}
	}
}
