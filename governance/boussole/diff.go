package boussole

import (
	"strconv"
	"strings"
)

// CriterionDiff is what changed for one criterion between two boussole
// versions.
type CriterionDiff struct {
	Action string // "ajout", "retrait" or "modification"
	Name   string // the criterion's name in the newer version (older when removed)
	Fields []FieldDiff
}

// What names the action in French.
func (d CriterionDiff) What() string {
	switch d.Action {
	case "ajout":
		return "Ajouté"
	case "retrait":
		return "Retiré"
	}
	return "Modifié"
}

// FieldDiff is one field's change, with its word-level diff.
type FieldDiff struct {
	Field string // French: "Nom", "Question", "Description", "Pilier", "Rang"
	From  string
	To    string
	Words []WordOp
}

// WordOp is a run of words kept, removed or added.
type WordOp struct {
	Op   string // "=", "-" or "+"
	Text string
}

// Kept, Removed and Added tell templates what a WordOp is.
func (w WordOp) Kept() bool { return w.Op == "=" }

// Removed reports whether the words were removed.
func (w WordOp) Removed() bool { return w.Op == "-" }

// Added reports whether the words were added.
func (w WordOp) Added() bool { return w.Op == "+" }

type flatCriterion struct {
	Criterion
	rank int
}

func flatten(b *Boussole) []flatCriterion {
	var out []flatCriterion
	for _, g := range b.Groups {
		for _, c := range g.Criteria {
			out = append(out, flatCriterion{Criterion: c, rank: len(out) + 1})
		}
	}
	return out
}

// Diff lists what changed from version a to version b: criteria are matched
// by name (ignoring case); a criterion removed and another added at the same
// rank, sharing a word of their names or their description, are one
// criterion reworded. Lines follow b's order, removals last.
func Diff(a, b *Boussole) []CriterionDiff {
	before, after := flatten(a), flatten(b)
	matchOf := map[int]int{} // index in after → index in before
	usedBefore := map[int]bool{}
	byName := map[string]int{}
	for i, c := range before {
		byName[strings.ToLower(strings.TrimSpace(c.Name))] = i
	}
	for j, c := range after {
		if i, ok := byName[strings.ToLower(strings.TrimSpace(c.Name))]; ok && !usedBefore[i] {
			matchOf[j], usedBefore[i] = i, true
		}
	}
	for j, c := range after {
		if _, ok := matchOf[j]; ok {
			continue
		}
		for i, o := range before {
			if !usedBefore[i] && o.rank == c.rank && related(o.Criterion, c.Criterion) {
				matchOf[j], usedBefore[i] = i, true
				break
			}
		}
	}
	var out []CriterionDiff
	for j, c := range after {
		i, ok := matchOf[j]
		if !ok {
			out = append(out, CriterionDiff{Action: "ajout", Name: c.Name})
			continue
		}
		o := before[i]
		var fields []FieldDiff
		add := func(name, from, to string, words bool) {
			if from == to {
				return
			}
			fd := FieldDiff{Field: name, From: from, To: to}
			if words {
				fd.Words = WordDiff(from, to)
			}
			fields = append(fields, fd)
		}
		add("Nom", o.Name, c.Name, true)
		add("Question", o.Question, c.Question, true)
		add("Description", o.Description, c.Description, true)
		add("Pilier", o.Pillar.Label(), c.Pillar.Label(), false)
		add("Rang", strconv.Itoa(o.rank), strconv.Itoa(c.rank), false)
		if len(fields) > 0 {
			out = append(out, CriterionDiff{Action: "modification", Name: c.Name, Fields: fields})
		}
	}
	for i, o := range before {
		if !usedBefore[i] {
			out = append(out, CriterionDiff{Action: "retrait", Name: o.Name})
		}
	}
	return out
}

// WordDiff compares two texts word by word (longest common subsequence) and
// returns runs of kept, removed and added words.
func WordDiff(from, to string) []WordOp {
	a, b := strings.Fields(from), strings.Fields(to)
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []WordOp
	emit := func(op, word string) {
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += " " + word
			return
		}
		out = append(out, WordOp{Op: op, Text: word})
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			emit("=", a[i])
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			emit("-", a[i])
			i++
		default:
			emit("+", b[j])
			j++
		}
	}
	for ; i < len(a); i++ {
		emit("-", a[i])
	}
	for ; j < len(b); j++ {
		emit("+", b[j])
	}
	return out
}

// related reports whether two criteria look like one reworded: a word of four
// letters or more in both names, or the same description.
func related(a, b Criterion) bool {
	if a.Description != "" && a.Description == b.Description {
		return true
	}
	words := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(a.Name)) {
		if len([]rune(w)) >= 4 {
			words[w] = true
		}
	}
	for _, w := range strings.Fields(strings.ToLower(b.Name)) {
		if words[w] {
			return true
		}
	}
	return false
}
