package browsertest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestGatesBite proves that the runners the quality gates use detect what they
// must: console errors and exceptions, axe-core violations (an unlabelled input,
// an img without alt), and invalid HTML. One browser for all, as in the gates.
func TestGatesBite(t *testing.T) {
	b := Start(t)

	t.Run("console errors and exceptions", func(t *testing.T) {
		p := b.NewPage(t)
		if err := p.SetContent(`<!doctype html><html lang="en"><title>x</title><p>hi</p>` +
			`<script>console.error("boom"); setTimeout(() => { throw new Error("kaput") }, 0)</script>`); err != nil {
			t.Fatal(err)
		}
		if _, err := Eval[bool](p, `new Promise(r => setTimeout(() => r(true), 50))`); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(p.Problems(), "\n")
		if !strings.Contains(got, "boom") || !strings.Contains(got, "kaput") {
			t.Errorf("console error and exception not both recorded: %q", got)
		}
		if again := p.Problems(); len(again) != 0 {
			t.Errorf("Problems does not forget what it returned: %q", again)
		}
	})

	t.Run("CSP violations are problems on a strict page", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><html lang="fr"><title>x</title><p style="color:red">x</p><script>console.log(1)</script>`))
		}))
		defer srv.Close()
		p := b.NewStrictPage(t)
		if _, err := p.Navigate(srv.URL); err != nil {
			t.Fatal(err)
		}
		// axe still runs under the page's CSP.
		if _, err := p.Axe(); err != nil {
			t.Fatalf("axe under CSP: %v", err)
		}
		got := strings.Join(p.Problems(), "\n")
		if !strings.Contains(got, "inline style") || !strings.Contains(got, "inline script") {
			t.Errorf("CSP violations not reported: %q", got)
		}
	})

	t.Run("axe finds an unlabelled input and an img without alt", func(t *testing.T) {
		p := b.NewPage(t)
		if err := p.SetContent(`<!doctype html><html lang="fr"><head><title>Essai</title></head><body><main>
			<h1>Essai</h1><form><input type="text" name="nom"></form><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
			</main></body></html>`); err != nil {
			t.Fatal(err)
		}
		vs, err := p.Axe()
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, v := range vs {
			if v.Serious() {
				found[v.ID] = true
			}
		}
		if !found["label"] || !found["image-alt"] {
			t.Errorf("serious violations %v, want label and image-alt; all: %v", found, vs)
		}
	})

	t.Run("axe passes a clean page", func(t *testing.T) {
		p := b.NewPage(t)
		if err := p.SetContent(`<!doctype html><html lang="fr"><head><title>Essai</title></head><body><main>
			<h1>Essai</h1><form><label for="n">Nom</label><input id="n" type="text" name="nom"></form>
			<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Logo"></main></body></html>`); err != nil {
			t.Fatal(err)
		}
		vs, err := p.Axe()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Serious() {
				t.Errorf("clean page: %s", v)
			}
		}
	})

	t.Run("print to PDF", func(t *testing.T) {
		p := b.NewPage(t)
		if err := p.SetContent(`<!doctype html><html lang="fr"><head><title>A4</title><style>@page { size: A4 }</style></head><body><h1>Affiche</h1></body></html>`); err != nil {
			t.Fatal(err)
		}
		pdf, err := p.PDF()
		if err != nil {
			t.Fatal(err)
		}
		// A4 is 595.28 × 841.89 points (Chromium rounds to 594.96 × 841.92).
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !regexp.MustCompile(`/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]`).Match(pdf) {
			t.Errorf("not an A4 PDF: %d bytes, %.40q", len(pdf), pdf)
		}
	})
}

func TestValidateHTML(t *testing.T) {
	res, err := ValidateHTML([]Document{
		{Name: "valid", HTML: []byte(`<!doctype html><html lang="fr"><head><title>ok</title></head><body><p>Bonjour</p></body></html>`)},
		{Name: "invalid", HTML: []byte(`<!doctype html><html lang="fr"><head><title>ko</title></head><body><p><div>x</p><img src="a.png"></body></html>`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res["valid"]) != 0 {
		t.Errorf("valid document reported: %v", res["valid"])
	}
	msgs := res["invalid"]
	joined := ""
	for _, m := range msgs {
		joined += m.String() + "\n"
	}
	if len(msgs) < 2 || !strings.Contains(joined, "alt") {
		t.Errorf("invalid document: want errors incl. the missing alt, got:\n%s", joined)
	}
}
