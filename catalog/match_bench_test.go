package catalog

import (
	"fmt"
	"testing"
)

// BenchmarkLookup2000 is the matching of one question over a register of
// 2,000 items (the load generator's size), stems included, as Lookup does
// after its one query.
func BenchmarkLookup2000(b *testing.B) {
	type row struct{ name, keywords string }
	rows := make([]row, 2000)
	for i := range rows {
		rows[i] = row{fmt.Sprintf("Produit numéro %d des fermes de la Drôme", i), "légumes, fruits de saison, pommes, poires, œufs frais"}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		items := make([]matchItem, len(rows))
		for j, r := range rows {
			m := matchItem{hit: SearchHit{Item: Item{ID: int64(j + 1), Status: Conventionne}}, name: stems(r.name, true), depth: 1}
			for _, k := range Keywords(r.keywords) {
				m.phrases = append(m.phrases, stems(k, false))
			}
			items[j] = m
		}
		lookup(items, "des pommes de la Drôme")
	}
}
