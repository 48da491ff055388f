package proposal

import (
	"strings"
	"testing"

	"cla/governance/boussole"
	"cla/internal/web"
)

// The results table escapes what members wrote (names, comments) and the
// boussole's wording, and shows each grade's share.
func TestResultsRowsEscapesAndCounts(t *testing.T) {
	c := boussole.Criterion{ID: 7, Position: 1, Name: `Prix <juste> & "local"`}
	var tally boussole.Tally
	tally.Add(boussole.Excellent)
	tally.Add(boussole.Bien)
	tally.Add(boussole.NoOpinion)
	r := &Results{Groups: []GroupResult{{Group: boussole.CriterionGroup{Name: "Pour l'<b>eau</b>"}, Graders: 3, Tally: tally,
		Criteria: []CriterionResult{{Criterion: c, Tally: tally, Answers: 3}}}}}
	details := map[int64][]criterionDetail{7: {
		{Name: `<img src=x onerror=alert(1)>`, Grade: boussole.Excellent, Comment: `<script>alert("x")</script>`},
		{Name: "Paul", Grade: boussole.Bien},
	}}
	out := string(resultsRows(r, details))
	for _, bad := range []string{"<script>", "<img", "<b>", "<juste>"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in %s", bad, out)
		}
	}
	for _, want := range []string{
		"Pour l&#39;&lt;b&gt;eau&lt;/b&gt;",
		"1. Prix &lt;juste&gt; &amp; &#34;local&#34;",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		`<li class="g7">Excellent : 1 (50 %)</li>`,
		`<li class="g0">Sans avis : 1</li>`,
		"2 notes, 1 sans avis",
		"3 membres",
		`<details class="individual">`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %s", want, out)
		}
	}
	// Without details (visitors), no individual grades.
	if out := string(resultsRows(r, nil)); strings.Contains(out, "individual") {
		t.Errorf("individual grades shown without details: %s", out)
	}
}

// resultsHostile is text a member could type: markup, quotes, ampersands, unicode.
const resultsHostile = `<script>alert("x")</script> & 'Œufs' — « bio » + 🐝`

// resultsRows writes what its template twin governance/results-rows writes,
// with and without the individual grades, for graded, ungraded and
// disagreeing criteria, with hostile text escaped the same way.
func TestResultsRowsMatchesItsTemplate(t *testing.T) {
	var split, none, onlyNoOpinion boussole.Tally
	for _, g := range []boussole.Grade{boussole.Excellent, boussole.ARejeter, boussole.Excellent, boussole.ARejeter, boussole.NoOpinion} {
		split.Add(g)
	}
	onlyNoOpinion.Add(boussole.NoOpinion)
	var one boussole.Tally
	one.Add(boussole.Bien)
	r := &Results{Groups: []GroupResult{
		{Group: boussole.CriterionGroup{Name: "Groupe " + resultsHostile}, Graders: 5, Tally: split, Criteria: []CriterionResult{
			{Criterion: boussole.Criterion{ID: 1, Position: 1, Name: "Critère " + resultsHostile}, Tally: split},
			{Criterion: boussole.Criterion{ID: 2, Position: 2, Name: "Prix"}, Tally: none},
			{Criterion: boussole.Criterion{ID: 3, Position: 3, Name: "Eau"}, Tally: onlyNoOpinion},
		}},
		{Group: boussole.CriterionGroup{Name: "Seul"}, Graders: 1, Tally: one, Criteria: []CriterionResult{
			{Criterion: boussole.Criterion{ID: 4, Position: 4, Name: "Sol"}, Tally: one},
		}},
	}}
	details := map[int64][]criterionDetail{
		1: {{Name: resultsHostile, Grade: boussole.Excellent, Comment: "Commentaire " + resultsHostile}, {Name: "Paul", Grade: boussole.ARejeter}},
		4: {{Name: "Zoé", Grade: boussole.NoOpinion}},
	}
	for _, d := range []map[int64][]criterionDetail{details, nil} {
		var want strings.Builder
		if err := web.ExecuteTemplate(&want, "governance/results-rows", map[string]any{"Results": r, "Details": d}); err != nil {
			t.Fatal(err)
		}
		got := string(resultsRows(r, d))
		g, w := strings.Join(strings.Fields(got), " "), strings.Join(strings.Fields(want.String()), " ")
		if g != w {
			t.Errorf("details %v:\nGo writer %s\ntemplate  %s", d != nil, g, w)
		}
		if strings.Contains(got, "<script>") {
			t.Errorf("unescaped text in %s", got)
		}
	}
}
