package debate

import (
	"strings"
	"testing"
	"time"

	"cla/internal/web"
)

// hostile is text a member could type: markup, quotes, ampersands, unicode.
const hostile = `<script>alert("x")</script> & 'Œufs' — « bio » + 🐝`

// Card writes what its template twin debate/argument-card
// (templates/governance/debate_card.html) writes, for visible, hidden, edited,
// demo and reply arguments, and escapes what members wrote the same way.
func TestArgumentCardMatchesTheTemplate(t *testing.T) {
	when := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // the 2nd in Paris
	parent := int64(1)
	env := "Environnement & <santé> " + hostile
	a := &Argument{ID: 1, Stance: StanceFor, BodyHTML: "<p>Le riz <em>local</em></p>", AuthorName: `Jeanne "J" <b>F</b> ` + hostile,
		CreatedAt: when, DebateSlug: "riz-de-camargue", CriterionName: env, IsDemo: true, EditedAt: &when,
		Replies: []*Argument{
			{ID: 2, ParentID: &parent, Stance: StanceAgainst, BodyHTML: "<p>Non</p>", AuthorName: "Paul", CreatedAt: when, DebateSlug: "riz-de-camargue"},
			{ID: 3, ParentID: &parent, Stance: StanceFor, AuthorName: "Lucas", CreatedAt: when, DebateSlug: "riz-de-camargue",
				HiddenAt: &when, HiddenByName: "Karim", HiddenReason: "Propos <hors> sujet & 'blessant' " + hostile},
		}}
	hidden := &Argument{ID: 4, Stance: StanceAgainst, AuthorName: "Sophie", CreatedAt: when, DebateSlug: "riz-de-camargue",
		HiddenAt: &when, HiddenByName: "Karim", HiddenReason: "Doublon"}
	for _, arg := range []*Argument{a, hidden, a.Replies[0]} {
		var want strings.Builder
		if err := web.ExecuteTemplate(&want, "debate/argument-card", arg); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(strings.Fields(string(arg.Card())), " ")
		if w := strings.Join(strings.Fields(want.String()), " "); got != w {
			t.Errorf("argument %d:\nGo writer %s\ntemplate  %s", arg.ID, got, w)
		}
	}
	out := string(a.Card())
	for _, bad := range []string{"<b>F</b>", "<santé>", "<hors>", "<script>"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q", bad)
		}
	}
}
