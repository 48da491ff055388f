package draw

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Sample returns a commitment of n generated volunteers answering three
// strata (age band, gender, commune group, each with "je préfère ne pas
// répondre"), quotas fit for 12 seats, and a lottery source. The volunteers
// are a deterministic function of n, so the demo and the tests share one
// population; their proportions follow a small rural territory.
func Sample(n int) Commitment {
	cats := []Category{
		{Name: "âge", Values: []string{"16-34", "35-54", "55-69", "70+", PreferNotToSay}},
		{Name: "genre", Values: []string{"femme", "homme", "autre", PreferNotToSay}},
		{Name: "commune", Values: []string{"Dieulefit", "Bourg", "Pays", PreferNotToSay}},
	}
	// Cumulative weights out of 100 per category, in the order of Values.
	weights := [][]int{{22, 54, 82, 96, 100}, {50, 94, 97, 100}, {45, 70, 96, 100}}
	c := Commitment{
		Format:           FormatVersion,
		Council:          "dieulefit",
		Draw:             "exemple",
		Algorithm:        Algorithm,
		AlgorithmVersion: AlgorithmVersion,
		Seats:            12,
		Reserves:         12,
		Categories:       cats,
		Quotas: []Quota{
			{Category: "âge", Value: "16-34", Min: 2, Max: 4},
			{Category: "âge", Value: "35-54", Min: 3, Max: 5},
			{Category: "âge", Value: "55-69", Min: 2, Max: 4},
			{Category: "âge", Value: "70+", Min: 1, Max: 3},
			{Category: "genre", Value: "femme", Min: 5, Max: 7},
			{Category: "genre", Value: "homme", Min: 5, Max: 7},
			{Category: "commune", Value: "Dieulefit", Min: 4, Max: 6},
			{Category: "commune", Value: "Bourg", Min: 2, Max: 4},
			{Category: "commune", Value: "Pays", Min: 2, Max: 4},
		},
		Source: Source{Kind: SourceLottery, Description: "Tirage EuroMillions du vendredi 7 mars 2025 : les cinq numéros et les deux étoiles, dans l’ordre croissant, séparés par des espaces."},
	}
	for i := range n {
		h := sha256.Sum256(fmt.Appendf(nil, "cla sample volunteer %d", i))
		strata := map[string]string{}
		for k, cat := range cats {
			r := int(binary.BigEndian.Uint16(h[2*k:]) % 100)
			for j, w := range weights[k] {
				if r < w {
					strata[cat.Name] = cat.Values[j]
					break
				}
			}
		}
		c.Candidates = append(c.Candidates, Candidate{ID: fmt.Sprintf("V-%04d", i+1), Strata: strata})
	}
	return c
}
