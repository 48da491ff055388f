package catalog

import (
	"html/template"

	"cla/internal/web"
)

// RegisterSections renders the register page's body: a section per family with
// its categories, their conditions, reasons and explanations, and the products
// of the small categories. With 2,000 items the page has a few hundred such
// values: written with web.Fragment rather than html/template, whose
// reflection and escaper calls were most of the uncached page's cost
// (docs/perf.md). Its template twin, catalog/register-sections
// (templates/catalog/register_sections.html), holds the same markup; a test
// renders both and compares them: change both together.
func RegisterSections(families []*Row) template.HTML {
	var f web.Fragment
	f.Grow(4 << 10 * len(families)) // about 3.3 KB per family in a 2,000-item register
	for _, fam := range families {
		f.Tag("\n  <section class=\"family register-family\" aria-labelledby=\"famille-").Text(fam.Slug).Tag("\">\n    <h2 id=\"famille-").
			Text(fam.Slug).Tag("\">")
		itemLink(&f, fam, false)
		f.Tag("</h2>\n    ")
		itemDetails(&f, fam)
		if len(fam.Children) > 0 {
			f.Tag("\n    <ul class=\"register-items\">")
			for _, cat := range fam.Children {
				f.Tag("\n      <li id=\"").Text(cat.Slug).Tag("\">")
				itemLink(&f, cat, true)
				f.Tag("\n        ")
				itemDetails(&f, cat)
				if cat.More {
					f.Tag("\n        <p class=\"more\"><a href=\"/registre/").PathSegment(cat.Slug).Tag("\">Voir les ").Int(cat.ProductCount).
						Tag(" produits précisés pour ").Text(cat.Name).Tag("</a></p>")
				} else if len(cat.Children) > 0 {
					f.Tag("\n        <ul>")
					for _, p := range cat.Children {
						f.Tag("\n          <li id=\"").Text(p.Slug).Tag("\">")
						itemLink(&f, p, false)
						f.Tag("\n            ")
						itemDetails(&f, p)
						f.Tag("\n          </li>")
					}
					f.Tag("\n        </ul>")
				}
				f.Tag("\n      </li>")
			}
			f.Tag("\n    </ul>")
		}
		f.Tag("\n  </section>")
	}
	return f.HTML()
}

// itemLink writes an item's name, linked to its page (strong for a
// category), and its status.
func itemLink(f *web.Fragment, r *Row, strong bool) {
	f.Tag("<a href=\"/registre/").PathSegment(r.Slug).Tag("\">")
	if strong {
		f.Tag("<strong>").Text(r.Name).Tag("</strong>")
	} else {
		f.Text(r.Name)
	}
	f.Tag("</a> <span class=\"status status-").Text(string(r.Status)).Tag("\">").Text(r.StatusLabel).Tag("</span>")
}

// itemDetails writes what the catalog/item-details template writes: the
// conditions, the review date, the reason and the explanation.
func itemDetails(f *web.Fragment, r *Row) {
	if r.Conditions != "" {
		f.Tag("<p class=\"conditions\">Conditions : ").Text(r.Conditions).Tag("</p>")
	}
	if r.ReviewOn != nil {
		f.Tag("<p class=\"review\">À réexaminer le <time datetime=\"").Text(r.ReviewOn.In(web.Paris()).Format("2006-01-02")).Tag("\">").
			Text(web.FrenchDate(*r.ReviewOn)).Tag("</time>.</p>")
	}
	if r.Reason != "" {
		f.Tag("<p class=\"reason\">Raison : ").Text(r.Reason).Tag("</p>")
	}
	if r.ExplanationHTML != "" {
		f.Tag("<div class=\"explanation\">").Trusted(template.HTML(r.ExplanationHTML)).Tag("</div>") //nolint:gosec // sanitised when saved
	}
}
