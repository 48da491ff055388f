package debate_test

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"cla/governance/debate"
	"cla/internal/testdb"
)

func TestQueryStemsReadsQuerytree(t *testing.T) {
	t.Parallel()
	for tree, want := range map[string][]string{
		"'riz' & 'camargu'":         {"riz", "camargu"},
		"'riz' <2> 'camargu'":       {"riz", "camargu"},
		"'pech' & 'pech'":           {"pech"},
		"'o' <-> 'brien'":           {"o", "brien"},
		"'l''x' | 'Pai'":            {"l'x", "pai"},
		"T":                         nil,
		"":                          nil,
		"'unterminated":             {"unterminated"},
		"'porte-monnai' <-> 'port'": {"porte-monnai", "port"},
	} {
		if got := debate.QueryStems(tree); !reflect.DeepEqual(got, want) {
			t.Errorf("queryStems(%q) = %q, want %q", tree, got, want)
		}
	}
}

func TestHeadlineMarksTheQueryWordsAndEscapesTheRest(t *testing.T) {
	t.Parallel()
	long := func(n int, word string) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = word
		}
		return strings.Join(ws, " ")
	}
	for _, c := range []struct{ name, text, tree, want string }{
		{"accents folded", "La Pêche en Camargue et la peche.", "'pech'",
			"La <mark>Pêche</mark> en Camargue et la <mark>peche</mark>."},
		{"ligature", "Des Œufs frais, un œuf dur.", "'oeuf'", "Des <mark>Œufs</mark> frais, un <mark>œuf</mark> dur."},
		{"apostrophe", "l'agriculture et d’agricultures", "'agricultur'",
			"l&#39;<mark>agriculture</mark> et d’<mark>agricultures</mark>"},
		// ">" goes with the Markdown block marks; "<" and quotes are escaped.
		{"hostile text", `<script>alert("riz")</script> & <img src=x onerror='riz'>`, "'riz'",
			"&lt;script alert(&#34;<mark>riz</mark>&#34;)&lt;/script  &amp; &lt;img src=x onerror=&#39;<mark>riz</mark>&#39; "},
		{"first and last word", "Riz de Camargue et riz", "'riz' & 'camargu'",
			"<mark>Riz</mark> de <mark>Camargue</mark> et <mark>riz</mark>"},
		{"stems Snowball rewrites", "Produits locaux, différence heureuse : payer.", "'local' & 'different' & 'heureux' & 'pai'",
			"Produits <mark>locaux</mark>, <mark>différence</mark> <mark>heureuse</mark> : <mark>payer</mark>."},
		{"short stem, long ending", "bio, bios et biologique", "'bio'", "<mark>bio</mark>, <mark>bios</mark> et biologique"},
		{"numbers whole", "2024 et 20245", "'2024'", "<mark>2024</mark> et 20245"},
		{"negated terms are not in querytree", "chasse et pêche", "'pech'", "chasse et <mark>pêche</mark>"},
		{"markdown marks dropped", "Le **riz** de [Camargue](https://x.fr) # titre", "'riz'",
			"Le <mark>riz</mark> de  Camargue   titre"},
		{"no word of the query", "Rien à voir.", "'riz'", "Rien à voir."},
		{"no lexeme", "Rien à voir.", "T", "Rien à voir."},
		{"no hit in a long text: its beginning", long(50, "mot"), "'riz'", long(35, "mot")},
		{"two passages", long(40, "a") + " riz " + long(60, "b") + " riz " + long(40, "c"), "'riz'",
			long(6, "a") + " <mark>riz</mark> " + long(28, "b") + " … " + long(6, "b") + " <mark>riz</mark> " + long(28, "c")},
		{"a hit near the end takes more before", long(60, "a") + " riz", "'riz'", long(34, "a") + " <mark>riz</mark>"},
		{"empty", "", "'riz'", ""},
	} {
		got := string(debate.Headline(c.text, c.tree).Snippet())
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// Every form of these words is marked for the lexemes PostgreSQL's
// fr_unaccent configuration gives the word itself: the Go marking misses none
// of the words the search found.
func TestHeadlineMarksWhatPostgreSQLStems(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	words := strings.Fields(`producteurs prix local locaux transport traçabilité saison saisons pêche Camargue
		élevage santé environnement territoire paysage travail revenu conserve légumes fruits céréales fromage
		Œufs chasse gibier supermarché épicerie franchise charte carbone semences plants accessible accessibilité
		qualité goût plaisir confiance label conversion pratiques agriculture animaux différence heureuse sportives
		possibilité établissements alimentation nationale biologique biodiversité communication journaux généraux
		abondamment évidemment boulangerie boulanger chevaux eaux yeux payer pays agricoles cantines restauration
		collective viandes Dieulefit producteur marchés coopérative bouchères paysannes épiceries circuits courts
		2024 l'agriculture aujourd'hui`)
	for _, w := range words {
		var tree string
		if err := db.NewRaw("SELECT querytree(websearch_to_tsquery('fr_unaccent', ?))", w).Scan(ctx, &tree); err != nil {
			t.Fatal(err)
		}
		r := debate.Headline(w, tree)
		marked := 0
		for _, p := range r.Headline {
			if p.Mark {
				marked++
			}
		}
		if marked == 0 {
			t.Errorf("%q (querytree %s): nothing marked in %q", w, tree, r.Snippet())
		}
	}
}

// stripMarkdown is the two regular expressions the SQL statement applied
// before, in one pass.
func FuzzStripMarkdownIsTheFormerRegexps(f *testing.F) {
	marks := regexp.MustCompile(`\]\([^)]*\)|[*_~]+`)
	blocks := regexp.MustCompile(`[#>\[\]|]+`)
	for _, s := range []string{"", "plain", "Le **riz** de [Camargue](https://x.fr) # titre", "#*#", "a ](b", "[x]](y)]|>",
		"> citation\n> suite", "| a | b |\n|---|---|", "_x_ ~~y~~ ]()", "](((()", "é]ç(ñ)ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := blocks.ReplaceAllString(marks.ReplaceAllString(s, ""), " ")
		if got := debate.StripMarkdown(s); got != want {
			t.Fatalf("stripMarkdown(%q) = %q, want %q", s, got, want)
		}
	})
}

// BenchmarkHeadline: the app's CPU per snippet, for an argument of 60 words
// and a debate's text of 600.
// Run: go test -run '^$' -bench BenchmarkHeadline ./governance/debate/
func BenchmarkHeadline(b *testing.B) {
	arg := strings.Repeat("Les producteurs locaux de riz en Camargue vendent leur récolte au marché de Dieulefit, où la traçabilité compte. ", 4)
	for _, c := range []struct {
		name, text string
	}{{"argument", arg}, {"debate", strings.Repeat("Le **débat** sur l'élevage et la [santé](/x) des sols — ", 60) + arg}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := debate.Headline(c.text, "'producteur' & 'tracabilit'")
				if len(r.Snippet()) == 0 {
					b.Fatal("empty snippet")
				}
			}
		})
	}
}
