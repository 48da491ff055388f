package web

import (
	"strings"
	"testing"
	"time"
)

func TestFrenchDate(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC):    "1er mars 2025",
		time.Date(2025, 8, 15, 12, 0, 0, 0, time.UTC):   "15 août 2025",
		time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC): "1er janvier 2026", // already the next day in Paris
		{}: "",
	}
	for in, want := range cases {
		if got := FrenchDate(in); got != want {
			t.Errorf("FrenchDate(%v) = %q, want %q", in, got, want)
		}
	}
}

// The header's navigation marks the current section and escapes the account's
// name; its markup reads as the Go writer it replaced (NavItems) wrote it.
func TestHeaderNavigation(t *testing.T) {
	render := func(p Page) string {
		var b strings.Builder
		if err := ExecuteTemplate(&b, "partials/header", p); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		start, end := strings.Index(out, "<ul>"), strings.Index(out, "</ul>")
		if start < 0 || end < start {
			t.Fatalf("no navigation list in %s", out)
		}
		return out[start : end+len("</ul>")]
	}
	got := render(Page{Path: "/debats/riz", Viewer: &Viewer{Name: `Jo <b>"&'`}})
	want := `<ul>
        <li><a href="/registre">Registre</a></li>
        <li><a href="/debats" aria-current="page">Débats</a></li>
        <li><a href="/propositions">Propositions</a></li>
        <li><a href="/seances">Séances</a></li>
        <li><a href="/points-de-vente">Points de vente</a></li>
        <li><a href="/conseil">Le conseil</a></li>
        <li><a href="/compte">Jo &lt;b&gt;&#34;&amp;&#39;</a></li>
      </ul>`
	if got != want {
		t.Errorf("signed in:\ngot  %s\nwant %s", got, want)
	}
	got = render(Page{Path: "/debatsx"})
	if strings.Contains(got, "aria-current") || !strings.Contains(got, `<li><a href="/connexion">Connexion</a></li>`) {
		t.Errorf("anonymous on /debatsx: %s", got)
	}
	if got := render(Page{Path: "/connexion"}); !strings.Contains(got, `<a href="/connexion" aria-current="page">Connexion</a>`) {
		t.Errorf("sign-in page: %s", got)
	}
}
