package boussole

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"sync"
)

// RadarAxis is one spoke of a radar chart: a criterion.
type RadarAxis struct {
	Number int    // shown at the end of the spoke
	Name   string // shown as the spoke's tooltip and in the text alternative
}

// RadarSeries is one proposal drawn on a radar: a grade per axis (NoOpinion at
// the centre).
type RadarSeries struct {
	Label  string
	Values []Grade
}

// RadarColors are the series colours, each paired with a dash pattern and a
// marker shape so that series stay distinct in black-and-white print and for
// colour-blind readers.
var RadarColors = []string{"#2f6b3a", "#a0241b", "#3d4f8a", "#7a4d00"}

var radarDashes = []string{"", "8 4", "3 3", "10 3 2 3"}

// Radar geometry, in viewBox units.
const (
	radarR    = 130.0 // radius of the "Excellent" ring
	radarHalf = 175.0 // half the viewBox side
)

func radarPoint(i, n int, grade float64) (float64, float64) {
	a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
	r := radarR * grade / float64(Excellent)
	return r * math.Cos(a), r * math.Sin(a)
}

func f1(x float64) string {
	s := strconv.FormatFloat(x, 'f', 1, 64) // as %.1f, without fmt's cost
	if s == "-0.0" {
		return "0.0"
	}
	return s
}

// RadarAxesOf lists the boussole's criteria as radar axes.
func RadarAxesOf(b *Boussole) []RadarAxis {
	var out []RadarAxis
	for _, g := range b.Groups {
		for _, c := range g.Criteria {
			out = append(out, RadarAxis{Number: c.Position, Name: c.Name})
		}
	}
	return out
}

// RadarSVG draws a radar chart of the series on the axes: one spoke per axis
// from the centre ("sans avis" or no grade) to the rim (Excellent), one ring per
// grade. title names the chart for assistive technologies; the page must give
// the same numbers as a table. With standalone, the SVG carries its XML
// declaration (for the .svg route); otherwise it is meant to be inlined in HTML.
// id prefixes the chart's element ids, so that a page can inline several charts.
// It uses presentation attributes only (no style attribute), as the CSP requires.
func RadarSVG(id, title string, axes []RadarAxis, series []RadarSeries, standalone bool) template.HTML {
	var b strings.Builder
	n := len(axes)
	esc := html.EscapeString
	if standalone {
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="radar" viewBox="%s %s %s %s" width="350" height="350" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, sans-serif">`,
		f1(-radarHalf), f1(-radarHalf), f1(2*radarHalf), f1(2*radarHalf), esc(id), esc(id))
	var labels []string
	for _, s := range series {
		labels = append(labels, s.Label)
	}
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">Diagramme radar : mention majoritaire de chaque critère de la boussole, du centre (aucune mention) au bord (Excellent). %s. Les mêmes valeurs figurent dans le tableau qui suit.</desc>`,
		esc(id), esc(title), esc(id), esc(strings.Join(labels, " ; ")))
	if n < 3 {
		b.WriteString(`<text x="0" y="0" text-anchor="middle" font-size="14" fill="#1d1d1b">Boussole incomplète</text></svg>`)
		return template.HTML(b.String()) //nolint:gosec // every text is escaped above
	}
	b.WriteString(radarGrid(n))
	b.WriteString(`<g font-size="15" font-weight="700" fill="#1d1d1b" text-anchor="middle" dominant-baseline="central">`)
	for i, a := range axes {
		x, y := radarPoint(i, n, float64(Excellent)*1.16)
		fmt.Fprintf(&b, `<text x="%s" y="%s"><title>%d. %s</title>%d</text>`, f1(x), f1(y), a.Number, esc(a.Name), a.Number)
	}
	b.WriteString(`</g>`)
	// The series, the first drawn last so it stays on top.
	for si := len(series) - 1; si >= 0; si-- {
		s := series[si]
		color := RadarColors[si%len(RadarColors)]
		var pts []string
		for i := 0; i < n; i++ {
			g := NoOpinion
			if i < len(s.Values) {
				g = s.Values[i]
			}
			x, y := radarPoint(i, n, float64(g))
			pts = append(pts, f1(x)+","+f1(y))
		}
		dash := ""
		if d := radarDashes[si%len(radarDashes)]; d != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, d)
		}
		fmt.Fprintf(&b, `<g class="radar-series"><title>%s</title><polygon points="%s" fill="%s" fill-opacity="0.15" stroke="%s" stroke-width="2.5" stroke-linejoin="round"%s/>`,
			esc(s.Label), strings.Join(pts, " "), color, color, dash)
		for i := 0; i < n; i++ {
			g := NoOpinion
			if i < len(s.Values) {
				g = s.Values[i]
			}
			x, y := radarPoint(i, n, float64(g))
			b.WriteString(radarMarker(si, x, y, color))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}

// radarGrids holds the drawing of radarGrid by number of axes.
var radarGrids sync.Map

// radarGrid draws the background, one ring per grade (the Excellent ring
// darker) and the spokes of a radar with n axes. It depends on n only, so it
// is drawn once per n.
func radarGrid(n int) string {
	if g, ok := radarGrids.Load(n); ok {
		return g.(string)
	}
	var b strings.Builder
	b.WriteString(`<rect x="-175" y="-175" width="350" height="350" fill="#ffffff"/>`)
	b.WriteString(`<g fill="none" stroke="#b9b2a0" stroke-width="1">`)
	for g := ARejeter; g <= Excellent; g++ {
		var pts []string
		for i := 0; i < n; i++ {
			x, y := radarPoint(i, n, float64(g))
			pts = append(pts, f1(x)+","+f1(y))
		}
		width := ""
		if g == Excellent {
			width = ` stroke="#767676" stroke-width="1.5"`
		}
		fmt.Fprintf(&b, `<polygon points="%s"%s><title>%s</title></polygon>`, strings.Join(pts, " "), width, g.Label())
	}
	b.WriteString(`</g>`)
	b.WriteString(`<g stroke="#b9b2a0" stroke-width="1">`)
	for i := 0; i < n; i++ {
		x, y := radarPoint(i, n, float64(Excellent))
		fmt.Fprintf(&b, `<line x1="0" y1="0" x2="%s" y2="%s"/>`, f1(x), f1(y))
	}
	b.WriteString(`</g>`)
	radarGrids.Store(n, b.String())
	return b.String()
}

// radarMarker draws a series' vertex marker: circle, square, triangle, diamond.
func radarMarker(series int, x, y float64, color string) string {
	const r = 4.0
	switch series % 4 {
	case 1:
		return fmt.Sprintf(`<rect x="%s" y="%s" width="8" height="8" fill="%s"/>`, f1(x-r), f1(y-r), color)
	case 2:
		return fmt.Sprintf(`<polygon points="%s,%s %s,%s %s,%s" fill="%s"/>`, f1(x), f1(y-r-1), f1(x+r+1), f1(y+r), f1(x-r-1), f1(y+r), color)
	case 3:
		return fmt.Sprintf(`<polygon points="%s,%s %s,%s %s,%s %s,%s" fill="%s"/>`, f1(x), f1(y-r-1), f1(x+r+1), f1(y), f1(x), f1(y+r+1), f1(x-r-1), f1(y), color)
	}
	return fmt.Sprintf(`<circle cx="%s" cy="%s" r="%s" fill="%s"/>`, f1(x), f1(y), f1(r), color)
}
