package debate

import (
	"html/template"
	"strconv"

	"cla/internal/web"
)

// Card renders the argument as its debate and its own page show it, with its
// replies. A debate can hold hundreds of arguments: written with web.Fragment
// rather than a template (docs/perf.md); DebateSlug must be set, for the links.
// Its template twin, debate/argument-card (templates/governance/debate_card.html),
// holds the same markup; a test renders both and compares them: change both
// together.
func (a *Argument) Card() template.HTML {
	var f web.Fragment
	f.Grow(1024 + len(a.BodyHTML))
	a.writeCard(&f)
	return f.HTML()
}

// Cards renders the cards of a column's arguments, in one call from the
// debate's template: one template action per column rather than per argument
// (each action costs html/template a reflective call and an escaper).
func (c stanceColumn) Cards() template.HTML {
	n := 0
	for _, a := range c.Arguments {
		n += 1024 + len(a.BodyHTML)
		for _, r := range a.Replies {
			n += 1024 + len(r.BodyHTML)
		}
	}
	var f web.Fragment
	f.Grow(n)
	for _, a := range c.Arguments {
		a.writeCard(&f)
	}
	return f.HTML()
}

func (a *Argument) writeCard(f *web.Fragment) {
	f.Tag("\n<article class=\"argument stance-").Text(string(a.Stance))
	if a.ParentID != nil {
		f.Tag(" reply")
	}
	if a.Hidden() {
		f.Tag(" is-hidden")
	}
	f.Tag("\" id=\"").Text(a.Anchor()).Tag("\">\n  <p class=\"argument-tags\"><span class=\"stance-label\">").Text(a.Stance.Label()).Tag("</span>")
	if a.CriterionName != "" {
		f.Tag(" <span class=\"criterion-tag\">").Text(a.CriterionName).Tag("</span>")
	}
	f.Tag("</p>")
	if a.Hidden() {
		f.Tag("\n  <p class=\"argument-hidden\">Argument masqué par ").Text(a.HiddenByName).Tag(" : ").Text(a.HiddenReason).Tag("</p>")
	} else {
		f.Tag("\n  <div class=\"argument-body\">").Trusted(template.HTML(a.BodyHTML)).Tag("</div>") //nolint:gosec // sanitised when saved
	}
	link := a.Permalink()
	f.Tag("\n  <p class=\"argument-meta\">").Text(a.AuthorName)
	if a.IsDemo {
		f.Tag(" <span class=\"muted\">(exemple de démonstration)</span>")
	}
	f.Tag(" · <time datetime=\"").Text(a.CreatedAt.In(web.Paris()).Format("2006-01-02")).Tag("\">").Text(web.FrenchDate(a.CreatedAt)).Tag("</time>")
	if a.EditedAt != nil {
		f.Tag(" · <a href=\"").Text(link).Tag("#historique\">modifié</a>")
	}
	f.Tag(" · <a href=\"").Text(link).Tag("\" aria-label=\"lien permanent de l'argument ").Text(strconv.FormatInt(a.ID, 10)).Tag("\">lien permanent</a>")
	if a.ParentID == nil && !a.Hidden() {
		f.Tag(" · <a href=\"").Text(link).Tag("#repondre\">répondre</a>")
	}
	f.Tag("</p>")
	if len(a.Replies) > 0 {
		f.Tag("\n  <div class=\"replies\">")
		for _, r := range a.Replies {
			r.writeCard(f)
		}
		f.Tag("\n  </div>")
	}
	f.Tag("\n</article>\n")
}
