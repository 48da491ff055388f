package proposal

import (
	"cla/governance/boussole"
	"strings"
	"testing"
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
