package catalog

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The "Puis-je acheter… ?" lookup matches what eaters type against each
// item's name and keywords, word by word, on French stems without accents:
// "Pommes", "pomme" and "POMMES" are one word, and so are "laitière" and
// "laitiers". The register is small (tens to a few hundred items), so the
// matching runs in Go over one query's rows, where it can be tested word by
// word against a table of everyday words (lookup tests).

// stopWords are the words a question carries that name no product.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a au aux avec ce ces c ca cela d de des du en et est il
		j je l la le les leur lui m ma me mes mon n ne on ou par pas peut peux pour puis puisse
		qu que quel quelle quels quelles qui s sa se ses son sur t ta te tes ton un une y
		acheter achete achat payer paye allocation caisse est-ce svp merci bonjour
		produit produits chose choses truc trucs autre autres hors sans non
		origine type genre sorte`) {
		stopWords[w] = true
	}
}

// negators turn the next word of a name into what the item is not:
// "Produits non locaux" must not answer a question about local products.
var negators = map[string]bool{"non": true, "hors": true, "sans": true}

// ligatures are spelled out before the accents go.
var ligatures = strings.NewReplacer("œ", "oe", "æ", "ae", "ß", "ss", "’", "'")

// Fold lowers s and strips its accents and ligatures: "Œufs" → "oeufs", as
// the fr_unaccent search configuration does before stemming. The search
// page's highlighting compares words folded so with PostgreSQL's lexemes.
func Fold(s string) string { return fold(s) }

// fold is Fold.
func fold(s string) string {
	s = strings.ToLower(s)
	if isASCII(s) {
		return s // nothing to strip: most words of most questions
	}
	s = ligatures.Replace(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// words splits text, lowered but not yet folded, into words of letters and
// digits; an elided article ("l'", "d'", "qu'") is its own word, dropped
// later as a stop word.
func words(s string) []string {
	s = strings.ToLower(s)
	if !isASCII(s) {
		s = norm.NFC.String(s)
	}
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// stemWord stems one lowered word. A final "é" is kept as "e" before the
// folding loses it, so that "pâté" and "pâtes", "salé" and "sale" do not meet:
// "pâté", "pâtés" → "pate"; "pâte", "pâtes" → "pat".
func stemWord(w string) string {
	base := strings.TrimSuffix(w, "s")
	base = strings.TrimSuffix(base, "e")
	if strings.HasSuffix(base, "é") && len([]rune(base)) > 2 {
		return fold(strings.TrimSuffix(base, "é")) + "e"
	}
	return Stem(fold(w))
}

// Stem reduces a folded French word to the stem the lookup compares: plural
// (-s, -x, -aux) and feminine (-e, -ère, -euse, -ive, -enne, -elle) endings
// are removed, so singular and plural, masculine and feminine meet. It is a
// small, predictable stemmer for product names, not a full Snowball one.
func Stem(w string) string {
	if len([]rune(w)) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "eaux"):
		w = strings.TrimSuffix(w, "x") // agneaux → agneau
	case strings.HasSuffix(w, "aux") && len(w) > 5:
		w = strings.TrimSuffix(w, "aux") + "al" // animaux → animal, bocaux → bocal
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "x"):
		w = w[:len(w)-1]
	}
	// A feminine past participle: "glacée" → "glace", then as "glace".
	if strings.HasSuffix(w, "ee") {
		w = w[:len(w)-1]
	}
	for _, r := range []struct{ from, to string }{
		{"iere", "ier"}, {"ere", "er"}, {"euse", "eur"}, {"ive", "if"}, {"enne", "en"}, {"elle", "el"}, {"ette", "et"},
	} {
		if strings.HasSuffix(w, r.from) && len(w) > len(r.from)+1 {
			w = strings.TrimSuffix(w, r.from) + r.to
			break
		}
	}
	if strings.HasSuffix(w, "e") && len(w) > 3 {
		w = w[:len(w)-1]
	}
	// A doubled final consonant left by the feminine: "pomm", "noisett".
	if n := len(w); n > 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiou", rune(w[n-1])) {
		w = w[:n-1]
	}
	return w
}

// stems are the stems of text's words that name something (stop words
// dropped); in a name, the word after "non", "hors" or "sans" is dropped too.
func stems(text string, isName bool) []string {
	var out []string
	ws := words(text)
	for i, raw := range ws {
		w := fold(raw)
		if isName && i > 0 && negators[fold(ws[i-1])] {
			continue
		}
		if stopWords[w] {
			continue
		}
		s := stemWord(raw)
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Keywords splits an item's keywords as stored (comma, semicolon or line
// separated) into trimmed phrases, without empty ones or repeats.
func Keywords(s string) []string {
	var out []string
	for _, k := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		k = strings.Join(strings.Fields(k), " ")
		if k != "" && !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// matchItem is an item the lookup may answer with.
type matchItem struct {
	hit    SearchHit
	parent int64 // 0 for a family
	depth  int   // 0 family, 1 category, 2 product
	// name is the stems of the name; phrases those of each keyword.
	name    []string
	phrases [][]string
}

// matchScore is how well an item matches a question: how many of its words
// it accounts for, and whether one of its keywords or its whole name was
// found in the question (rather than one word of a longer name).
type matchScore struct {
	covered  int
	complete bool
}

func (a matchScore) better(b matchScore) bool {
	if a.covered != b.covered {
		return a.covered > b.covered
	}
	return a.complete && !b.complete
}

// score matches the question's stems q against the item: a keyword counts
// when every one of its words is in the question ("viande de chasse" needs
// both "viande" and "chasse"); the name counts word by word.
func (m *matchItem) score(q []string) matchScore {
	covered := map[string]bool{}
	complete := false
	for _, p := range m.phrases {
		all := len(p) > 0
		for _, s := range p {
			if !contains(q, s) {
				all = false
				break
			}
		}
		if all {
			complete = true
			for _, s := range p {
				covered[s] = true
			}
		}
	}
	nameAll := len(m.name) > 0
	for _, s := range m.name {
		if contains(q, s) {
			covered[s] = true
		} else {
			nameAll = false
		}
	}
	return matchScore{covered: len(covered), complete: complete || nameAll}
}

// LookupResult is the answer of the lookup: the item that answers, when one
// does, and every candidate the question matched equally well otherwise.
type LookupResult struct {
	// Best answers the question; nil when nothing matched or when the
	// candidates disagree.
	Best *SearchHit
	// Candidates are the items that match best: one when Best is set, several
	// (most specific first) when the question is ambiguous.
	Candidates []SearchHit
	// Others match less well, best first.
	Others []SearchHit
}

// Ambiguous reports whether several items answer differently.
func (r LookupResult) Ambiguous() bool { return r.Best == nil && len(r.Candidates) > 1 }

// lookup answers question over the council's items (each with its parent id
// and keywords). The most specific item wins: the one that accounts for more
// of the question's words, then a keyword or whole name over a word of a
// longer name, then a descendant over its ancestors. Equal candidates that
// answer the same give that answer; otherwise every candidate is shown and
// the lookup does not say "Oui".
func lookup(items []matchItem, question string) LookupResult {
	q := stems(question, false)
	if len(q) == 0 {
		return LookupResult{}
	}
	type scored struct {
		m *matchItem
		s matchScore
	}
	var found []scored
	for i := range items {
		if s := items[i].score(q); s.covered > 0 {
			found = append(found, scored{&items[i], s})
		}
	}
	if len(found) == 0 {
		return LookupResult{}
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].s != found[j].s {
			return found[i].s.better(found[j].s)
		}
		return found[i].m.depth > found[j].m.depth
	})
	top := found[0].s
	byID := make(map[int64]*matchItem, len(items))
	for i := range items {
		byID[items[i].hit.ID] = &items[i]
	}
	var best, others []*matchItem
	for _, f := range found {
		if f.s == top {
			best = append(best, f.m)
		} else {
			others = append(others, f.m)
		}
	}
	// An ancestor among the best is less specific than its descendant: mark
	// every ancestor of the best once (linear, not pairwise).
	ancestor := map[int64]bool{}
	for _, b := range best {
		for p := byID[b.parent]; p != nil && !ancestor[p.hit.ID]; p = byID[p.parent] {
			ancestor[p.hit.ID] = true
		}
	}
	var cands []*matchItem
	for _, b := range best {
		if ancestor[b.hit.ID] {
			others = append([]*matchItem{b}, others...)
		} else {
			cands = append(cands, b)
		}
	}
	var r LookupResult
	for _, c := range cands {
		r.Candidates = append(r.Candidates, c.hit)
	}
	for _, o := range others {
		r.Others = append(r.Others, o.hit)
	}
	same := true
	for _, c := range cands[1:] {
		if c.hit.Answer() != cands[0].hit.Answer() {
			same = false
		}
	}
	if same {
		r.Best = &r.Candidates[0]
	}
	return r
}
