package debate

import (
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

// stripMarkdown drops the Markdown left in stored texts that a snippet would
// show: emphasis marks and link targets with nothing in their place (a space
// there read "l' accessibilité" and "local ."), each run of block marks (#, >,
// |, brackets) replaced by one space. It is the regular expressions
// `\]\([^)]*\)|[*_~]+` → "" then `[#>\[\]|]+` → " " in one pass.
func stripMarkdown(text string) string {
	if !strings.ContainsAny(text, "*_~#>[]|") {
		return text
	}
	b := make([]byte, 0, len(text))
	inBlock := false // the last byte written is a block run's space
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case ']':
			if i+1 < len(text) && text[i+1] == '(' {
				if j := strings.IndexByte(text[i+2:], ')'); j >= 0 {
					i += 2 + j // the link target goes, "]" with it
					continue
				}
			}
			fallthrough
		case '#', '>', '[', '|':
			if !inBlock {
				b = append(b, ' ')
				inBlock = true
			}
			continue
		case '*', '_', '~':
			continue
		}
		b = append(b, c)
		inBlock = false
	}
	return string(b)
}

// queryStems reads the lexemes out of querytree's text ('riz' & 'camargu',
// 'riz' <2> 'camargu'): each between single quotes, a quote doubled inside.
// querytree leaves out negated terms ("-chasse"), which are never marked.
// The lexemes are folded as words are (appendFolded), each followed by its
// forms from stemRewrites.
func queryStems(tree string) []string {
	var out []string
	add := func(s string) {
		if s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
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
		stem := string(appendFolded(nil, b.String()))
		add(stem)
		for _, r := range stemRewrites {
			if len(stem) > len(r.stem)+1 && strings.HasSuffix(stem, r.stem) {
				add(stem[:len(stem)-len(r.stem)] + r.word)
			}
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

// appendFolded appends word to buf lowered, without accents or ligatures
// ("Œufs" → "oeufs"), as fr_unaccent has it before stemming, and with "y" as
// "i": Snowball writes a "y" next to a vowel as "i" (payer → pai). French
// letters are folded here without allocating; rarer ones by catalog.Fold.
func appendFolded(buf []byte, word string) []byte {
	for _, r := range word {
		if r < utf8.RuneSelf {
			c := byte(r)
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c == 'y' {
				c = 'i'
			}
			buf = append(buf, c)
			continue
		}
		switch unicode.ToLower(r) {
		case 'à', 'â', 'ä', 'á', 'ã', 'å':
			buf = append(buf, 'a')
		case 'é', 'è', 'ê', 'ë':
			buf = append(buf, 'e')
		case 'î', 'ï', 'í', 'ì', 'ÿ', 'ý':
			buf = append(buf, 'i')
		case 'ô', 'ö', 'ó', 'ò', 'õ':
			buf = append(buf, 'o')
		case 'ù', 'û', 'ü', 'ú':
			buf = append(buf, 'u')
		case 'ç':
			buf = append(buf, 'c')
		case 'ñ':
			buf = append(buf, 'n')
		case 'œ':
			buf = append(buf, 'o', 'e')
		case 'æ':
			buf = append(buf, 'a', 'e')
		default:
			buf = append(buf, strings.ReplaceAll(catalog.Fold(string(r)), "y", "i")...)
		}
	}
	return buf
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
func stemPrefixOf(w []byte, stem string) bool {
	if len(w) < len(stem) || string(w[:len(stem)]) != stem {
		return false
	}
	tail := len(w) - len(stem)
	switch {
	case tail == 0:
		return true
	case stem[0] >= '0' && stem[0] <= '9':
		return false
	case len(stem) <= 3:
		return tail <= 2
	}
	return tail <= 9
}

// isHit reports whether the folded word w is one the query looks for.
func isHit(w []byte, stems []string) bool {
	for _, s := range stems {
		if stemPrefixOf(w, s) {
			return true
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
		var word bool
		if r < utf8.RuneSelf {
			word = 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
		} else {
			word = unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		}
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
	text = stripMarkdown(text)
	words := textWords(text)
	if len(words) == 0 {
		return nil
	}
	// Words are folded and compared when a passage needs them: a long
	// debate's text is read up to its second passage only.
	known := make([]int8, len(words)) // 0 not yet compared, 1 hit, -1 not
	var buf []byte
	hit := func(i int) bool {
		if known[i] == 0 {
			known[i] = -1
			if len(stems) > 0 {
				buf = appendFolded(buf[:0], text[words[i].from:words[i].to])
				if isHit(buf, stems) {
					known[i] = 1
				}
			}
		}
		return known[i] > 0
	}
	// Passages, as word ranges [from, to).
	var frags []span
	if len(words) <= headlineMaxWords {
		frags = []span{{0, len(words)}}
	} else {
		next := 0
		for i := 0; i < len(words) && len(frags) < headlineFragments; i++ {
			if i < next || !hit(i) {
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
			if !hit(i) {
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
