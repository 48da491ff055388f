package proposal

import (
	"html/template"

	"cla/governance/boussole"
	"cla/internal/web"
)

// resultsRows renders the body of a proposal's results table: for each group
// of the boussole, the group's pooled row and one row per criterion, with the
// distribution of grades and, when details is not nil, each member's grade and
// comment. A proposal graded by the whole council has a few hundred such
// cells: written with web.Fragment rather than html/template, which would spend
// most of the page's time on them (docs/perf.md). Its template twin,
// governance/results-rows (templates/governance/proposal_results.html), holds
// the same markup; a test renders both and compares them: change both together.
func resultsRows(r *Results, details map[int64][]criterionDetail) template.HTML {
	var f web.Fragment
	f.Grow(4096 + 160*len(details)*8)
	for _, g := range r.Groups {
		f.Tag("\n      <tbody>\n        <tr class=\"group-row\"><th scope=\"row\">").Text(g.Group.Name).
			Tag(" <span class=\"muted\">(ensemble du groupe)</span></th>\n          <td>")
		majorityCell(&f, g.Tally)
		f.Tag("</td>\n          <td>").Int(g.Graders).Tag(" membre")
		if g.Graders > 1 {
			f.Tag("s")
		}
		f.Tag("</td>\n          <td>")
		distribution(&f, g.Tally)
		f.Tag("</td></tr>")
		for _, c := range g.Criteria {
			f.Tag("\n        <tr><th scope=\"row\">").Int(c.Criterion.Position).Tag(". ").Text(c.Criterion.Name).
				Tag("</th>\n          <td>")
			majorityCell(&f, c.Tally)
			graded := c.Tally.Graded()
			f.Tag("</td>\n          <td>").Int(graded).Tag(" note")
			if graded > 1 {
				f.Tag("s")
			}
			if n := c.Tally.NoOpinions(); n > 0 {
				f.Tag(", ").Int(n).Tag(" sans avis")
			}
			f.Tag("</td>\n          <td>")
			distribution(&f, c.Tally)
			if ds := details[c.Criterion.ID]; len(ds) > 0 {
				f.Tag("\n            <details class=\"individual\"><summary>Notes individuelles</summary>\n              <ul>")
				for _, d := range ds {
					f.Tag("<li>").Text(d.Name).Tag(" : ")
					gradeSpan(&f, d.Grade, d.Grade.Label())
					if d.Comment != "" {
						f.Tag(" — ").Text(d.Comment)
					}
					f.Tag("</li>")
				}
				f.Tag("</ul>\n            </details>")
			}
			f.Tag("</td></tr>")
		}
		f.Tag("\n      </tbody>")
	}
	return f.HTML()
}

// majorityCell writes a tally's majority grade ("—" before any grade) and
// whether the grades disagree.
func majorityCell(f *web.Fragment, t boussole.Tally) {
	label := "—"
	if t.Graded() > 0 {
		label = t.Majority().Label()
	}
	gradeSpan(f, t.Majority(), label)
	if t.Disagreement() {
		f.Tag(" <span class=\"disagreement\">désaccord</span>")
	}
}

// gradeSpan writes label in a span styled as grade g.
func gradeSpan(f *web.Fragment, g boussole.Grade, label string) {
	f.Tag("<span class=\"grade ").Text(g.Class()).Tag("\">").Text(label).Tag("</span>")
}

// distribution writes the counts of each grade given, with their shares.
func distribution(f *web.Fragment, t boussole.Tally) {
	if t.Graded() == 0 && t.NoOpinions() == 0 {
		f.Tag("<span class=\"muted\">Pas encore de note</span>")
		return
	}
	f.Tag("<ul class=\"distribution\">")
	for _, d := range t.Distribution() {
		if d.Count == 0 {
			continue
		}
		f.Tag("<li class=\"").Text(d.Grade.Class()).Tag("\">").Text(d.Grade.Label()).Tag(" : ").Int(d.Count)
		if d.Grade != boussole.NoOpinion {
			f.Tag(" (").Int(d.Share).Tag(" %)")
		}
		f.Tag("</li>")
	}
	f.Tag("</ul>")
}
