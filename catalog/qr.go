package catalog

import (
	"html/template"
	"strconv"
	"strings"

	"rsc.io/qr"
)

// QRCodeSVG returns an inline SVG QR code (medium error correction) for text,
// drawn with presentation attributes only, as the CSP forbids style attributes.
func QRCodeSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	const quiet = 4
	n := code.Size + 2*quiet
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 `)
	b.WriteString(strconv.Itoa(n) + " " + strconv.Itoa(n))
	b.WriteString(`" role="img" aria-label="QR code vers la page du point de vente" shape-rendering="crispEdges">`)
	b.WriteString(`<rect width="` + strconv.Itoa(n) + `" height="` + strconv.Itoa(n) + `" fill="#fff"/><path fill="#000" d="`)
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				b.WriteString("M" + strconv.Itoa(x+quiet) + " " + strconv.Itoa(y+quiet) + "h1v1h-1z")
			}
		}
	}
	b.WriteString(`"/></svg>`)
	// Built from numbers only: safe to mark as HTML.
	return template.HTML(b.String()), nil //nolint:gosec
}
