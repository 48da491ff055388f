package markdown

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// xssPayloads are known cross-site scripting vectors (OWASP filter evasion
// cheat sheet, PortSwigger's list, markdown-specific ones).
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>`,
	`<img src=x onerror=alert(1)>`,
	`<IMG SRC="javascript:alert('XSS');">`,
	`<svg onload=alert(1)>`,
	`<svg><script>alert(1)</script></svg>`,
	`<body onload=alert(1)>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<a href="javascript:alert(1)">clic</a>`,
	`<a href="jav&#x09;ascript:alert(1)">clic</a>`,
	`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<details open ontoggle=alert(1)>`,
	`<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>`,
	`<form action="javascript:alert(1)"><button>x</button></form>`,
	`<input autofocus onfocus=alert(1)>`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="javascript:alert(1)//">`,
	`"><script>alert(1)</script>`,
	`'';!--"<XSS>=&{()}`,
	`[clic](javascript:alert(1))`,
	`[clic](JaVaScRiPt:alert(1))`,
	`[clic](  javascript:alert(1)  )`,
	`[clic](java	script:alert(1))`,
	`[clic](&#106;avascript:alert(1))`,
	`[clic](javascript&#58;alert(1))`,
	`[clic](vbscript:msgbox(1))`,
	`[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	`[clic](file:///etc/passwd)`,
	`![img](javascript:alert(1))`,
	`![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`,
	`[x](https://ok.example "title\" onmouseover=\"alert(1)")`,
	`<https://ok.example/"onmouseover="alert(1)>`,
	`<javascript:alert(1)>`,
	`[ref]: javascript:alert(1)` + "\n\n[ref]",
	"```html\n<script>alert(1)</script>\n```",
	"`<script>alert(1)</script>`",
	`<a href="https://ok.example" onclick="alert(1)">x</a>`,
	`<p style="color:red" onmouseover="alert(1)">x</p>`,
	`<<script>script>alert(1)<</script>/script>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<!--<script>alert(1)</script>-->`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<a href="https://ok.example" rel="opener">x</a>`,
	`<a href="https://ok.example" target="_blank">x</a>`,
	`http://ok.example/<script>alert(1)</script>`,
	`www.example.com/?q="><script>alert(1)</script>`,
	"<sc\x00ript>alert(1)</script>",
	"[x](java\x00script:alert(1))",
	"\xff\xfe<script>alert(1)</script>",
}

// checkSafe fails when out carries anything that could run: an element or
// attribute outside the allow-list, an event handler, a style, or a link whose
// scheme is not http, https or mailto.
func checkSafe(out string) error {
	allowed := map[string]bool{}
	for _, e := range AllowedElements {
		allowed[e] = true
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return nil
			}
			return z.Err()
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if !allowed[tok.Data] {
				return fmt.Errorf("element <%s> outside the allow-list", tok.Data)
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					return fmt.Errorf("event handler %s", a.Key)
				case key == "href":
					if err := checkURL(a.Val); err != nil {
						return err
					}
				case key == "title" || key == "start" || key == "align":
				case key == "rel":
					if tok.Data != "a" || a.Val != "nofollow noopener" {
						return fmt.Errorf("rel %q on <%s>", a.Val, tok.Data)
					}
				default:
					return fmt.Errorf("attribute %s on <%s>", a.Key, tok.Data)
				}
			}
			if tok.Data == "a" && tt == html.StartTagToken && hasAttr(tok, "href") && !hasAttr(tok, "rel") {
				return fmt.Errorf("link without rel: %s", tok)
			}
		}
	}
}

func hasAttr(tok html.Token, key string) bool {
	for _, a := range tok.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func checkURL(raw string) error {
	// Browsers ignore tabs, line breaks and leading control characters in URLs.
	cleaned := strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, raw)
	u, err := url.Parse(cleaned)
	if err != nil {
		return fmt.Errorf("unparseable href %q", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return nil
	case "":
		if i := strings.IndexByte(cleaned, ':'); i >= 0 && !strings.ContainsAny(cleaned[:i], "/?#") {
			return fmt.Errorf("href %q looks like a scheme", raw)
		}
		return nil
	}
	return fmt.Errorf("href with scheme %q: %q", u.Scheme, raw)
}

func TestKnownXSSPayloadsAreNeutralised(t *testing.T) {
	t.Parallel()
	for _, p := range xssPayloads {
		out := ToHTML(p)
		if err := checkSafe(out); err != nil {
			t.Errorf("payload %q: %v\noutput: %s", p, err, out)
		}
		low := strings.ToLower(out)
		for _, bad := range []string{"<script", "javascript:", "vbscript:", "data:text", "onerror=", "onload=", "<img", "<iframe", "<svg", "style="} {
			if strings.Contains(low, bad) && !strings.Contains(low, "&lt;") && bad != "javascript:" {
				t.Errorf("payload %q: output contains %q: %s", p, bad, out)
			}
		}
		// An href can never carry those schemes, whatever the text says.
		if strings.Contains(low, `href="javascript`) || strings.Contains(low, `href="data:`) || strings.Contains(low, `href="vbscript`) {
			t.Errorf("payload %q: dangerous href: %s", p, out)
		}
	}
}

func TestFormattingAndLinksSurvive(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"**gras** et _italique_":                "<strong>gras</strong> et <em>italique</em>",
		"[la caisse](https://caisse.example/a)": `<a href="https://caisse.example/a" rel="nofollow noopener">la caisse</a>`,
		"voir https://caisse.example":           `<a href="https://caisse.example" rel="nofollow noopener">https://caisse.example</a>`,
		"- un\n- deux":                          "<li>un</li>",
		"> citation":                            "<blockquote>",
		"| a | b |\n|---|---|\n| 1 | 2 |":       "<td>1</td>",
		"[écrire](mailto:cla@example.org)":      `href="mailto:cla@example.org"`,
		"Texte <b>brut</b> & signes < >":        "Texte brut &amp; signes &lt; &gt;",
		"[relatif](/debats/riz-de-camargue)":    `href="/debats/riz-de-camargue"`,
		"~~barré~~":                             "<del>barré</del>",
		"`<script>`":                            "<code>&lt;script&gt;</code>",
	}
	for in, want := range cases {
		out := ToHTML(in)
		if !strings.Contains(out, want) {
			t.Errorf("ToHTML(%q) = %q, want it to contain %q", in, out, want)
		}
		if err := checkSafe(out); err != nil {
			t.Errorf("ToHTML(%q): %v", in, err)
		}
	}
}

func TestInvalidUTF8AndControlsAreCleaned(t *testing.T) {
	t.Parallel()
	out := ToHTML("caf\xe9 \x00ok\r\nligne" + string(Mark) + "x")
	if !utf8.ValidString(out) || strings.ContainsRune(out, 0) || strings.ContainsRune(out, Mark) {
		t.Errorf("output %q", out)
	}
	if !strings.Contains(out, "caf\uFFFD") || !strings.Contains(out, "ok") {
		t.Errorf("text lost: %q", out)
	}
}

func TestToText(t *testing.T) {
	t.Parallel()
	got := ToText(ToHTML("# Titre\n\nLe **riz** de [Camargue](https://x.example) &amp; l'eau"))
	if got != "Titre Le riz de Camargue & l'eau" {
		t.Errorf("ToText = %q", got)
	}
}

func FuzzToHTML(f *testing.F) {
	for _, p := range xssPayloads {
		f.Add(p)
	}
	f.Add("**gras** [lien](https://a.example) <b>x</b>")
	f.Fuzz(func(t *testing.T, src string) {
		out := ToHTML(src)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output for %q", src)
		}
		if err := checkSafe(out); err != nil {
			t.Fatalf("input %q: %v\noutput: %s", src, err, out)
		}
	})
}
