package assembly

import (
	"math"
	"math/rand"
	"reflect"
	"runtime"
	"testing"
	"time"

	"cla/governance/boussole"
)

func profile(counts map[boussole.Grade]int) MeritProfile {
	var p MeritProfile
	for g, n := range counts {
		p.Counts[g] = n
	}
	return p
}

// The majority value is read by removing one median grade at a time.
func TestMajorityValueRemovesMedians(t *testing.T) {
	t.Parallel()
	// Grades 2, 3, 3, 5, 6: medians 3, then 3 (of 2 3 5 6, lower), 5 (of 2 5 6), 2 (of 2 6), 6.
	p := profile(map[boussole.Grade]int{boussole.Insuffisant: 1, boussole.Passable: 2, boussole.Bien: 1, boussole.TresBien: 1})
	want := []boussole.Grade{boussole.Passable, boussole.Passable, boussole.Bien, boussole.Insuffisant, boussole.TresBien}
	if got := majorityValueByRemoval(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("majority value = %v, want %v", got, want)
	}
	for i, g := range want {
		if got := p.MajorityValueAt(i); got != g {
			t.Fatalf("MajorityValueAt(%d) = %v, want %v", i, got, g)
		}
	}
	if p.Median() != boussole.Passable {
		t.Fatalf("median = %v", p.Median())
	}
}

// Balinski & Laraki's rule on a four-option profile of 100 voters (constructed
// after the "Tennessee capital" example, hand-checked): two options share the
// majority grade and both lean below it; the one with fewer grades below wins.
func TestJudgmentTieBrokenByGauge(t *testing.T) {
	t.Parallel()
	memphis := profile(map[boussole.Grade]int{boussole.Excellent: 42, boussole.ARejeter: 58})
	nashville := profile(map[boussole.Grade]int{boussole.TresBien: 26, boussole.Bien: 42, boussole.AssezBien: 32})
	chattanooga := profile(map[boussole.Grade]int{boussole.TresBien: 15, boussole.Bien: 43, boussole.AssezBien: 42})
	knoxville := profile(map[boussole.Grade]int{boussole.TresBien: 17, boussole.Bien: 15, boussole.AssezBien: 68})
	ps := []MeritProfile{memphis, nashville, chattanooga, knoxville}
	if nashville.Median() != boussole.Bien || chattanooga.Median() != boussole.Bien || knoxville.Median() != boussole.AssezBien || memphis.Median() != boussole.ARejeter {
		t.Fatalf("medians: %v %v %v %v", memphis.Median(), nashville.Median(), chattanooga.Median(), knoxville.Median())
	}
	above, _, below := nashville.Gauge()
	if above != 26 || below != 32 {
		t.Fatalf("nashville gauge = %d/%d", above, below)
	}
	order, tie := rankProfiles(ps)
	if tie || !reflect.DeepEqual(order, []int{1, 2, 3, 0}) {
		t.Fatalf("order = %v (tie %v), want Nashville, Chattanooga, Knoxville, Memphis", order, tie)
	}
}

// Same majority grade: the option whose gauge leans above ("+") beats the one
// leaning below ("−"), even with fewer grades above.
func TestJudgmentPlusBeatsMinus(t *testing.T) {
	t.Parallel()
	a := profile(map[boussole.Grade]int{boussole.Excellent: 3, boussole.Bien: 5, boussole.ARejeter: 2}) // median Bien, 3 above, 2 below: +
	b := profile(map[boussole.Grade]int{boussole.Excellent: 4, boussole.Bien: 2, boussole.Passable: 4}) // median Bien? sorted P P P P B B E E E E: idx 4 = Bien; 4 above, 4 below: −
	if a.Median() != boussole.Bien || b.Median() != boussole.Bien {
		t.Fatalf("medians %v %v", a.Median(), b.Median())
	}
	if compareProfiles(a, b) != 1 || compareProfiles(b, a) != -1 {
		t.Fatalf("a should beat b")
	}
}

// Identical profiles cannot be separated: a tie, and the vote names no winner.
func TestJudgmentExactTie(t *testing.T) {
	t.Parallel()
	a := profile(map[boussole.Grade]int{boussole.TresBien: 2, boussole.Passable: 2})
	b := profile(map[boussole.Grade]int{boussole.TresBien: 2, boussole.Passable: 2})
	c := profile(map[boussole.Grade]int{boussole.Insuffisant: 4})
	order, tie := rankProfiles([]MeritProfile{a, b, c})
	if !tie || order[2] != 2 {
		t.Fatalf("order %v tie %v", order, tie)
	}
	v := &Vote{Method: MethodJudgment, Options: []VoteOption{{Label: "a"}, {Label: "b"}, {Label: "c"}}}
	tally := &VoteTally{Profiles: []MeritProfile{a, b, c}}
	if out, w := tally.Decide(v); out != "rejete" || w != nil || !tally.Tie {
		t.Fatalf("decide = %s %v tie %v", out, w, tally.Tie)
	}
}

// Medians that differ decide alone; several successive removals may be needed
// when the profiles share their first majority grades.
func TestJudgmentDeepTieBreak(t *testing.T) {
	t.Parallel()
	// a: 3 3 4 4 6 -> values 4,3,4,3,6 ; b: 3 3 4 4 5 -> 4,3,4,3,5: a wins at the last step.
	a := profile(map[boussole.Grade]int{boussole.Passable: 2, boussole.AssezBien: 2, boussole.TresBien: 1})
	b := profile(map[boussole.Grade]int{boussole.Passable: 2, boussole.AssezBien: 2, boussole.Bien: 1})
	if compareProfiles(a, b) != 1 {
		t.Fatalf("a should beat b: %v vs %v", majorityValueByRemoval(a), majorityValueByRemoval(b))
	}
}

// gaugeCompare is Balinski & Laraki's majority-gauge rule, written separately:
// 0 when the gauge cannot decide.
func gaugeCompare(a, b MeritProfile) int {
	pa, ma, qa := a.Gauge()
	pb, mb, qb := b.Gauge()
	if ma != mb {
		if ma > mb {
			return 1
		}
		return -1
	}
	plusA, plusB := pa > qa, pb > qb
	switch {
	case plusA && !plusB:
		return 1
	case !plusA && plusB:
		return -1
	case plusA && plusB && pa != pb:
		if pa > pb {
			return 1
		}
		return -1
	case !plusA && !plusB && qa != qb && pa != qa && pb != qb:
		if qa < qb {
			return 1
		}
		return -1
	}
	return 0
}

// On random profiles of the same size, removing medians agrees with the
// majority gauge whenever the gauge decides (Balinski & Laraki's theorem).
func TestJudgmentAgreesWithGauge(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(7))
	decided := 0
	for i := 0; i < 3000; i++ {
		n := 1 + r.Intn(30)
		var a, b MeritProfile
		for j := 0; j < n; j++ {
			a.Counts[1+r.Intn(7)]++
			b.Counts[1+r.Intn(7)]++
		}
		g := gaugeCompare(a, b)
		if g == 0 {
			continue
		}
		decided++
		if c := compareProfiles(a, b); c != g {
			t.Fatalf("profiles %v %v: majority value says %d, gauge %d", a.Counts, b.Counts, c, g)
		}
	}
	if decided < 1000 {
		t.Fatalf("only %d decided cases", decided)
	}
}

// The published example of Wikipedia's "Condorcet criterion" article (majority
// judgment section): 100 voters on the scale excellent, good, fair, poor.
// 35 rate A excellent, B fair, C poor; 34 rate C excellent, B fair, A poor; 31
// rate B excellent, C good, A fair. C wins with "good" although B is the
// Condorcet winner. A and B share "fair": A's gauge (35 above, 34 below) beats
// B's (31 above, 0 below) because more grades lie above it.
func TestJudgmentPublishedCondorcetExample(t *testing.T) {
	t.Parallel()
	excellent, good, fair, poor := boussole.Excellent, boussole.Bien, boussole.Passable, boussole.Insuffisant
	a := profile(map[boussole.Grade]int{excellent: 35, poor: 34, fair: 31})
	b := profile(map[boussole.Grade]int{fair: 35 + 34, excellent: 31})
	c := profile(map[boussole.Grade]int{poor: 35, excellent: 34, good: 31})
	if a.Median() != fair || b.Median() != fair || c.Median() != good {
		t.Fatalf("medians %v %v %v", a.Median(), b.Median(), c.Median())
	}
	order, tie := rankProfiles([]MeritProfile{a, b, c})
	if tie || !reflect.DeepEqual(order, []int{2, 0, 1}) {
		t.Fatalf("order %v (tie %v), want C, A, B", order, tie)
	}
}

// majorityValueByRemoval is the majority value as its definition states it:
// take the majority grade, remove one grade equal to it, repeat. It builds the
// whole sequence, one element per grade: a reference for small profiles only.
func majorityValueByRemoval(p MeritProfile) []boussole.Grade {
	c := p.Counts
	n := p.Total()
	out := make([]boussole.Grade, 0, n)
	for ; n > 0; n-- {
		idx, seen := (n-1)/2, 0
		for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
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

// compareByRemoval compares two profiles by their majority values built in
// full, as CompareProfiles did before it compared runs; profiles of unequal
// sizes are first scaled to the least common multiple of their sizes (the
// same shares), as the rule says.
func compareByRemoval(a, b MeritProfile) int {
	if na, nb := a.Total(), b.Total(); na > 0 && nb > 0 && na != nb {
		l := na / gcd(na, nb) * nb
		for g := range a.Counts {
			a.Counts[g] *= l / na
			b.Counts[g] *= l / nb
		}
	}
	va, vb := majorityValueByRemoval(a), majorityValueByRemoval(b)
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

// randomProfile draws a small profile: a few grades, often concentrated on
// two or three of them (the alternating cases), sometimes empty.
func randomProfile(r *rand.Rand) MeritProfile {
	var p MeritProfile
	grades := 1 + r.Intn(7)
	for k := 0; k < grades; k++ {
		p.Counts[1+r.Intn(7)] += r.Intn(12)
	}
	return p
}

// On random small profiles, the majority value read by position and the
// comparison by runs give exactly what the definition gives (remove one
// median grade at a time, compare the sequences built in full), including
// profiles of different sizes and empty ones.
func TestJudgmentRunsMatchTheDefinition(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(2026))
	for k := 0; k < 20000; k++ {
		a, b := randomProfile(r), randomProfile(r)
		if k%3 == 0 { // same size, as in a vote where every member grades every option
			b = a
			for moves := r.Intn(4); moves > 0; moves-- {
				from, to := boussole.Grade(1+r.Intn(7)), boussole.Grade(1+r.Intn(7))
				if b.Counts[from] > 0 {
					b.Counts[from]--
					b.Counts[to]++
				}
			}
		}
		if got, want := compareProfiles(a, b), compareByRemoval(a, b); got != want {
			t.Fatalf("CompareProfiles(%v, %v) = %d, the definition gives %d", a.Counts, b.Counts, got, want)
		}
		for i, g := range majorityValueByRemoval(a) {
			if got := a.MajorityValueAt(i); got != g {
				t.Fatalf("profile %v: MajorityValueAt(%d) = %v, want %v", a.Counts, i, got, g)
			}
		}
		if got := a.MajorityValueAt(a.Total()); got != boussole.NoOpinion {
			t.Fatalf("profile %v: a step past the end gives %v", a.Counts, got)
		}
	}
}

// Counts near MaxInt32 (and far beyond) are compared at once, with no memory
// in proportion to them: the definition would build sequences of billions of
// grades.
func TestJudgmentHugeCountsReturnQuickly(t *testing.T) {
	t.Parallel()
	const big = math.MaxInt32
	// Alternating: two grades only, equal counts, the worst case of one
	// element per run; b differs from a by its best grade, read last.
	a := profile(map[boussole.Grade]int{boussole.Passable: big, boussole.Bien: big})
	b := profile(map[boussole.Grade]int{boussole.Passable: big, boussole.Bien: big - 1, boussole.TresBien: 1})
	c := profile(map[boussole.Grade]int{boussole.ARejeter: 1_000_000_000_000, boussole.Excellent: 1_000_000_000_000, boussole.AssezBien: 3})
	d := profile(map[boussole.Grade]int{boussole.ARejeter: 1_000_000_000_000, boussole.Excellent: 1_000_000_000_000, boussole.AssezBien: 2, boussole.Bien: 1})
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for k := 0; k < 1000; k++ {
		if compareProfiles(a, b) != -1 || compareProfiles(b, a) != 1 || compareProfiles(a, a) != 0 {
			t.Fatal("a one-grade difference at the end of two billion grades was missed")
		}
		if compareProfiles(c, d) != -1 || compareProfiles(d, c) != 1 {
			t.Fatal("a difference at the median of two trillion grades was missed")
		}
	}
	if order, tie := rankProfiles([]MeritProfile{a, b, c, d}); tie || !reflect.DeepEqual(order, []int{3, 2, 1, 0}) {
		t.Fatalf("ranking of huge profiles: %v (tie %v)", order, tie)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("5000 comparisons of huge profiles took %v", elapsed)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Fatalf("comparisons allocated %d bytes", grown)
	}
	if a.Median() != boussole.Passable || c.Median() != boussole.AssezBien || a.MajorityValueAt(2*big-1) != boussole.Bien {
		t.Fatalf("medians %v %v, last of a %v", a.Median(), c.Median(), a.MajorityValueAt(2*big-1))
	}
}
