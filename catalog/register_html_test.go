package catalog_test

import (
	"strings"
	"testing"
	"time"

	"cla/catalog"
	"cla/internal/web"
)

// sameHTML compares two pieces of HTML with runs of white space made one space.
func sameHTML(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := strings.Join(strings.Fields(got), " "), strings.Join(strings.Fields(want), " ")
	if g != w {
		t.Errorf("%s:\nGo writer %s\ntemplate  %s", what, g, w)
	}
}

// hostile is text a member could type: markup, quotes, ampersands, unicode.
const hostile = `<script>alert("x")</script> & 'Œufs' — « bio » + 🐝`

// RegisterSections writes what its template twin catalog/register-sections
// writes, on every kind of row (family, category listing its products, category
// sending to its page, product), with hostile text escaped the same way.
func TestRegisterSectionsMatchesItsTemplate(t *testing.T) {
	review := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC) // already April in Paris
	rows := []*catalog.Row{
		{Slug: "fruits", Name: "Fruits " + hostile, Status: catalog.Conventionne, StatusLabel: "Conventionné",
			ExplanationHTML: "<p>Expliqué <em>ici</em></p>", Children: []*catalog.Row{
				{Slug: "pommes", Name: "Pommes", Status: catalog.SousConditions, StatusLabel: "Sous conditions",
					Conditions: "Conditions " + hostile, ReviewOn: &review, Children: []*catalog.Row{
						{Slug: "pomme-golden", Name: `Golden "jaune"`, Status: catalog.NonConventionne, StatusLabel: "Non conventionné",
							Reason: "Raison " + hostile},
						{Slug: "pomme-reinette", Name: "Reinette & Cie", Status: catalog.Conventionne, StatusLabel: "Conventionné"},
					}},
				{Slug: "poires", Name: "Poires <b>", Status: catalog.DebatSouhaite, StatusLabel: "Débat souhaité", More: true, ProductCount: 42},
			}},
		{Slug: "cafe", Name: "Café", Status: catalog.Conventionne, StatusLabel: "Conventionné"},
	}
	var want strings.Builder
	if err := web.ExecuteTemplate(&want, "catalog/register-sections", rows); err != nil {
		t.Fatal(err)
	}
	got := string(catalog.RegisterSections(rows))
	sameHTML(t, "register sections", got, want.String())
	if strings.Contains(got, "<script>") || strings.Contains(got, "<b>") {
		t.Errorf("unescaped text in %s", got)
	}
	for _, w := range []string{"Voir les 42 produits", `datetime="2026-04-01"`, "<em>ici</em>", "🐝", `Golden &#34;jaune&#34;`} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in %s", w, got)
		}
	}
	if empty := catalog.RegisterSections(nil); empty != "" {
		t.Errorf("no family: %q", empty)
	}
}
