package boussole

import "strconv"

// Grade is a mention of the seven-grade scale used to score proposals against
// the boussole (and, later, in majority-judgment votes). Higher is better; the
// zero value is "sans avis" (no opinion), which is not a grade and never counts
// in a median.
type Grade int

// The scale, from "sans avis" (not a grade) to the best grade.
const (
	NoOpinion   Grade = 0 // sans avis
	ARejeter    Grade = 1
	Insuffisant Grade = 2
	Passable    Grade = 3
	AssezBien   Grade = 4
	Bien        Grade = 5
	TresBien    Grade = 6
	Excellent   Grade = 7
)

// Grades lists the seven grades from best to worst, as forms present them.
var Grades = []Grade{Excellent, TresBien, Bien, AssezBien, Passable, Insuffisant, ARejeter}

// Label is the grade in French.
func (g Grade) Label() string {
	switch g {
	case NoOpinion:
		return "Sans avis"
	case ARejeter:
		return "À rejeter"
	case Insuffisant:
		return "Insuffisant"
	case Passable:
		return "Passable"
	case AssezBien:
		return "Assez bien"
	case Bien:
		return "Bien"
	case TresBien:
		return "Très bien"
	case Excellent:
		return "Excellent"
	}
	return "Mention inconnue"
}

// Valid reports whether g is one of the seven grades (sans avis excluded).
func (g Grade) Valid() bool { return g >= ARejeter && g <= Excellent }

// Class is a CSS-friendly name for the grade ("g7" … "g1", "g0" for sans avis).
func (g Grade) Class() string { return "g" + strconv.Itoa(int(g)) }

// ParseGrade reads a grade as forms send it ("0" for sans avis, "1" to "7").
func ParseGrade(s string) (Grade, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < int(NoOpinion) || n > int(Excellent) {
		return 0, false
	}
	return Grade(n), true
}

// Tally counts grades and yields the majority grade: the median of the grades
// given, the lower median for an even count. "Sans avis" is counted apart.
type Tally struct {
	// Counts[g] is how many times grade g was given; Counts[0] counts "sans avis".
	Counts [Excellent + 1]int
}

// Add counts one grade (or one "sans avis").
func (t *Tally) Add(g Grade) {
	if g < NoOpinion || g > Excellent {
		return
	}
	t.Counts[g]++
}

// Merge adds every count of o to t.
func (t *Tally) Merge(o Tally) {
	for g := range t.Counts {
		t.Counts[g] += o.Counts[g]
	}
}

// Graded is how many real grades were given ("sans avis" excluded).
func (t Tally) Graded() int {
	n := 0
	for g := ARejeter; g <= Excellent; g++ {
		n += t.Counts[g]
	}
	return n
}

// NoOpinions is how many "sans avis" were given.
func (t Tally) NoOpinions() int { return t.Counts[NoOpinion] }

// Majority is the majority grade: the lower median of the grades given, or
// NoOpinion when no grade was given. With an even count the two middle grades
// may differ; the lower one is the grade a majority supports "at least".
func (t Tally) Majority() Grade {
	n := t.Graded()
	if n == 0 {
		return NoOpinion
	}
	// Grades sorted from worst to best; the lower median is at index (n-1)/2.
	return t.nth((n - 1) / 2)
}

// Above is how many grades are better than the majority grade.
func (t Tally) Above() int {
	m, n := t.Majority(), 0
	if m == NoOpinion {
		return 0
	}
	for g := m + 1; g <= Excellent; g++ {
		n += t.Counts[g]
	}
	return n
}

// Below is how many grades are worse than the majority grade.
func (t Tally) Below() int {
	m, n := t.Majority(), 0
	if m == NoOpinion {
		return 0
	}
	for g := ARejeter; g < m; g++ {
		n += t.Counts[g]
	}
	return n
}

// Disagreement reports a visible split among graders: the middle half of the
// grades (from the lower to the upper quartile) spans three steps or more of the
// scale, for example some "Excellent" and some "À rejeter" around a "Passable".
func (t Tally) Disagreement() bool {
	n := t.Graded()
	if n < 2 {
		return false
	}
	lo, hi := t.nth((n-1)/4), t.nth((3*(n-1)+3)/4)
	return hi-lo >= 3
}

// nth is the grade at index i of the grades sorted from worst to best.
func (t Tally) nth(i int) Grade {
	seen := 0
	for g := ARejeter; g <= Excellent; g++ {
		seen += t.Counts[g]
		if seen > i {
			return g
		}
	}
	return NoOpinion
}

// Share is the percentage (0–100, rounded) of the graded count that gave g;
// "sans avis" is a share of all answers.
func (t Tally) Share(g Grade) int {
	total := t.Graded()
	if g == NoOpinion {
		total += t.Counts[NoOpinion]
	}
	if total == 0 || g < NoOpinion || g > Excellent {
		return 0
	}
	return (t.Counts[g]*100 + total/2) / total
}

// GradeCount is one bar of a distribution.
type GradeCount struct {
	Grade Grade
	Count int
	Share int // percentage of the grades given (of all answers for sans avis)
}

// Distribution lists the counts from Excellent down to À rejeter, then sans avis.
func (t Tally) Distribution() []GradeCount {
	out := make([]GradeCount, 0, len(Grades)+1)
	for _, g := range Grades {
		out = append(out, GradeCount{Grade: g, Count: t.Counts[g], Share: t.Share(g)})
	}
	return append(out, GradeCount{Grade: NoOpinion, Count: t.Counts[NoOpinion], Share: t.Share(NoOpinion)})
}
