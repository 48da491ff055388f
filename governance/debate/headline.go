package debate

import (
	"html/template"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"cla/catalog"
)

// Highlighting runs here, in Go, rather than in PostgreSQL's ts_headline
// (docs/decisions.md, "Search highlighting in Go"): ts_headline parsed and
// stemmed every shown text again, about a millisecond of PostgreSQL CPU per
// search page, the largest part of a search once the matches were found.
// The database now sends the query's lexemes once (querytree) and the shown
// texts as stored; a word is marked when its folded form (lowered, accents and
// ligatures gone, as fr_unaccent does) is one of those French stems followed
// by a short ending (stemPrefixOf). Snowball's French stems are prefixes of
// the folded word for nearly every word; the few rewrites it makes that are
// not (locaux → local, différence → different, heureuse → heureux) are
// listed in stemRewrites.

// HeadlinePart is a piece of a result's snippet: text as stored, marked when
// it is a word the query looks for. The page escapes every part.
type HeadlinePart struct {
	Text string
	Mark bool
}

// headlineMaxWords and headlineFragments shape a snippet as the former
// ts_headline options did (MaxWords=35, MaxFragments=2): up to two passages
// of 35 words, each starting headlineLead words before its first marked word,
// joined by headlineDelimiter.
const (
	headlineMaxWords  = 35
	headlineFragments = 2
	headlineLead      = 6
	headlineDelimiter = " … "
)

// markdownMarks and markdownBlocks are the Markdown left in stored texts that
// a snippet drops: emphasis and link targets with nothing in their place (a
// space there read "l' accessibilité" and "local ."), block marks (#, >, |,
// brackets) replaced by a space.
var (
	markdownMarks  = regexp.MustCompile(`\]\([^)]*\)|[*_~]+`)
	markdownBlocks = regexp.MustCompile(`[#>\[\]|]+`)
)

// queryStems reads the lexemes out of querytree's text ('riz' & 'camargu',
// 'riz' <2> 'camargu'): each between single quotes, a quote doubled inside.
// querytree leaves out negated terms ("-chasse"), which are never marked.
// The lexemes are compared as folded words are (comparable).
func queryStems(tree string) []string {
	var out []string
	for i := 0; i < len(tree); i++ {
		if tree[i] != '\'' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(tree); j++ {
			if tree[j] == '\'' {
				if j+1 < len(tree) && tree[j+1] == '\'' {
					b.WriteByte('\'')
					j++
					continue
				}
				break
			}
			b.WriteByte(tree[j])
		}
		i = j
		if s := comparable(b.String()); s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// comparable folds a word or lexeme for comparison. Snowball writes a "y"
// next to a vowel as "i" (payer → pai), so "y" is compared as "i".
func comparable(s string) string {
	return strings.ReplaceAll(catalog.Fold(s), "y", "i")
}

// stemRewrites are the endings Snowball's French stemmer rewrites rather than
// cuts: a stem ending in stem also stands for words continuing with word
// where the stem's ending was.
var stemRewrites = []struct{ stem, word string }{
	{"al", "au"},   // locaux, journaux, chevaux
	{"ent", "enc"}, // différence
	{"ent", "emm"}, // évidemment
	{"ant", "amm"}, // couramment
	{"eux", "eus"}, // heureuse
}

// stemPrefixOf reports whether the folded word w is stem followed by an
// ending no longer than a French suffix the stemmer removes (up to nine
// letters, "issements"; two after a stem of three letters or fewer, so that
// "bio" does not mark "biologique"). A number matches itself only.
func stemPrefixOf(w, stem string) bool {
	if !strings.HasPrefix(w, stem) {
		return false
	}
	tail := len(w) - len(stem)
	if tail == 0 {
		return true
	}
	if r, _ := utf8.DecodeRuneInString(stem); unicode.IsDigit(r) {
		return false
	}
	if utf8.RuneCountInString(stem) <= 3 {
		return tail <= 2
	}
	return tail <= 9
}

// isHit reports whether the folded word w is one the query looks for.
func isHit(w string, stems []string) bool {
	for _, s := range stems {
		if stemPrefixOf(w, s) {
			return true
		}
		for _, r := range stemRewrites {
			if len(s) > len(r.stem)+1 && strings.HasSuffix(s, r.stem) && stemPrefixOf(w, s[:len(s)-len(r.stem)]+r.word) {
				return true
			}
		}
	}
	return false
}

// span is a word's bytes in a text.
type span struct{ from, to int }

// textWords splits text into words as the snippet counts them: runs of
// letters and digits. An apostrophe or a hyphen separates words
// ("l'agriculture" is "l" and "agriculture"), as PostgreSQL's parser splits
// them into the lexemes compared.
func textWords(text string) []span {
	var out []span
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, span{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, span{start, len(text)})
	}
	return out
}

// headline is the snippet of text for a query's stems: the whole text when
// it is short, else up to headlineFragments passages around the marked words
// (the text's beginning when none is marked), each word the query looks for
// marked.
func headline(text string, stems []string) []HeadlinePart {
	text = markdownBlocks.ReplaceAllString(markdownMarks.ReplaceAllString(text, ""), " ")
	words := textWords(text)
	if len(words) == 0 {
		return nil
	}
	hit := make([]bool, len(words))
	for i, w := range words {
		hit[i] = len(stems) > 0 && isHit(comparable(text[w.from:w.to]), stems)
	}
	// Passages, as word ranges [from, to).
	var frags []span
	if len(words) <= headlineMaxWords {
		frags = []span{{0, len(words)}}
	} else {
		next := 0
		for i := 0; i < len(words) && len(frags) < headlineFragments; i++ {
			if !hit[i] || i < next {
				continue
			}
			from := max(next, i-headlineLead)
			to := min(len(words), from+headlineMaxWords)
			from = max(next, min(from, to-headlineMaxWords)) // near the end: take more before
			if n := len(frags); n > 0 && frags[n-1].to == from {
				frags[n-1].to = to // adjacent: one passage
			} else {
				frags = append(frags, span{from, to})
			}
			next = to
		}
		if len(frags) == 0 {
			frags = []span{{0, headlineMaxWords}}
		}
	}
	var out []HeadlinePart
	add := func(s string, mark bool) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && !out[n-1].Mark && !mark {
			out[n-1].Text += s
			return
		}
		out = append(out, HeadlinePart{Text: s, Mark: mark})
	}
	for k, f := range frags {
		if k > 0 {
			add(headlineDelimiter, false)
		}
		// A passage from the text's first word or to its last keeps what is
		// before or after it: punctuation, a quote.
		pos, end := words[f.from].from, words[f.to-1].to
		if f.from == 0 {
			pos = 0
		}
		if f.to == len(words) {
			end = len(text)
		}
		for i := f.from; i < f.to; i++ {
			if !hit[i] {
				continue
			}
			add(text[pos:words[i].from], false)
			add(text[words[i].from:words[i].to], true)
			pos = words[i].to
		}
		add(text[pos:end], false)
	}
	return out
}

// snippetTemplate renders a headline: html/template escapes every part, the
// marks are the template's own markup.
var snippetTemplate = template.Must(template.New("snippet").Parse(
	`{{range .}}{{if .Mark}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}`))
