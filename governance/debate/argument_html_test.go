package debate

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"cla/internal/web"
)

// cardTemplate is the template Argument.Card replaced, kept to check that the
// card reads exactly as it did.
const cardTemplate = `{{define "debate/argument-card"}}
<article class="argument stance-{{.Stance}}{{if .ParentID}} reply{{end}}{{if .Hidden}} is-hidden{{end}}" id="{{.Anchor}}">
  <p class="argument-tags"><span class="stance-label">{{.Stance.Label}}</span>{{with .CriterionName}} <span class="criterion-tag">{{.}}</span>{{end}}</p>
  {{- if .Hidden}}
  <p class="argument-hidden">Argument masqué par {{.HiddenByName}} : {{.HiddenReason}}</p>
  {{- else}}
  <div class="argument-body">{{storedHTML .BodyHTML}}</div>
  {{- end}}
  <p class="argument-meta">{{.AuthorName}}{{if .IsDemo}} <span class="muted">(exemple de démonstration)</span>{{end}} · <time datetime="{{isodate .CreatedAt}}">{{frdate .CreatedAt}}</time>{{if .EditedAt}} · <a href="{{.Permalink}}#historique">modifié</a>{{end}} · <a href="{{.Permalink}}" aria-label="lien permanent de l'argument {{.ID}}">lien permanent</a>{{if and (not .ParentID) (not .Hidden)}} · <a href="{{.Permalink}}#repondre">répondre</a>{{end}}</p>
  {{- if .Replies}}
  <div class="replies">
    {{- range .Replies}}{{template "debate/argument-card" .}}{{end}}
  </div>
  {{- end}}
</article>
{{end}}
`

// Card writes what the template wrote, for visible, hidden, edited, demo and
// reply arguments, and escapes what members wrote.
func TestArgumentCardMatchesTheTemplate(t *testing.T) {
	tmpl := template.Must(template.New("").Funcs(template.FuncMap{
		"storedHTML": func(s string) template.HTML { return template.HTML(s) }, //nolint:gosec // test data
		"isodate":    func(t time.Time) string { return t.In(web.Paris()).Format("2006-01-02") },
		"frdate":     web.FrenchDate,
	}).Parse(cardTemplate))
	when := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // the 2nd in Paris
	parent := int64(1)
	env := "Environnement & <santé>"
	a := &Argument{ID: 1, Stance: StanceFor, BodyHTML: "<p>Le riz <em>local</em></p>", AuthorName: `Jeanne "J" <b>F</b>`,
		CreatedAt: when, DebateSlug: "riz-de-camargue", CriterionName: env, IsDemo: true, EditedAt: &when,
		Replies: []*Argument{
			{ID: 2, ParentID: &parent, Stance: StanceAgainst, BodyHTML: "<p>Non</p>", AuthorName: "Paul", CreatedAt: when, DebateSlug: "riz-de-camargue"},
			{ID: 3, ParentID: &parent, Stance: StanceFor, AuthorName: "Lucas", CreatedAt: when, DebateSlug: "riz-de-camargue",
				HiddenAt: &when, HiddenByName: "Karim", HiddenReason: "Propos <hors> sujet & 'blessant'"},
		}}
	hidden := &Argument{ID: 4, Stance: StanceAgainst, AuthorName: "Sophie", CreatedAt: when, DebateSlug: "riz-de-camargue",
		HiddenAt: &when, HiddenByName: "Karim", HiddenReason: "Doublon"}
	for _, arg := range []*Argument{a, hidden, a.Replies[0]} {
		var want strings.Builder
		if err := tmpl.ExecuteTemplate(&want, "debate/argument-card", arg); err != nil {
			t.Fatal(err)
		}
		if got := string(arg.Card()); got != want.String() {
			t.Errorf("argument %d:\ncard     %q\ntemplate %q", arg.ID, got, want.String())
		}
	}
	out := string(a.Card())
	for _, bad := range []string{"<b>F</b>", "<santé>", "<hors>"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q", bad)
		}
	}
}
