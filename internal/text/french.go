package text

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The French helpers below are the one place where the UI elides "de" and
// chooses singular or plural, so that no page writes "de Épicerie" or
// "6 membre(s)" by hand (issue 20, point 8; the wording gate in cmd/cla reads
// every demo page for those forms).

// De returns "de " + name, elided before a vowel or a mute h: "d'Épicerie",
// "d'odette@example.org", "de Lucas Morel". An empty name gives "".
func De(name string) string {
	if name == "" {
		return ""
	}
	if StartsWithVowel(name) {
		return "d'" + name
	}
	return "de " + name
}

// Le returns name preceded by "le" or "la" elided when it starts with a vowel:
// Le("la", "accessibilité") is "l'accessibilité", Le("le", "riz") is "le riz".
func Le(article, name string) string {
	if StartsWithVowel(name) {
		return "l'" + name
	}
	return article + " " + name
}

// StartsWithVowel reports whether s starts with a vowel sound for elision: a
// vowel (accented or not, any case), or an h, which French treats as mute for
// most words ("d'huile", "d'Hélène") but not for the aspirated ones listed in
// aspiratedH ("de haricots"). A y does not elide ("de yaourts"); digits,
// punctuation and consonants do not either.
func StartsWithVowel(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return false
	}
	// Decompose so that "É" is tested as "E".
	base, _ := utf8.DecodeRuneInString(norm.NFD.String(string(r)))
	switch unicode.ToLower(base) {
	case 'a', 'e', 'i', 'o', 'u', 'œ', 'æ':
		return true
	case 'h':
		lower := strings.ToLower(norm.NFD.String(s))
		for _, w := range aspiratedH {
			if strings.HasPrefix(lower, w) {
				return false
			}
		}
		return true
	}
	return false
}

// aspiratedH lists the starts of food words whose h is aspirated: no elision
// before them. Compared without accents, in lower case.
var aspiratedH = []string{"haricot", "hareng", "hach", "halle", "hamburger", "houblon", "homard", "hotte", "hollande", "hongr", "hors"}

// Plural returns one when n is 0 or 1 (French counts zero as singular: "0
// abstention") and many otherwise.
func Plural(n int, one, many string) string {
	if n == 1 || n == 0 || n == -1 {
		return one
	}
	return many
}

// Count returns n followed by the right form of the noun: Count(1,
// "abstention", "abstentions") is "1 abstention", Count(6, "membre",
// "membres") is "6 membres".
func Count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Plural(n, one, many)
}

// Sentence joins parts with ", " and " et " before the last one: "a, b et c".
func Sentence(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " et " + parts[len(parts)-1]
}
