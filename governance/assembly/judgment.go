package assembly

import (
	"math/bits"
	"slices"
	"sort"

	"cla/governance/boussole"
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
// values, which means identical profiles for equal numbers of grades).
//
// Profiles with unequal numbers of grades (counts typed in the room, where
// not every member graded every option) are compared by their shares: each
// is scaled to a common number of grades, the least common multiple of the
// two totals, so that a grade given by 2 of 3 members weighs what 4 of 6
// weigh; the scaled profiles are then compared as above. Two profiles with
// the same shares are tied; one is never ahead merely for having more or
// fewer grades (docs/decisions.md, "Majority judgment with unequal numbers
// of grades"). A profile with no grade at all is tied with any other: it is
// ranked by its position, and Decide adopts no empty winner.
func compareProfiles(a, b MeritProfile) int {
	if a.Total() <= 0 || b.Total() <= 0 {
		return 0
	}
	a, b = toCommonTotal(a, b)
	n := a.Total()
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

// maxScaledTotal bounds the common total of two scaled profiles, so that the
// positions and steps computed on it (at most twice the total) stay within
// an int64.
const maxScaledTotal = 1 << 61

// toCommonTotal scales a and b to the same number of grades: the least
// common multiple of their totals, each count multiplied by the same factor
// (exact shares). When that multiple is too large to count in, the counts are
// scaled to maxScaledTotal/2 grades rounded to the nearest, the shares then
// exact to within one part in 2^60 (totals beyond any council's size).
func toCommonTotal(a, b MeritProfile) (MeritProfile, MeritProfile) {
	na, nb := a.Total(), b.Total()
	if na == nb {
		return a, b
	}
	g := gcd(na, nb)
	fa, fb := nb/g, na/g // the factors: lcm/na, lcm/nb
	if hi, lo := bits.Mul64(uint64(na), uint64(fa)); hi == 0 && lo <= maxScaledTotal {
		return scale(a, fa), scale(b, fb)
	}
	return rescale(a, maxScaledTotal/2), rescale(b, maxScaledTotal/2)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// scale multiplies every count of p by f (the caller checked the total fits).
func scale(p MeritProfile, f int) MeritProfile {
	for g := range p.Counts {
		p.Counts[g] *= f
	}
	return p
}

// rescale gives p about total grades in the same shares: each count is
// rounded from its share of total, through its cumulative count so that the
// rounded counts add up to exactly total.
func rescale(p MeritProfile, total int) MeritProfile {
	n := p.Total()
	var out MeritProfile
	cum, prev := 0, 0
	for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
		cum += p.Counts[g]
		// cum/n of total, computed in 128 bits: round(cum × total / n).
		hi, lo := bits.Mul64(uint64(cum), uint64(total))
		q, r := bits.Div64(hi, lo, uint64(n))
		if 2*r >= uint64(n) {
			q++
		}
		out.Counts[g] = int(q) - prev
		prev = int(q)
	}
	return out
}
