package boussole

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// svgElements parses an SVG document and counts its elements by name; it fails
// the test on malformed XML.
func svgElements(t *testing.T, svg string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	counts := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return counts
		}
		if err != nil {
			t.Fatalf("malformed SVG: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
			for _, a := range se.Attr {
				if a.Name.Local == "style" {
					t.Errorf("style attribute on <%s>: the CSP forbids inline styles", se.Name.Local)
				}
			}
		}
	}
}

func TestRadarSVG(t *testing.T) {
	t.Parallel()
	var axes []RadarAxis
	for i := 1; i <= 12; i++ {
		axes = append(axes, RadarAxis{Number: i, Name: "Critère <" + string(rune('a'+i)) + "> & co"})
	}
	values := []Grade{Excellent, TresBien, Bien, AssezBien, Passable, Insuffisant, ARejeter, NoOpinion, Bien, Bien, Bien, Bien}
	series := []RadarSeries{{Label: `Riz "bio" <script>`, Values: values}, {Label: "Épeautre", Values: nil},
		{Label: "Trois", Values: values}, {Label: "Quatre", Values: values}}
	svg := string(RadarSVG("radar", "Comparaison <test>", axes, series, true))
	if !strings.HasPrefix(svg, `<?xml version="1.0" encoding="UTF-8"?>`) || !strings.Contains(svg, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("standalone SVG lacks its declaration or namespace")
	}
	el := svgElements(t, svg)
	if el["svg"] != 1 || el["text"] != 12 || el["line"] != 12 || el["g"] < 4 {
		t.Errorf("elements: %v", el)
	}
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") {
		t.Error("series label not escaped")
	}
	if !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, `<title id="radar-title">Comparaison &lt;test&gt;</title>`) {
		t.Error("no accessible name")
	}
	// The first axis points up: Excellent on the rim (radius 130), the centre for
	// "sans avis" on axis 8.
	if !strings.Contains(svg, `points="0.0,-130.0 `) {
		t.Errorf("first value not on the rim:\n%s", svg)
	}
	// Four series are told apart by dash pattern and marker shape, not only colour.
	for _, want := range []string{`stroke-dasharray="8 4"`, `stroke-dasharray="3 3"`, `stroke-dasharray="10 3 2 3"`, "<rect x=", "<circle "} {
		if !strings.Contains(svg, want) {
			t.Errorf("series style %q missing", want)
		}
	}
	inline := string(RadarSVG("radar", "x", axes, series[:1], false))
	if strings.HasPrefix(inline, "<?xml") {
		t.Error("inline SVG carries an XML declaration")
	}
	svgElements(t, inline)
	// Fewer than three axes cannot make a radar, but still gives a valid image.
	svgElements(t, string(RadarSVG("radar", "x", axes[:2], series, true)))
}

func TestRadarIDsArePrefixed(t *testing.T) {
	axes := []RadarAxis{{1, "a"}, {2, "b"}, {3, "c"}}
	svg := string(RadarSVG("radar-42", "x", axes, []RadarSeries{{Label: "P", Values: []Grade{1, 2, 3}}}, false))
	if !strings.Contains(svg, `id="radar-42-title"`) || !strings.Contains(svg, `aria-labelledby="radar-42-title radar-42-desc"`) || strings.Contains(svg, `id="radar-title"`) {
		t.Errorf("ids not prefixed: %.300s", svg)
	}
}
