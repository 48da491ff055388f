package boussole

import "testing"

func tallyOf(grades ...Grade) Tally {
	var t Tally
	for _, g := range grades {
		t.Add(g)
	}
	return t
}

func TestTallyMajorityGrade(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		grades       []Grade
		majority     Grade
		graded       int
		noOpinions   int
		above, below int
		disagreement bool
	}{
		{"no grade at all", nil, NoOpinion, 0, 0, 0, 0, false},
		{"all sans avis", []Grade{NoOpinion, NoOpinion, NoOpinion}, NoOpinion, 0, 3, 0, 0, false},
		{"a single grader", []Grade{TresBien}, TresBien, 1, 0, 0, 0, false},
		{"odd count", []Grade{Excellent, Bien, Passable, Bien, Insuffisant}, Bien, 5, 0, 1, 2, false},
		{"even count takes the lower median", []Grade{Excellent, TresBien, Bien, Bien}, Bien, 4, 0, 2, 0, false},
		{"tie between two grades", []Grade{Bien, Bien, Passable, Passable}, Passable, 4, 0, 2, 0, false},
		{"sans avis does not count in the median", []Grade{NoOpinion, NoOpinion, NoOpinion, Excellent, Excellent, ARejeter}, Excellent, 3, 3, 0, 1, true},
		{"split council shows disagreement", []Grade{Excellent, Excellent, TresBien, Insuffisant, ARejeter, ARejeter}, Insuffisant, 6, 0, 3, 2, true},
		{"consensus shows no disagreement", []Grade{Bien, Bien, AssezBien, TresBien, Bien}, Bien, 5, 0, 1, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tl := tallyOf(c.grades...)
			if got := tl.Majority(); got != c.majority {
				t.Errorf("majority = %s, want %s", got.Label(), c.majority.Label())
			}
			if got := tl.Graded(); got != c.graded {
				t.Errorf("graded = %d, want %d", got, c.graded)
			}
			if got := tl.NoOpinions(); got != c.noOpinions {
				t.Errorf("sans avis = %d, want %d", got, c.noOpinions)
			}
			if a, b := tl.Above(), tl.Below(); a != c.above || b != c.below {
				t.Errorf("above/below = %d/%d, want %d/%d", a, b, c.above, c.below)
			}
			if got := tl.Disagreement(); got != c.disagreement {
				t.Errorf("disagreement = %v, want %v", got, c.disagreement)
			}
		})
	}
}

func TestTallyDistributionAndMerge(t *testing.T) {
	t.Parallel()
	a := tallyOf(Excellent, Bien, NoOpinion)
	b := tallyOf(Bien, ARejeter)
	a.Merge(b)
	if a.Graded() != 4 || a.NoOpinions() != 1 || a.Counts[Bien] != 2 {
		t.Fatalf("merged counts wrong: %+v", a.Counts)
	}
	d := a.Distribution()
	if len(d) != 8 || d[0].Grade != Excellent || d[6].Grade != ARejeter || d[7].Grade != NoOpinion {
		t.Fatalf("distribution order wrong: %+v", d)
	}
	if d[2].Count != 2 || d[2].Share != 50 {
		t.Errorf("Bien: %+v, want 2 grades, 50 %%", d[2])
	}
	if d[7].Share != 20 {
		t.Errorf("sans avis share %d, want 20 (of all 5 answers)", d[7].Share)
	}
	// Out-of-scale grades are ignored, never counted.
	a.Add(Grade(9))
	a.Add(Grade(-1))
	if a.Graded() != 4 || a.NoOpinions() != 1 {
		t.Errorf("an out-of-scale grade was counted: %+v", a.Counts)
	}
}

func TestParseGrade(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Grade{"0": NoOpinion, "1": ARejeter, "7": Excellent, "4": AssezBien} {
		if g, ok := ParseGrade(in); !ok || g != want {
			t.Errorf("ParseGrade(%q) = %v, %v", in, g, ok)
		}
	}
	for _, in := range []string{"8", "-1", "", "bien", "3.5"} {
		if _, ok := ParseGrade(in); ok {
			t.Errorf("ParseGrade(%q) accepted a grade outside the scale", in)
		}
	}
}
