package web

import (
	"html/template"
	"testing"
)

func TestFragmentEscapesValues(t *testing.T) {
	var f Fragment
	hostile := `<script>alert("x")</script> & 'co'`
	f.Tag(`<li class="`).Text(`a" onclick="x`).Tag(`">`).Text(hostile).Tag(" : ").Int(-42).
		Trusted(template.HTML("<em>gardé</em>")).Tag("</li>")
	want := `<li class="a&#34; onclick=&#34;x">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;co&#39; : -42<em>gardé</em></li>`
	if got := string(f.HTML()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Plain text is written as it is.
	var g Fragment
	if got := g.Text("Œufs, pêche").HTML(); got != "Œufs, pêche" {
		t.Fatalf("got %q", got)
	}
}
