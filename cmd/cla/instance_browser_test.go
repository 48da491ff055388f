package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cla/governance/instance"
	"cla/internal/browsertest"
	"cla/internal/webtest"
)

// TestBrowserOperatorCreatesACouncilAndItsAdminSavesSettings: in headless
// Chromium (CSP enforced), an operator made by instance.CreateOperator sets
// a password through the link, signs in at /instance/connexion, sends the
// creation form once with bad input (messages beside the fields) then right,
// and passes the first admin's link on; the admin joins on the new council's
// own host name and saves the settings page (bad contact first). Every new
// page goes through the accessibility checks of the gates (gateAuditPage) and
// the Nu HTML Checker.
func TestBrowserOperatorCreatesACouncilAndItsAdminSavesSettings(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	token, err := instance.CreateOperator(context.Background(), m.DB, "operatrice@example.org", "Opératrice")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(m.Addr(), ":")
	base := "http://" + m.Addr()
	b := browsertest.Start(t)
	p := b.NewStrictPage(t)
	waitFor := func(what, cond string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if ok, err := browsertest.Eval[bool](p, cond); err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: timed out waiting for %s", what, cond)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	do := func(what, script string) {
		t.Helper()
		if _, err := browsertest.Eval[bool](p, "(() => { "+script+"; return true })()"); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var docs []browsertest.Document
	audit := func(name string) {
		t.Helper()
		for _, problem := range gateAuditPage(p) {
			t.Errorf("%s: %s", name, problem)
		}
		html, err := browsertest.Eval[string](p, `'<!doctype html>\n' + document.documentElement.outerHTML`)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, browsertest.Document{Name: name, HTML: []byte(html)})
	}
	set := func(fields map[string]string) string {
		var s strings.Builder
		for id, v := range fields {
			fmt.Fprintf(&s, "document.getElementById(%q).value = %q;", id, v)
		}
		return s.String()
	}
	submit := func(formSel string) string {
		return fmt.Sprintf(`document.querySelector(%q).querySelector('button[type=submit], button:not([type])').click()`, formSel)
	}

	// The operator's password, then the operator's sign-in.
	if status, err := p.Navigate(base + "/mot-de-passe/" + token); err != nil || status != 200 {
		t.Fatalf("password link: %d %v", status, err)
	}
	do("password", set(map[string]string{"password": webtest.Password})+submit("main form"))
	waitFor("password saved", `location.pathname === '/connexion' && document.readyState === 'complete'`)
	if status, err := p.Navigate(base + "/instance"); err != nil || status != 200 {
		t.Fatalf("/instance: %d %v", status, err)
	}
	waitFor("sign-in form", `location.pathname === '/instance/connexion'`)
	audit("operator sign-in")
	do("sign in", set(map[string]string{"email": "operatrice@example.org", "password": webtest.Password})+submit("main form"))
	waitFor("council list", `location.pathname === '/instance' && document.readyState === 'complete'`)
	audit("GET /instance")

	// The creation form: bad input first.
	do("open the form", `document.querySelector('a[href="/instance/conseils/nouveau"]').click()`)
	waitFor("creation form", `location.pathname === '/instance/conseils/nouveau' && document.readyState === 'complete'`)
	audit("GET /instance/conseils/nouveau")
	do("bad input", set(map[string]string{"name": "Conseil du navigateur", "slug": "Conseil Navigateur", "commune": "Crest",
		"hosts": "localhost", "admin_email": "admin navigateur@example.org"})+submit("main form"))
	waitFor("errors", `!!document.querySelector('#slug-error') && document.readyState === 'complete'`)
	audit("POST /instance/conseils (bad input)")
	kept, err := browsertest.Eval[string](p, `document.getElementById('commune').value + '|' + document.getElementById('admin_email').value`)
	if err != nil || kept != "Crest|admin navigateur@example.org" {
		t.Errorf("input not kept: %q %v", kept, err)
	}
	if msg, _ := browsertest.Eval[string](p, `document.querySelector('#admin_email-error').textContent`); !strings.Contains(msg, "espace") {
		t.Errorf("admin email message: %q", msg)
	}
	do("good input", set(map[string]string{"slug": "conseil-navigateur", "admin_email": "admin.navigateur@example.org"})+
		`document.getElementById('start-model').checked = true;`+submit("main form"))
	waitFor("created", `!!document.querySelector('[data-testid=admin-link]') && document.readyState === 'complete'`)
	audit("POST /instance/conseils (created)")
	link, err := browsertest.Eval[string](p, `document.querySelector('[data-testid=admin-link]').textContent`)
	if err != nil || !strings.HasPrefix(link, "http://localhost:"+port+"/invitation/") {
		t.Fatalf("admin link %q (%v), want one on the council's host name", link, err)
	}
	if status, err := p.Navigate(base + "/instance/conseils/conseil-navigateur"); err != nil || status != 200 {
		t.Fatalf("council page: %d %v", status, err)
	}
	audit("GET /instance/conseils/:slug")

	// The admin joins on the council's host and saves the settings.
	if status, err := p.Navigate(link); err != nil || status != 200 {
		t.Fatalf("invitation: %d %v", status, err)
	}
	do("join", set(map[string]string{"name": "Admin Navigatrice", "password": webtest.Password})+submit("main form"))
	waitFor("joined", `location.pathname === '/compte' && document.readyState === 'complete'`)
	local := "http://localhost:" + port
	if status, err := p.Navigate(local + "/gestion/conseil"); err != nil || status != 200 {
		t.Fatalf("settings: %d %v", status, err)
	}
	audit("GET /gestion/conseil")
	do("bad settings", set(map[string]string{"presentation": "Bienvenue au **conseil du navigateur**.", "contact_email": "con tact@example.org"})+submit("main form"))
	waitFor("settings errors", `!!document.querySelector('#contact_email-error') && document.readyState === 'complete'`)
	audit("POST /gestion/conseil (bad input)")
	do("good settings", set(map[string]string{"contact_email": "contact@example.org"})+submit("main form"))
	waitFor("settings saved", `!!document.querySelector('.flash') && document.readyState === 'complete'`)
	if status, err := p.Navigate(local + "/"); err != nil || status != 200 {
		t.Fatalf("home: %d %v", status, err)
	}
	if html, _ := browsertest.Eval[string](p, `document.querySelector('.presentation').innerHTML`); !strings.Contains(html, "<strong>conseil du navigateur</strong>") {
		t.Errorf("home presentation: %q", html)
	}
	res, err := browsertest.ValidateHTML(docs)
	if err != nil {
		t.Fatal(err)
	}
	for name, msgs := range res {
		for _, msg := range msgs {
			t.Errorf("invalid HTML on %s: %s", name, msg)
		}
	}
}
