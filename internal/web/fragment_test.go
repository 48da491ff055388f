package web

import (
	"html/template"
	"strings"
	"testing"
)

func TestFragmentEscapesValues(t *testing.T) {
	var f Fragment
	hostile := "<script>alert(\"x\")</script> & 'co' + \x00"
	f.Tag(`<li class="`).Text(`a" onclick="x`).Tag(`">`).Text(hostile).Tag(" : ").Int(-42).
		Trusted(template.HTML("<em>gardé</em>")).Tag("</li>")
	want := `<li class="a&#34; onclick=&#34;x">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;co&#39; &#43; ` + "\uFFFD" + ` : -42<em>gardé</em></li>`
	if got := string(f.HTML()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// The same as html/template.
	var tf Fragment
	var buf strings.Builder
	tmpl := template.Must(template.New("").Parse(`<p title="{{.}}">{{.}}</p>`))
	if err := tmpl.Execute(&buf, hostile); err != nil {
		t.Fatal(err)
	}
	if got := string(tf.Tag(`<p title="`).Text(hostile).Tag(`">`).Text(hostile).Tag(`</p>`).HTML()); got != buf.String() {
		t.Fatalf("fragment %s\ntemplate %s", got, buf.String())
	}
	var pf Fragment
	if got := pf.Tag(`<a href="/registre/`).PathSegment("a b/c?d").Tag(`">`).HTML(); got != `<a href="/registre/a%20b%2Fc%3Fd">` {
		t.Fatalf("path segment: %s", got)
	}
	// Plain text is written as it is.
	var g Fragment
	if got := g.Text("Œufs, pêche").HTML(); got != "Œufs, pêche" {
		t.Fatalf("got %q", got)
	}
}
