package governance

import "sort"

// MeritProfile is one option's grades in a majority-judgment vote: Counts[g] is
// how many voters gave grade g (1 = À rejeter … 7 = Excellent). Index 0 is unused.
type MeritProfile struct {
	Counts [Excellent + 1]int `json:"counts"`
}

// Total is the number of grades in the profile.
func (p MeritProfile) Total() int {
	n := 0
	for g := ARejeter; g <= Excellent; g++ {
		n += p.Counts[g]
	}
	return n
}

// Median is the majority grade: the lower median of the grades (Balinski &
// Laraki), or NoOpinion for an empty profile.
func (p MeritProfile) Median() Grade {
	t := Tally(p)
	t.Counts[NoOpinion] = 0
	return t.Majority()
}

// Gauge is the majority gauge (p, α, q): the number of grades above and below
// the majority grade α.
func (p MeritProfile) Gauge() (above int, median Grade, below int) {
	median = p.Median()
	if median == NoOpinion {
		return 0, median, 0
	}
	for g := ARejeter; g <= Excellent; g++ {
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
func (p MeritProfile) Share(g Grade) int {
	n := p.Total()
	if n == 0 || g < ARejeter || g > Excellent {
		return 0
	}
	return (p.Counts[g]*100 + n/2) / n
}

// MajorityValue is the sequence of majority grades obtained by taking the
// majority grade, removing one grade equal to it, and repeating until no grade
// is left. Two options compare by their majority values, lexicographically:
// this is majority judgment's tie-breaking ("remove median grades one at a time").
func (p MeritProfile) MajorityValue() []Grade {
	c := p.Counts
	n := p.Total()
	out := make([]Grade, 0, n)
	for ; n > 0; n-- {
		idx, seen := (n-1)/2, 0
		for g := ARejeter; g <= Excellent; g++ {
			seen += c[g]
			if seen > idx {
				out = append(out, g)
				c[g]--
				break
			}
		}
	}
	return out
}

// CompareProfiles orders two merit profiles by majority judgment: +1 when a is
// ranked above b, -1 when below, 0 when they are tied (identical majority
// values, which means identical profiles for equal numbers of grades).
func CompareProfiles(a, b MeritProfile) int {
	va, vb := a.MajorityValue(), b.MajorityValue()
	for i := 0; i < len(va) && i < len(vb); i++ {
		switch {
		case va[i] > vb[i]:
			return 1
		case va[i] < vb[i]:
			return -1
		}
	}
	return 0
}

// RankProfiles returns the indexes of profiles from the best to the worst by
// majority judgment, and whether the first two are tied (a tie the rule cannot
// break: the order between tied options is their position).
func RankProfiles(profiles []MeritProfile) (order []int, tiedFirst bool) {
	order = make([]int, len(profiles))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		return CompareProfiles(profiles[order[i]], profiles[order[j]]) > 0
	})
	if len(order) > 1 {
		tiedFirst = CompareProfiles(profiles[order[0]], profiles[order[1]]) == 0
	}
	return order, tiedFirst
}
