package draw

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// QuotaCount is a quota with the number of seats that meet it in a result.
type QuotaCount struct {
	Quota
	Count int `json:"count"`
}

// Result is the outcome of a draw: the seat holders in the order drawn, the
// ordered reserve list, and every quota with its count.
type Result struct {
	Seed     string       `json:"seed"`
	Selected []string     `json:"selected"`
	Reserve  []string     `json:"reserve"`
	Quotas   []QuotaCount `json:"quotas"`
}

// Seed is SHA-256(commitment ‖ randomness): the commitment's 32 bytes then
// the randomness bytes (see RandomnessBytes). It seeds the stream.
func Seed(commitment [32]byte, randomness []byte) [32]byte {
	h := sha256.New()
	h.Write(commitment[:])
	h.Write(randomness)
	var s [32]byte
	h.Sum(s[:0])
	return s
}

// RandomnessBytes turns the value entered for a source into the bytes mixed
// into the seed. For drand it is the round's randomness as drand defines it,
// SHA-256 of the signature (the signature itself is checked against the
// beacon's key by package drand before this is called); for a lottery or an
// index it is the text as entered, trimmed, so that the published text is
// all anyone needs.
func RandomnessBytes(src Source, value string) ([]byte, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, errf("randomness", "Saisissez la valeur de la source de hasard.")
	}
	if src.Kind == SourceDrand {
		sig, err := hex.DecodeString(value)
		if err != nil || len(sig) == 0 {
			return nil, errf("randomness", "La signature drand doit être en hexadécimal.")
		}
		r := sha256.Sum256(sig)
		return r[:], nil
	}
	return []byte(value), nil
}

// problem is a commitment reduced to what the selection needs: volunteers
// grouped into profiles (one per combination of answers), and for every
// (category, value) feature its bounds.
type problem struct {
	seats      int
	categories int
	features   []feature // every declared (category, value)
	profiles   []profile // sorted by key
}

type feature struct {
	category, value string
	cat             int // index of category
	min, max        int
	quota           bool // declared in the commitment
}

type profile struct {
	key      string
	features []int    // one feature index per category
	members  []string // candidate ids, sorted
}

func newProblem(c *Commitment) *problem {
	p := &problem{seats: c.Seats, categories: len(c.Categories)}
	index := map[[2]string]int{}
	for ci, cat := range c.Categories {
		for _, v := range cat.Values {
			index[[2]string{cat.Name, v}] = len(p.features)
			p.features = append(p.features, feature{category: cat.Name, value: v, cat: ci, min: 0, max: c.Seats})
		}
	}
	for _, q := range c.Quotas {
		f := &p.features[index[[2]string{q.Category, q.Value}]]
		f.min, f.max, f.quota = q.Min, q.Max, true
	}
	byKey := map[string]*profile{}
	for _, cand := range c.Candidates {
		var feats []int
		var key strings.Builder
		for _, cat := range c.Categories {
			fi := index[[2]string{cat.Name, cand.Strata[cat.Name]}]
			feats = append(feats, fi)
			key.WriteString(strconv.Itoa(fi))
			key.WriteByte('.')
		}
		pr := byKey[key.String()]
		if pr == nil {
			pr = &profile{key: key.String(), features: feats}
			byKey[pr.key] = pr
		}
		pr.members = append(pr.members, cand.ID)
	}
	for _, pr := range byKey {
		slices.Sort(pr.members)
		p.profiles = append(p.profiles, *pr)
	}
	slices.SortFunc(p.profiles, func(a, b profile) int { return strings.Compare(a.key, b.key) })
	return p
}

// feasible reports whether, with taken[i] members of profile i already
// seated, the remaining seats can be filled meeting every feature's bounds.
// It is a depth-first search over how many members each profile gets, with
// bounds pruning and a memo of failed states; ok is false when the search
// budget ran out (the answer is then unknown).
func (p *problem) feasible(taken []int) (yes, ok bool) {
	cur := make([]int, len(p.features))
	left := p.seats
	for i, n := range taken {
		for _, f := range p.profiles[i].features {
			cur[f] += n
		}
		left -= n
	}
	if left < 0 {
		return false, true
	}
	// suffix[i][f]: members still free in profiles i.. having feature f.
	suffix := make([][]int, len(p.profiles)+1)
	suffix[len(p.profiles)] = make([]int, len(p.features))
	for i := len(p.profiles) - 1; i >= 0; i-- {
		suffix[i] = slices.Clone(suffix[i+1])
		for _, f := range p.profiles[i].features {
			suffix[i][f] += len(p.profiles[i].members) - taken[i]
		}
	}
	s := &search{p: p, taken: taken, suffix: suffix, failed: map[string]bool{}, budget: 2_000_000}
	found := s.dfs(0, left, cur)
	return found, s.budget > 0 || found
}

type search struct {
	p      *problem
	taken  []int
	suffix [][]int
	failed map[string]bool
	budget int
}

func (s *search) dfs(i, left int, cur []int) bool {
	s.budget--
	if s.budget <= 0 {
		return false
	}
	p := s.p
	for f, ft := range p.features {
		if cur[f] > ft.max {
			return false
		}
		if cur[f]+min(s.suffix[i][f], left) < ft.min {
			return false
		}
	}
	if i == len(p.profiles) {
		return left == 0
	}
	// Each seat holder has exactly one value per category: the missing
	// minimums of one category must fit in the seats left.
	need := make([]int, p.categories)
	for f, ft := range p.features {
		need[ft.cat] += max(0, ft.min-cur[f])
	}
	for _, n := range need {
		if n > left {
			return false
		}
	}
	key := memoKey(i, left, cur)
	if s.failed[key] {
		return false
	}
	free := len(p.profiles[i].members) - s.taken[i]
	for n := min(free, left); n >= 0; n-- {
		for _, f := range p.profiles[i].features {
			cur[f] += n
		}
		ok := s.dfs(i+1, left-n, cur)
		for _, f := range p.profiles[i].features {
			cur[f] -= n
		}
		if ok {
			return true
		}
		if s.budget <= 0 {
			return false
		}
	}
	s.failed[key] = true
	return false
}

func memoKey(i, left int, cur []int) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(i))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(left))
	for _, c := range cur {
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(c))
	}
	return b.String()
}

// explain names the quota (or the combination) that makes the draw
// impossible, in French, for the facilitator.
func (p *problem) explain(c *Commitment) error {
	count := make([]int, len(p.features))
	for _, pr := range p.profiles {
		for _, f := range pr.features {
			count[f] += len(pr.members)
		}
	}
	for f, ft := range p.features {
		if ft.min > count[f] {
			return errf("quotas", "Le quota « %s : %s » demande au moins %d siège%s, mais seulement %d volontaire%s %s cette réponse.",
				ft.category, ft.value, ft.min, plural(ft.min), count[f], plural(count[f]), have(count[f]))
		}
	}
	sumMin, sumRoom := map[string]int{}, map[string]int{}
	for f, ft := range p.features {
		sumMin[ft.category] += ft.min
		sumRoom[ft.category] += min(ft.max, count[f])
	}
	for _, cat := range c.Categories {
		if sumMin[cat.Name] > p.seats {
			return errf("quotas", "Les minimums de la catégorie « %s » demandent %d sièges, plus que les %d à tirer.", cat.Name, sumMin[cat.Name], p.seats)
		}
		if sumRoom[cat.Name] < p.seats {
			return errf("quotas", "Les maximums de la catégorie « %s » et les volontaires ne permettent de pourvoir que %d siège%s sur %d.",
				cat.Name, sumRoom[cat.Name], plural(sumRoom[cat.Name]), p.seats)
		}
	}
	// Otherwise the quotas conflict across categories: name the first quota
	// whose removal makes the draw possible.
	zero := make([]int, len(p.profiles))
	for f, ft := range p.features {
		if !ft.quota {
			continue
		}
		saved := ft
		p.features[f].min, p.features[f].max = 0, p.seats
		yes, _ := p.feasible(zero)
		p.features[f] = saved
		if yes {
			return errf("quotas", "Le quota « %s : %s » (entre %d et %d) ne peut pas être respecté avec les autres quotas et les volontaires inscrits.",
				ft.category, ft.value, ft.min, ft.max)
		}
	}
	return errf("quotas", "Les quotas ne peuvent pas être respectés ensemble avec les volontaires inscrits.")
}

func have(n int) string {
	if n > 1 {
		return "ont"
	}
	return "a"
}

// Run computes the draw of c with the given randomness bytes. At each seat,
// it lists the volunteers not yet drawn whose selection still leaves a way
// to meet every quota with the seats left, and draws one of them uniformly
// from the stream; then it draws the reserve list as a uniform random order
// of the volunteers left. When no selection can meet the quotas it draws
// nothing and names the quota that cannot be met.
func Run(c *Commitment, randomness []byte) (*Result, error) {
	h, err := c.Hash()
	if err != nil {
		return nil, err
	}
	p := newProblem(c)
	taken := make([]int, len(p.profiles))
	yes, ok := p.feasible(taken)
	if !ok {
		return nil, errf("quotas", "Les quotas sont trop complexes pour être vérifiés : simplifiez-les.")
	}
	if !yes {
		return nil, p.explain(c)
	}
	seed := Seed(h, randomness)
	st := newStream(seed)
	drawn := map[string]bool{}
	res := &Result{Seed: hex.EncodeToString(seed[:])}
	profileOf := map[string]int{}
	for i, pr := range p.profiles {
		for _, id := range pr.members {
			profileOf[id] = i
		}
	}
	pool := make([]string, 0, len(c.Candidates))
	for _, cand := range c.Candidates {
		pool = append(pool, cand.ID)
	}
	slices.Sort(pool)
	for range c.Seats {
		// Rejection: draw uniformly among the volunteers left whose profile
		// is not known to be a dead end; a dead end is set aside and the
		// draw repeated. The seat goes uniformly to one of the volunteers
		// whose selection keeps the quotas reachable, and feasibility is
		// computed only for the profiles actually drawn. Members of one
		// profile are exchangeable.
		dead := map[int]bool{}
		for {
			var avail []string
			for _, id := range pool {
				if !dead[profileOf[id]] {
					avail = append(avail, id)
				}
			}
			if len(avail) == 0 {
				return nil, fmt.Errorf("draw: no feasible volunteer although the problem was feasible")
			}
			id := avail[st.intn(len(avail))]
			i := profileOf[id]
			taken[i]++
			yes, ok := p.feasible(taken)
			if !ok {
				return nil, errf("quotas", "Les quotas sont trop complexes pour être vérifiés : simplifiez-les.")
			}
			if !yes {
				taken[i]--
				dead[i] = true
				continue
			}
			drawn[id] = true
			res.Selected = append(res.Selected, id)
			pool = slices.DeleteFunc(pool, func(x string) bool { return x == id })
			break
		}
	}
	var rest []string
	for _, cand := range c.Candidates {
		if !drawn[cand.ID] {
			rest = append(rest, cand.ID)
		}
	}
	slices.Sort(rest)
	n := min(c.Reserves, len(rest))
	for i := range n {
		j := i + st.intn(len(rest)-i)
		rest[i], rest[j] = rest[j], rest[i]
	}
	res.Reserve = rest[:n]
	res.Quotas = Counts(c, res.Selected)
	return res, nil
}

// Counts returns every quota of c with the number of ids holding its value.
func Counts(c *Commitment, ids []string) []QuotaCount {
	strata := map[string]map[string]string{}
	for _, cand := range c.Candidates {
		strata[cand.ID] = cand.Strata
	}
	var out []QuotaCount
	for _, q := range c.Quotas {
		n := 0
		for _, id := range ids {
			if strata[id][q.Category] == q.Value {
				n++
			}
		}
		out = append(out, QuotaCount{Quota: q, Count: n})
	}
	return out
}

// Met reports whether every quota count is within its bounds.
func Met(counts []QuotaCount) bool {
	for _, q := range counts {
		if q.Count < q.Min || q.Count > q.Max {
			return false
		}
	}
	return true
}

// NextReserve returns who takes a declined seat: the first volunteer of the
// reserve list, not already seated nor already asked, with the same answers
// as the one who declined; failing that, the first whose seat keeps every
// quota met. ok is false when nobody on the list fits.
func NextReserve(c *Commitment, res *Result, seated []string, declined string, asked map[string]bool) (string, bool) {
	strata := map[string]map[string]string{}
	for _, cand := range c.Candidates {
		strata[cand.ID] = cand.Strata
	}
	var others []string
	for _, id := range seated {
		if id != declined {
			others = append(others, id)
		}
	}
	eligible := func(id string) bool { return !asked[id] && !slices.Contains(seated, id) }
	for _, id := range res.Reserve {
		if eligible(id) && sameStrata(strata[id], strata[declined]) {
			return id, true
		}
	}
	for _, id := range res.Reserve {
		if eligible(id) && Met(Counts(c, append(slices.Clone(others), id))) {
			return id, true
		}
	}
	return "", false
}

func sameStrata(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
