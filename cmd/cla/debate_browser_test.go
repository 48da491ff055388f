package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/webtest"
)

// debateBrowser is a tab of headless Chromium with small helpers.
type debateBrowser struct {
	t *testing.T
	p *browsertest.Page
}

func (b debateBrowser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ok, err := browsertest.Eval[bool](b.p, cond); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: timed out waiting for %s", what, cond)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b debateBrowser) do(what, script string) {
	b.t.Helper()
	if _, err := browsertest.Eval[bool](b.p, "(() => { "+script+"; return true })()"); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b debateBrowser) eval(expr string) string {
	b.t.Helper()
	s, err := browsertest.Eval[string](b.p, expr)
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return s
}

func (b debateBrowser) open(url string) {
	b.t.Helper()
	if status, err := b.p.Navigate(url); err != nil || status != 200 {
		b.t.Fatalf("GET %s: %d %v", url, status, err)
	}
}

// TestBrowserMemberArguesAndACitizenReadsThePermalink: in headless Chromium
// with the app's CSP enforced, a member signs in through the real form, adds a
// "contre" argument tagged "Santé de l'environnement" through the debate form;
// it shows on the contre side and under that criterion's filter; a citizen
// without an account opens its permalink and reads it.
func TestBrowserMemberArguesAndACitizenReadsThePermalink(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	co := demoCouncilID(t, m.DB)
	_, email := webtest.CreateMember(t, m.DB, co, authz.Member, "Inès Argumente")
	base := "http://" + m.Addr()
	br := browsertest.Start(t)
	member := debateBrowser{t, br.NewStrictPage(t)}

	member.open(base + "/connexion")
	member.do("sign in", fmt.Sprintf(`document.querySelector('#email').value = %q; document.querySelector('#password').value = %q;
		document.querySelector('#password').form.querySelector('button[type=submit], button:not([type])').click()`, email, webtest.Password))
	member.waitFor("sign in", `location.pathname !== '/connexion' && document.readyState === 'complete'`)

	member.open(base + "/debats/riz-de-camargue")
	text := "Pomper l'eau du Rhône pour les rizières assèche les zones humides."
	member.do("fill the argument form", fmt.Sprintf(`
		document.querySelector('#nouvel-stance').value = 'contre';
		const sel = document.querySelector('#nouvel-criterion');
		sel.value = Array.from(sel.options).find(o => o.textContent === "Santé de l'environnement").value;
		document.querySelector('#nouvel-body').value = %q;
		document.querySelector('#ajouter button[type=submit]').click()`, text))
	member.waitFor("argument published", `location.hash.startsWith('#argument-') && document.readyState === 'complete'`)
	anchor := strings.TrimPrefix(member.eval(`location.hash`), "#")
	if got := member.eval(fmt.Sprintf(`(document.querySelector('.side-contre #%s') || {textContent: ''}).textContent`, anchor)); !strings.Contains(got, text) || !strings.Contains(got, "Santé de l'environnement") {
		t.Fatalf("the argument is not on the contre side: %q", got)
	}
	if n := member.eval(fmt.Sprintf(`String(document.querySelectorAll('.side-pour #%s').length)`, anchor)); n != "0" {
		t.Error("the contre argument also shows on the pour side")
	}
	// The criterion filter is a plain GET form: choose the criterion and submit.
	member.do("filter", `const sel = document.querySelector('#critere');
		sel.value = Array.from(sel.options).find(o => o.textContent === "Santé de l'environnement").value;
		sel.form.querySelector('button[type=submit]').click()`)
	member.waitFor("filtered", `location.search.includes('critere=') && document.readyState === 'complete'`)
	if got := member.eval(fmt.Sprintf(`(document.querySelector('#arguments #%s') || {textContent: ''}).textContent`, anchor)); !strings.Contains(got, text) {
		t.Error("the filtered page lacks the argument")
	}
	if got := member.eval(`document.querySelector('#arguments-titre').textContent`); !strings.Contains(got, "Santé de l'environnement") {
		t.Errorf("filtered heading: %q", got)
	}
	if got := member.eval(`Array.from(document.querySelectorAll('#arguments .argument')).map(a => a.textContent).join('|')`); strings.Contains(got, "Le riz est un produit de base") {
		t.Error("the filter keeps an argument on another criterion")
	}
	if problems := member.p.Problems(); len(problems) > 0 {
		t.Errorf("console errors: %v", problems)
	}

	// A citizen without an account reads it through its permalink.
	citizen := debateBrowser{t, br.NewStrictPage(t)}
	id := strings.TrimPrefix(anchor, "argument-")
	citizen.open(base + "/debats/riz-de-camargue/arguments/" + id)
	if got := citizen.eval(`document.querySelector('main').textContent`); !strings.Contains(got, text) || strings.Contains(got, "Répondre") && strings.Contains(got, "Publier la réponse") {
		t.Errorf("permalink for a citizen: %q", got)
	}
	citizen.open(base + "/debats/riz-de-camargue#" + anchor)
	if got := citizen.eval(`document.querySelector(':target') ? document.querySelector(':target').id : ''`); got != anchor {
		t.Errorf("the #anchor does not target the argument: %q", got)
	}
}

// TestBrowserHostileMarkdownNeverRuns posts known XSS payloads as arguments,
// then loads the debate page in a tab that BYPASSES the CSP (so only the
// sanitiser stands between the payloads and execution): no payload runs, and no
// script, event handler or javascript:/data: link reaches the document.
func TestBrowserHostileMarkdownNeverRuns(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	co := demoCouncilID(t, m.DB)
	member, _ := webtest.SignIn(t, m.App, m.DB, co, authz.Member)
	run := "window.__xss=(window.__xss||0)+1"
	payloads := []string{
		`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `<svg onload=alert(1)>`, `<body onload=alert(1)>`,
		`<iframe src="javascript:alert(1)"></iframe>`, `<a href="javascript:alert(1)">clic</a>`, `[clic](javascript:alert(1))`,
		`[clic](JaVaScRiPt:alert(1))`, `[clic](&#106;avascript:alert(1))`, `[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
		`![x](javascript:alert(1))`, `<details open ontoggle=alert(1)>`, `<input autofocus onfocus=alert(1)>`,
		`[x](https://ok.example "t\" onmouseover=\"alert(1)")`, `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, `<a href="https://ok.example" onclick="alert(1)">x</a>`,
		"<sc\x00ript>alert(1)</script>", `"><script>alert(1)</script>`, `<scr<script>ipt>alert(1)</scr</script>ipt>`,
	}
	for _, p := range payloads {
		body := "Argument piégé\n\n" + strings.ReplaceAll(p, "alert(1)", run)
		if resp, _ := member.PostForm("/debats/produits-de-la-peche/arguments", url.Values{"stance": {"contre"}, "body": {body}}); resp.StatusCode != 303 {
			t.Fatalf("payload %q: %d", p, resp.StatusCode)
		}
	}
	br := browsertest.Start(t)
	page := debateBrowser{t, br.NewPage(t)} // CSP bypassed on purpose
	// The detector bites: unsanitised, the same payload does run.
	if err := page.p.SetContent(`<img src=x onerror="` + run + `">`); err != nil {
		t.Fatal(err)
	}
	page.waitFor("control payload", `window.__xss === 1`)
	page.open("http://" + m.Addr() + "/debats/produits-de-la-peche")
	// Give onload/onfocus/ontoggle handlers a chance to fire, and hover everything.
	page.do("hover", `document.querySelectorAll('.argument-body *').forEach(e => { e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); e.dispatchEvent(new FocusEvent('focus')); })`)
	time.Sleep(500 * time.Millisecond)
	if got := page.eval(`String(window.__xss || 0)`); got != "0" {
		t.Errorf("%s payload(s) ran in the browser", got)
	}
	if n, err := browsertest.Eval[int](page.p, `document.querySelectorAll('.argument').length`); err != nil || n < len(payloads) {
		t.Errorf("only %d arguments shown for %d payloads (%v)", n, len(payloads), err)
	}
	bad := page.eval(`Array.from(document.querySelectorAll('main *')).flatMap(e => {
		const out = [];
		if (['SCRIPT','IFRAME','OBJECT','EMBED','SVG','MATH','IMG','STYLE','BASE','META','FORM','INPUT','DETAILS'].includes(e.tagName) && e.closest('.argument-body')) out.push(e.tagName);
		for (const a of e.attributes) {
			if (/^on/i.test(a.name)) out.push(e.tagName + '@' + a.name);
			if ((a.name === 'href' || a.name === 'src') && /^\s*(javascript|data|vbscript):/i.test(a.value)) out.push(e.tagName + '@' + a.name + '=' + a.value);
		}
		return out;
	}).join(', ')`)
	if bad != "" {
		t.Errorf("dangerous markup reached the document: %s", bad)
	}
	if problems := page.p.Problems(); len(problems) > 0 {
		t.Logf("console (informational): %v", problems)
	}
}
