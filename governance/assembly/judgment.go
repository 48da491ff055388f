package assembly

import (
	"cla/governance/boussole"
	"slices"
	"sort"
)

// MeritProfile is one option's grades in a majority-judgment vote: Counts[g] is
// how many voters gave grade g (1 = À rejeter … 7 = Excellent). Index 0 is unused.
type MeritProfile struct {
	Counts [boussole.Excellent + 1]int `json:"counts"`
}

// Total is the number of grades in the profile.
func (p MeritProfile) Total() int {
	n := 0
	for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
		n += p.Counts[g]
	}
	return n
}

// Median is the majority grade: the lower median of the grades (Balinski &
// Laraki), or NoOpinion for an empty profile.
func (p MeritProfile) Median() boussole.Grade {
	t := boussole.Tally(p)
	t.Counts[boussole.NoOpinion] = 0
	return t.Majority()
}

// Gauge is the majority gauge (p, α, q): the number of grades above and below
// the majority grade α.
func (p MeritProfile) Gauge() (above int, median boussole.Grade, below int) {
	median = p.Median()
	if median == boussole.NoOpinion {
		return 0, median, 0
	}
	for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
		switch {
		case g > median:
			above += p.Counts[g]
		case g < median:
			below += p.Counts[g]
		}
	}
	return above, median, below
}

// Share is the percentage (0–100, rounded) of the profile's grades equal to g.
func (p MeritProfile) Share(g boussole.Grade) int {
	n := p.Total()
	if n == 0 || g < boussole.ARejeter || g > boussole.Excellent {
		return 0
	}
	return (p.Counts[g]*100 + n/2) / n
}

// The majority value of a profile is the sequence of majority grades obtained
// by taking the majority grade, removing one grade equal to it, and repeating
// until no grade is left; two options compare by their majority values,
// lexicographically (majority judgment's tie-breaking, "remove median grades
// one at a time").
//
// The sequence is never built: its length is the number of grades, which an
// in-room count makes as large as anyone types. Removing lower medians one at
// a time reads the sorted grades from the middle outwards, alternating below
// and above: with n = 2m+1 grades, sorted positions m, m-1, m+1, m-2, m+2…;
// with n = 2m, positions m-1, m, m-2, m+1… So the i-th element is found in
// O(grades) (MajorityValueAt), and between the few steps where either side
// crosses from one grade to the next, the sequence repeats a pattern of period
// two: comparing two profiles compares those runs (CompareProfiles), in
// O(grades) time and memory whatever the counts.

// gradeAt is the grade at a position of the profile's grades sorted from the
// worst to the best (0 ≤ pos < Total()).
func (p MeritProfile) gradeAt(pos int) boussole.Grade {
	seen := 0
	for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
		seen += p.Counts[g]
		if seen > pos {
			return g
		}
	}
	return boussole.NoOpinion
}

// valuePosition is the sorted position read at step i of the majority value
// of n grades (0 ≤ i < n).
func valuePosition(n, i int) int {
	m := n / 2
	switch {
	case n%2 == 1 && i%2 == 0: // m, m+1, m+2… (with n = 2m+1)
		return m + i/2
	case n%2 == 1: // m-1, m-2…
		return m - (i+1)/2
	case i%2 == 0: // m-1, m-2… (with n = 2m)
		return m - 1 - i/2
	default: // m, m+1…
		return m + (i-1)/2
	}
}

// valueStep is the step at which the majority value of n grades reads sorted
// position pos (the inverse of valuePosition).
func valueStep(n, pos int) int {
	m := n / 2
	switch {
	case n%2 == 1 && pos >= m:
		return 2 * (pos - m)
	case n%2 == 1:
		return 2*(m-pos) - 1
	case pos < m:
		return 2 * (m - 1 - pos)
	default:
		return 2*(pos-m) + 1
	}
}

// MajorityValueAt is the i-th element of the majority value (0-based), or
// NoOpinion when i is out of range.
func (p MeritProfile) MajorityValueAt(i int) boussole.Grade {
	n := p.Total()
	if i < 0 || i >= n {
		return boussole.NoOpinion
	}
	return p.gradeAt(valuePosition(n, i))
}

// valueBreaks adds to steps the steps of the majority value around which an
// element may differ from the one two steps before: where the sorted position
// read crosses from one grade to the next, below or above the middle.
func (p MeritProfile) valueBreaks(steps []int) []int {
	n := p.Total()
	seen := 0
	for g := boussole.ARejeter; g < boussole.Excellent; g++ {
		seen += p.Counts[g]
		if seen <= 0 || seen >= n {
			continue
		}
		// The grade changes between sorted positions seen-1 and seen.
		for _, pos := range [2]int{seen - 1, seen} {
			i := valueStep(n, pos)
			steps = append(steps, i, i+1, i+2)
		}
	}
	return steps
}

// compareProfiles orders two merit profiles by majority judgment: +1 when a is
// ranked above b, -1 when below, 0 when they are tied (identical majority
// values, which means identical profiles for equal numbers of grades). When
// one majority value is a prefix of the other, they are tied.
func compareProfiles(a, b MeritProfile) int {
	n := min(a.Total(), b.Total())
	if n <= 0 {
		return 0
	}
	// Between two consecutive breaks, each sequence repeats a pattern of
	// period two: comparing the first two steps of a run compares the run.
	steps := b.valueBreaks(a.valueBreaks(make([]int, 0, 40)))
	steps = append(steps, 0, 1, 2, n)
	slices.Sort(steps)
	for k, s := range steps {
		if s >= n {
			break
		}
		if k+1 < len(steps) && steps[k+1] == s {
			continue
		}
		for i := s; i < s+2 && i < n; i++ {
			va, vb := a.MajorityValueAt(i), b.MajorityValueAt(i)
			switch {
			case va > vb:
				return 1
			case va < vb:
				return -1
			}
		}
	}
	return 0
}

// rankProfiles returns the indexes of profiles from the best to the worst by
// majority judgment, and whether the first two are tied (a tie the rule cannot
// break: the order between tied options is their position).
func rankProfiles(profiles []MeritProfile) (order []int, tiedFirst bool) {
	order = make([]int, len(profiles))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		return compareProfiles(profiles[order[i]], profiles[order[j]]) > 0
	})
	if len(order) > 1 {
		tiedFirst = compareProfiles(profiles[order[0]], profiles[order[1]]) == 0
	}
	return order, tiedFirst
}
