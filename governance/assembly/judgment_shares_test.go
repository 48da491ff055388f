package assembly

import (
	"math"
	"reflect"
	"testing"

	"cla/governance/boussole"
)

// Majority judgment with unequal numbers of grades (in-room counts where not
// every member graded every option) compares shares, worked by hand:
func TestJudgmentUnequalTotalsCompareShares(t *testing.T) {
	t.Parallel()
	B, TB, P, I, E, R := boussole.Bien, boussole.TresBien, boussole.Passable, boussole.Insuffisant, boussole.Excellent, boussole.ARejeter
	for _, c := range []struct {
		name string
		a, b MeritProfile
		want int
	}{
		// A: one "Bien" (majority value B); B: Bien, Bien, Passable (B, P, B).
		// A's value was a prefix of B's: once a tie kept in input order. In
		// shares A is 100 % Bien, B 67 % Bien and 33 % Passable: A ahead.
		{"prefix, one grade", profile(map[boussole.Grade]int{B: 1}), profile(map[boussole.Grade]int{B: 2, P: 1}), 1},
		// A: Bien, Très bien (50/50), value B, TB. B: Passable, Bien, Très
		// bien, Très bien, value B, TB, P, TB: a prefix again. Scaled to 4
		// grades A is B, B, TB, TB, value B, TB, B, TB: A ahead (no grade
		// below Bien, where B has a quarter).
		{"prefix, two grades", profile(map[boussole.Grade]int{B: 1, TB: 1}), profile(map[boussole.Grade]int{P: 1, B: 1, TB: 2}), 1},
		// The same shares from 3 and 6 members: a tie, whatever the sizes.
		{"same shares", profile(map[boussole.Grade]int{B: 2, I: 1}), profile(map[boussole.Grade]int{B: 4, I: 2}), 0},
		// 3 Excellent of 5 (60 %) against 4 of 8 (50 %, median À rejeter).
		{"median by shares", profile(map[boussole.Grade]int{E: 3, R: 2}), profile(map[boussole.Grade]int{E: 4, R: 4}), 1},
		// Raw counts would favour B (more Très bien: 3 against 2), shares favour
		// A: 2 of 3 Très bien (67 %) against 3 of 5 (60 %), and B's other grades
		// are lower. Scaled to 15: A = 10 TB, 5 B; B = 9 TB, 3 B, 3 P. Medians
		// TB and TB; A has 5 below, B 6 below: A ahead.
		{"shares, not counts", profile(map[boussole.Grade]int{TB: 2, B: 1}), profile(map[boussole.Grade]int{TB: 3, B: 1, P: 1}), 1},
	} {
		if got := compareProfiles(c.a, c.b); got != c.want {
			t.Errorf("%s: compareProfiles = %d, want %d", c.name, got, c.want)
		}
		if got := compareProfiles(c.b, c.a); got != -c.want {
			t.Errorf("%s: reversed, compareProfiles = %d, want %d", c.name, got, -c.want)
		}
	}
	// In a vote: the option graded by fewer members with better shares wins,
	// and the ranking no longer depends on the options' order.
	ps := []MeritProfile{profile(map[boussole.Grade]int{B: 2, P: 1}), profile(map[boussole.Grade]int{B: 1})}
	if order, tie := rankProfiles(ps); tie || !reflect.DeepEqual(order, []int{1, 0}) {
		t.Fatalf("ranking %v (tie %v), want the second option first", order, tie)
	}
}

// Totals whose common multiple is beyond counting are compared by rounded
// shares, at once.
func TestJudgmentUnequalHugeTotals(t *testing.T) {
	t.Parallel()
	a := profile(map[boussole.Grade]int{boussole.Bien: math.MaxInt32 - 1, boussole.Passable: 1})
	b := profile(map[boussole.Grade]int{boussole.Bien: math.MaxInt32 - 2, boussole.Passable: 3, boussole.Excellent: 1_000_000_007})
	if compareProfiles(a, b) != -1 || compareProfiles(b, a) != 1 {
		t.Fatal("huge unequal totals: b's share of Excellent was missed")
	}
	x, y := rescale(a, maxScaledTotal/2), rescale(b, maxScaledTotal/2)
	if x.Total() != maxScaledTotal/2 || y.Total() != maxScaledTotal/2 {
		t.Fatalf("rescaled totals %d %d", x.Total(), y.Total())
	}
}
