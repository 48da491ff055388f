package pagecache

import (
	"bytes"
	"strings"
	"testing"
)

// BenchmarkWriteSpliced is a signed-in debate page's gzip answer: ~6 KiB of
// the request's own HTML around a kept part of 300 KiB, compressed once.
func BenchmarkWriteSpliced(b *testing.B) {
	nav := strings.Repeat(`<li><a href="/registre/renouvellements">Conventions à renouveler</a></li>
                <li><a href="/compte/notifications">Mes notifications</a></li>
`, 30)
	prefix := []byte(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Débat</title></head><body><header><nav><ul>` + nav + `</ul></nav></header><main>`)
	suffix := []byte(`<section class="argument-form"><form method="post"><input type="hidden" name="_csrf" value="aXbq3-0Zr7dMgT0V8CzK1m5yQ_fhW2pL9sEoUcRj4kA"><select name="criterion">` +
		strings.Repeat(`<option value="12">Rémunération juste des producteurs</option>`, 12) + `</select><textarea name="body"></textarea></form></section></main><footer>` + nav[:800] + `</footer></body></html>`)
	part := NewPart(strings.Repeat(`<article class="arg" id="argument-1234"><p>Les circuits courts rémunèrent mieux les producteurs de la Camargue.</p><p class="muted">Par Zoé, le 3 décembre 2026</p></article>`, 2000))
	part.compressed()
	pieces := [][]byte{prefix, suffix}
	var buf bytes.Buffer
	b.SetBytes(int64(len(prefix) + len(suffix)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		writeSpliced(&buf, pieces, []*Part{part})
	}
	b.ReportMetric(float64(buf.Len()-len(part.deflated)), "piece-bytes")
}
