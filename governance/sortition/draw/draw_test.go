package draw_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"cla/governance/sortition/draw"
)

func mustRun(t *testing.T, c *draw.Commitment, randomness string) *draw.Result {
	t.Helper()
	res, err := draw.Run(c, []byte(randomness))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCanonicalIgnoresCandidateOrderButNotContent(t *testing.T) {
	c := draw.Sample(200)
	h1, err := c.Hash()
	if err != nil {
		t.Fatal(err)
	}
	shuffled := c
	shuffled.Candidates = slices.Clone(c.Candidates)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled.Candidates), func(i, j int) {
		shuffled.Candidates[i], shuffled.Candidates[j] = shuffled.Candidates[j], shuffled.Candidates[i]
	})
	h2, _ := shuffled.Hash()
	if h1 != h2 {
		t.Fatal("the order of the candidates changed the commitment")
	}
	changed := c
	changed.Candidates = slices.Clone(c.Candidates)
	changed.Candidates[17].ID = "V-0018x"
	h3, _ := changed.Hash()
	if h3 == h1 {
		t.Fatal("changing a candidate id did not change the commitment")
	}
	b, _ := c.Canonical()
	if bytes.Contains(b, []byte("\n")) || !bytes.HasPrefix(b, []byte(`{"format":1,`)) {
		t.Fatalf("canonical JSON is not compact: %.80s", b)
	}
}

func TestSameInputsSameDraw_OneByteChangesIt(t *testing.T) {
	c := draw.Sample(200)
	a := mustRun(t, &c, "3 17 22 41 48 2 9")
	b := mustRun(t, &c, "3 17 22 41 48 2 9")
	if !slices.Equal(a.Selected, b.Selected) || !slices.Equal(a.Reserve, b.Reserve) {
		t.Fatal("the same commitment and randomness gave two draws")
	}
	if len(a.Selected) != 12 || len(a.Reserve) != 12 {
		t.Fatalf("got %d seats and %d reserves", len(a.Selected), len(a.Reserve))
	}
	if !draw.Met(a.Quotas) {
		t.Fatalf("quotas not met: %+v", a.Quotas)
	}
	t.Logf("selected: %v", a.Selected)
	other := mustRun(t, &c, "3 17 22 41 48 2 8")
	if slices.Equal(a.Selected, other.Selected) {
		t.Fatal("one byte of randomness did not change the selection")
	}
	changed := c
	changed.Candidates = slices.Clone(c.Candidates)
	changed.Candidates[0].ID = "V-0001b"
	moved := mustRun(t, &changed, "3 17 22 41 48 2 9")
	if slices.Equal(a.Selected, moved.Selected) {
		t.Fatal("one byte of the candidate list did not change the selection")
	}
}

// TestGolden pins the draw of the sample population: a change of the
// algorithm that changes any selection must bump AlgorithmVersion (and this
// value), or published draws would no longer verify.
func TestGolden(t *testing.T) {
	c := draw.Sample(200)
	h, _ := c.Hash()
	res := mustRun(t, &c, "3 17 22 41 48 2 9")
	got := hex.EncodeToString(h[:]) + " " + strings.Join(res.Selected, ",") + " | " + strings.Join(res.Reserve, ",")
	const want = "b2ffda2284211c5c86c24ce7ead0625c772b86df5191610bb289ab18d962a76a V-0166,V-0160,V-0052,V-0195,V-0088,V-0049,V-0181,V-0127,V-0026,V-0170,V-0085,V-0046 | V-0126,V-0144,V-0164,V-0148,V-0118,V-0036,V-0071,V-0190,V-0174,V-0102,V-0103,V-0123"
	if got != want {
		t.Fatalf("draw of the sample changed:\n got %s\nwant %s", got, want)
	}
}

// bruteFeasible tries every subset of k candidates.
func bruteFeasible(c *draw.Commitment) bool {
	n := len(c.Candidates)
	var rec func(start int, chosen []string) bool
	rec = func(start int, chosen []string) bool {
		if len(chosen) == c.Seats {
			return draw.Met(draw.Counts(c, chosen))
		}
		for i := start; i <= n-(c.Seats-len(chosen)); i++ {
			if rec(i+1, append(chosen, c.Candidates[i].ID)) {
				return true
			}
		}
		return false
	}
	return rec(0, nil)
}

func randomProblem(r *rand.Rand) draw.Commitment {
	cats := []draw.Category{
		{Name: "a", Values: []string{"x", "y", draw.PreferNotToSay}},
		{Name: "b", Values: []string{"u", "v", "w"}},
	}
	c := draw.Commitment{
		Format: draw.FormatVersion, Council: "t", Draw: "p",
		Algorithm: draw.Algorithm, AlgorithmVersion: draw.AlgorithmVersion,
		Seats: 1 + r.IntN(4), Reserves: r.IntN(5), Categories: cats,
		Source: draw.Source{Kind: draw.SourceIndex, Description: "CAC 40 à la clôture"},
	}
	n := c.Seats + r.IntN(8)
	for i := range n {
		c.Candidates = append(c.Candidates, draw.Candidate{ID: fmt.Sprintf("c%02d", i), Strata: map[string]string{
			"a": cats[0].Values[r.IntN(3)], "b": cats[1].Values[r.IntN(3)],
		}})
	}
	for _, cat := range cats {
		for _, v := range cat.Values {
			if r.IntN(2) == 0 {
				lo := r.IntN(c.Seats + 1)
				hi := lo + r.IntN(c.Seats-lo+1)
				c.Quotas = append(c.Quotas, draw.Quota{Category: cat.Name, Value: v, Min: lo, Max: hi})
			}
		}
	}
	return c
}

// TestProperties: on random small problems, the draw meets every quota
// whenever a brute-force search says it can, refuses with a named quota
// otherwise, never seats anyone twice, and the reserve list never repeats
// nor holds a seat holder.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	feasibleSeen, infeasibleSeen := 0, 0
	for trial := range 3000 {
		c := randomProblem(r)
		res, err := draw.Run(&c, fmt.Appendf(nil, "trial %d", trial))
		if !bruteFeasible(&c) {
			infeasibleSeen++
			var de *draw.Error
			if !errors.As(err, &de) || de.Field != "quotas" || !strings.Contains(de.Message, "quota") && !strings.Contains(de.Message, "catégorie") {
				t.Fatalf("trial %d: infeasible problem gave %v, want a named quota", trial, err)
			}
			continue
		}
		feasibleSeen++
		if err != nil {
			t.Fatalf("trial %d: feasible problem refused: %v (%+v)", trial, err, c)
		}
		if !draw.Met(res.Quotas) || !draw.Met(draw.Counts(&c, res.Selected)) {
			t.Fatalf("trial %d: quotas not met: %+v", trial, res.Quotas)
		}
		if len(res.Selected) != c.Seats {
			t.Fatalf("trial %d: %d seats drawn, want %d", trial, len(res.Selected), c.Seats)
		}
		seen := map[string]bool{}
		for _, id := range append(slices.Clone(res.Selected), res.Reserve...) {
			if seen[id] {
				t.Fatalf("trial %d: %s appears twice in %v + %v", trial, id, res.Selected, res.Reserve)
			}
			seen[id] = true
		}
		if want := min(c.Reserves, len(c.Candidates)-c.Seats); len(res.Reserve) != want {
			t.Fatalf("trial %d: %d reserves, want %d", trial, len(res.Reserve), want)
		}
	}
	t.Logf("%d feasible, %d infeasible problems", feasibleSeen, infeasibleSeen)
	if feasibleSeen < 500 || infeasibleSeen < 100 {
		t.Fatal("the generator does not exercise both cases")
	}
}

func TestBadInputNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*draw.Commitment)
		want string
	}{
		"fewer volunteers than seats": {func(c *draw.Commitment) { c.Candidates = c.Candidates[:11] }, "11 volontaires pour 12 sièges"},
		"quota above volunteers": {func(c *draw.Commitment) {
			c.Quotas = append(c.Quotas, draw.Quota{Category: "genre", Value: "autre", Min: 12, Max: 12})
		}, "« genre : autre »"},
		"minimums above seats": {func(c *draw.Commitment) { c.Quotas[0].Min, c.Quotas[0].Max = 8, 8 }, "catégorie « âge » demandent"},
		"cross-category conflict": {func(c *draw.Commitment) {
			// Every 16-34 seat must be a woman and there are very few.
			c.Quotas = append(c.Quotas, draw.Quota{Category: "genre", Value: "autre", Min: 0, Max: 0})
			c.Quotas[0].Min, c.Quotas[0].Max = 4, 4
			c.Quotas[4].Min, c.Quotas[4].Max = 0, 0
			c.Quotas[5].Min, c.Quotas[5].Max = 0, 12
			var keep []draw.Candidate
			for _, p := range c.Candidates {
				if p.Strata["âge"] != "16-34" || p.Strata["genre"] == "femme" {
					keep = append(keep, p)
				}
			}
			c.Candidates = keep
		}, "quota"},
		"unknown value": {func(c *draw.Commitment) { c.Candidates[3].Strata["genre"] = "F" }, "réponse inconnue"},
		"duplicate id":  {func(c *draw.Commitment) { c.Candidates[3].ID = c.Candidates[4].ID }, "deux fois"},
		"no source":     {func(c *draw.Commitment) { c.Source.Description = " " }, "source de hasard"},
	} {
		t.Run(name, func(t *testing.T) {
			c := draw.Sample(200)
			tc.edit(&c)
			_, err := draw.Run(&c, []byte("x"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a refusal with %q", err, tc.want)
			}
		})
	}
}

// TestFrequencies runs 10,000 draws of 12 seats among 200 volunteers with
// different randomness and prints the spread of selection frequencies. What
// the algorithm promises (docs/sortition.md): volunteers with the same
// answers are exchangeable, so within a profile every frequency estimates
// one probability; without quotas, every probability is seats/volunteers.
// Each observed frequency must lie within 5 standard errors of its target.
func TestFrequencies(t *testing.T) {
	const runs = 10000
	for _, quotas := range []bool{false, true} {
		c := draw.Sample(200)
		if !quotas {
			c.Quotas = nil
		}
		count := map[string]int{}
		for i := range runs {
			res, err := draw.Run(&c, fmt.Appendf(nil, "%d", i))
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range res.Selected {
				count[id]++
			}
		}
		profile := map[string][]string{}
		for _, p := range c.Candidates {
			key := p.Strata["âge"] + "/" + p.Strata["genre"] + "/" + p.Strata["commune"]
			if !quotas {
				key = "tous"
			}
			profile[key] = append(profile[key], p.ID)
		}
		lo, hi := 1.0, 0.0
		var keys []string
		for k := range profile {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		worst := 0.0
		for _, k := range keys {
			ids := profile[k]
			sum := 0
			for _, id := range ids {
				sum += count[id]
			}
			target := float64(sum) / float64(runs*len(ids))
			if !quotas {
				target = float64(c.Seats) / float64(len(c.Candidates))
			}
			se := math.Sqrt(target * (1 - target) / runs)
			plo, phi := 1.0, 0.0
			for _, id := range ids {
				f := float64(count[id]) / runs
				plo, phi = min(plo, f), max(phi, f)
				if se > 0 {
					worst = max(worst, math.Abs(f-target)/se)
				}
				if math.Abs(f-target) > 5*se+1e-12 {
					t.Errorf("quotas=%v %s: %s drawn %.4f, target %.4f ± %.4f", quotas, k, id, f, target, 5*se)
				}
			}
			lo, hi = min(lo, plo), max(hi, phi)
			if quotas {
				t.Logf("profile %-24s %3d volunteers: p≈%.4f, observed %.4f–%.4f", k, len(ids), target, plo, phi)
			}
		}
		t.Logf("quotas=%v: frequencies from %.4f to %.4f over %d draws (seats/volunteers = %.4f); worst deviation %.2f standard errors",
			quotas, lo, hi, runs, float64(c.Seats)/float64(len(c.Candidates)), worst)
	}
}

func TestVerifyFile(t *testing.T) {
	c := draw.Sample(200)
	h, _ := c.Hash()
	res := mustRun(t, &c, "3 17 22 41 48 2 9")
	f := &draw.File{Format: draw.FormatVersion, Commitment: c, CommitmentSHA256: hex.EncodeToString(h[:]), Randomness: "3 17 22 41 48 2 9", Result: *res}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := draw.ReadFile(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, diffs, err := draw.Verify(back, nil); err != nil || len(diffs) != 0 {
		t.Fatalf("published draw does not verify: %v %v", err, diffs)
	}
	changed := *back
	changed.Randomness = "3 17 22 41 48 2 8"
	_, diffs, err := draw.Verify(&changed, nil)
	if err != nil || len(diffs) == 0 || !strings.Contains(strings.Join(diffs, "\n"), "siège") {
		t.Fatalf("changed randomness: %v %v", err, diffs)
	}
	changed = *back
	changed.Commitment.Candidates = slices.Clone(back.Commitment.Candidates)
	changed.Commitment.Candidates[5].ID = "V-0006z"
	_, diffs, err = draw.Verify(&changed, nil)
	if err != nil || len(diffs) < 2 || !strings.HasPrefix(diffs[0], "engagement") {
		t.Fatalf("changed candidate list: %v %v", err, diffs)
	}
}

// TestNextReserve: a declined seat goes to the first reserve with the same
// answers; failing that, to the first whose seat keeps the quotas met; never
// to a seat holder or someone already asked.
func TestNextReserve(t *testing.T) {
	c := draw.Sample(200)
	res := mustRun(t, &c, "reserve")
	strata := map[string]map[string]string{}
	for _, p := range c.Candidates {
		strata[p.ID] = p.Strata
	}
	for _, declined := range res.Selected {
		asked := map[string]bool{}
		for {
			next, ok := draw.NextReserve(&c, res, res.Selected, declined, asked)
			if !ok {
				break
			}
			if asked[next] || slices.Contains(res.Selected, next) || !slices.Contains(res.Reserve, next) {
				t.Fatalf("%s replaced by %s: not a fresh reserve", declined, next)
			}
			seated := append(slices.DeleteFunc(slices.Clone(res.Selected), func(s string) bool { return s == declined }), next)
			if !draw.Met(draw.Counts(&c, seated)) {
				t.Fatalf("%s replaced by %s breaks a quota", declined, next)
			}
			asked[next] = true
		}
		if len(asked) == 0 {
			t.Logf("%s: nobody on the reserve list fits", declined)
		}
	}
	// Same answers first.
	for _, id := range res.Reserve {
		for _, seat := range res.Selected {
			if fmt.Sprint(strata[id]) == fmt.Sprint(strata[seat]) {
				got, _ := draw.NextReserve(&c, res, res.Selected, seat, nil)
				if fmt.Sprint(strata[got]) != fmt.Sprint(strata[seat]) {
					t.Fatalf("%s declined: %s chosen before a reserve with the same answers", seat, got)
				}
				return
			}
		}
	}
}
