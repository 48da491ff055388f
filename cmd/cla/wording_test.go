package main

// The wording gate (issue 20, point 8): every HTML page the quality gates crawl
// (gates_test.go: the Dieulefit demo, anonymously and as a facilitator) reads
// as French, not as a form letter. Plurals and elisions come from one helper
// (internal/text: De, Plural, Count; the template funcs de, plural, count):
// a page that writes "membre(s)" or "de Épicerie" by hand fails here.
//
//	go test ./cmd/cla -run TestFrenchWording

import (
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// wordingRule is one form the pages must not show.
type wordingRule struct {
	name string
	re   *regexp.Regexp
}

// wordingVowel is a vowel that "de" elides before (h is left out: aspirated or
// not depends on the word; y too: "de yaourts").
const wordingVowel = `[aeiouâàäéèêëîïôöûùüœæAEIOUÂÀÄÉÈÊËÎÏÔÖÛÙÜŒÆ]`

var wordingRules = []wordingRule{
	{"a plural written as (s)", regexp.MustCompile(`\p{L}\((?:s|e|es|x)\)`)},
	{"a plural after 1", regexp.MustCompile(`(?:^|[^\d,.])1\s+\p{L}+·(?:e?s)\b`)},
	{"« de » before a vowel", regexp.MustCompile(`(?:^|[^\p{L}'’-])[Dd]e\s+` + wordingVowel)},
	{"« le » or « la » before a vowel", regexp.MustCompile(`(?:^|[^\p{L}'’-])(?:[Ll]e|[Ll]a)\s+` + wordingVowel + `\p{L}`)},
	{"an elision followed by a space", regexp.MustCompile(`(?:^|[^\p{L}])[dlDL]['’]\s+\p{L}`)},
	{"a space before a comma or a period", regexp.MustCompile(`[\p{L}\d»)]\s+[,.](?:\s|$)`)},
}

// wordingInline are the tags that sit inside a sentence: removing them must
// not add a space ("de <a>Épicerie</a>" reads "de Épicerie").
var wordingInline = regexp.MustCompile(`(?i)</?(?:a|strong|em|b|i|span|mark|time|abbr|code|small|q|cite|data|sup|sub)(?:\s[^>]*)?>`)

var (
	wordingDrop = regexp.MustCompile(`(?is)<(script|style|textarea|pre|code|template|svg)\b.*?</(?:script|style|textarea|pre|code|template|svg)>|<!--.*?-->`)
	wordingTag  = regexp.MustCompile(`(?s)<[^>]*>`)
	wordingWS   = regexp.MustCompile(`[ \t\r\n\x{a0}\x{202f}]+`)
	wordingH1   = regexp.MustCompile(`(?i)<h1[\s>]`)
)

// wordingText is the visible text of an HTML page, one line per block.
func wordingText(body []byte) []string {
	s := wordingDrop.ReplaceAllString(string(body), "\n")
	s = wordingInline.ReplaceAllString(s, "")
	s = wordingTag.ReplaceAllString(s, "\n")
	s = html.UnescapeString(s)
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(wordingWS.ReplaceAllString(l, " ")); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// wordingProblems lists what a page says wrong, each with its sentence.
func wordingProblems(body []byte) []string {
	var out []string
	if n := len(wordingH1.FindAllIndex(body, -1)); n > 1 {
		out = append(out, fmt.Sprintf("%d <h1> on one page", n))
	}
	for _, l := range wordingText(body) {
		for _, r := range wordingRules {
			if loc := r.re.FindStringIndex(l); loc != nil {
				from, to := max(0, loc[0]-40), min(len(l), loc[1]+40)
				out = append(out, fmt.Sprintf("%s: %q", r.name, strings.ToValidUTF8(l[from:to], "")))
			}
		}
	}
	return out
}

// TestFrenchWording crawls the demo like the other gates and fails on "(s)",
// a plural after 1, "de" before a vowel, a space before a comma or a period,
// and two H1s on one page.
func TestFrenchWording(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t)
	pages := gateHTMLPages(e.crawlBoth())
	if len(pages) < 40 {
		t.Fatalf("only %d pages: the crawl is broken", len(pages))
	}
	seen := map[string][]string{} // problem -> pages
	for _, p := range pages {
		for _, msg := range wordingProblems(p.Body) {
			seen[msg] = append(seen[msg], p.Path)
		}
	}
	var failures []string
	for msg, paths := range seen {
		sort.Strings(paths)
		more := ""
		if len(paths) > 3 {
			more = fmt.Sprintf(" and %d more", len(paths)-3)
			paths = paths[:3]
		}
		failures = append(failures, msg+" on "+strings.Join(paths, ", ")+more)
	}
	sort.Strings(failures)
	if len(failures) > 0 {
		t.Errorf("French wording problems (use the helpers of internal/text; see README.md, Quality gates):\n  %s", strings.Join(failures, "\n  "))
	}
	t.Logf("%d pages read", len(pages))
}

// TestFrenchWordingBites feeds the rules the sentences of issue 20 and checks
// each is caught, and that good French passes.
func TestFrenchWordingBites(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"<p>1 excusé·es</p>", "<p>6 membre(s)</p>", "<p>1 abstention(s)</p>", "<p>Adhésion de <a href=x>Épicerie</a></p>",
		"<p>Invitation de odette@example.org</p>", "<p>l' accessibilité</p>", "<p>critère local .</p>",
		"<h1>Un</h1><h1>Deux</h1>", "<p>selon le avis</p>",
	} {
		if len(wordingProblems([]byte(bad))) == 0 {
			t.Errorf("%s passes the wording gate", bad)
		}
	}
	for _, good := range []string{
		"<h1>Compte rendu</h1><p>1 excusé·e, 3 excusé·es, 6 membres, 1 abstention.</p>", "<p>Adhésion d'<a href=x>Épicerie</a></p>",
		"<p>l'accessibilité, le critère local.</p>", "<p>Le Marché de Pont de Barret, de haricots, 1,5 kg.</p>",
	} {
		if p := wordingProblems([]byte(good)); len(p) > 0 {
			t.Errorf("%s fails the wording gate: %v", good, p)
		}
	}
}
