package proposal

import "cla/governance/boussole"

// CriterionResult is the aggregate of one criterion.
type CriterionResult struct {
	Criterion boussole.Criterion
	Tally     boussole.Tally
	Answers   int // members who answered, "sans avis" included
}

// GroupResult is the aggregate of a group of criteria: its criteria, and the
// grades of all of them pooled together.
type GroupResult struct {
	Group    boussole.CriterionGroup
	Criteria []CriterionResult
	Tally    boussole.Tally
	Graders  int // distinct members who answered at least one of the group's criteria
}

// Results is a proposal's aggregate against one boussole version.
type Results struct {
	Boussole *boussole.Boussole
	Groups   []GroupResult
	Overall  boussole.Tally // every grade of every criterion, pooled
	Graders  int            // distinct members who answered at least one criterion
	// OtherVersions counts scores given against other boussole versions, by
	// version id: they stay attached to the version they used and are not mixed in.
	OtherVersions map[int64]int
}

// Aggregate computes a proposal's results against the boussole b from its scores
// (of any version; scores of other versions are counted apart). Pure: no query.
func Aggregate(b *boussole.Boussole, scores []Score) *Results {
	r := &Results{Boussole: b, OtherVersions: map[int64]int{}}
	byCriterion := map[int64]*boussole.Tally{}
	answered := map[int64]map[int64]bool{} // criterion -> accounts
	for _, s := range scores {
		if s.BoussoleVersionID != b.Version.ID {
			r.OtherVersions[s.BoussoleVersionID]++
			continue
		}
		t := byCriterion[s.CriterionID]
		if t == nil {
			t = &boussole.Tally{}
			byCriterion[s.CriterionID] = t
			answered[s.CriterionID] = map[int64]bool{}
		}
		t.Add(s.Grade)
		answered[s.CriterionID][s.AccountID] = true
	}
	everyone := map[int64]bool{}
	for _, g := range b.Groups {
		gr := GroupResult{Group: g}
		inGroup := map[int64]bool{}
		for _, c := range g.Criteria {
			cr := CriterionResult{Criterion: c}
			if t := byCriterion[c.ID]; t != nil {
				cr.Tally = *t
			}
			cr.Answers = len(answered[c.ID])
			for a := range answered[c.ID] {
				inGroup[a], everyone[a] = true, true
			}
			gr.Tally.Merge(cr.Tally)
			gr.Criteria = append(gr.Criteria, cr)
		}
		gr.Graders = len(inGroup)
		r.Overall.Merge(gr.Tally)
		r.Groups = append(r.Groups, gr)
	}
	r.Graders = len(everyone)
	return r
}

// Majorities lists the majority grade of every criterion, in boussole order:
// the radar's values.
func (r *Results) Majorities() []boussole.Grade {
	var out []boussole.Grade
	for _, g := range r.Groups {
		for _, c := range g.Criteria {
			out = append(out, c.Tally.Majority())
		}
	}
	return out
}

// OtherVersionScores is how many scores were given against other boussole versions.
func (r *Results) OtherVersionScores() int {
	n := 0
	for _, c := range r.OtherVersions {
		n += c
	}
	return n
}
