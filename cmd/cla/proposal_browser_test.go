package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/webtest"
)

// TestBrowserMemberScoresAndTheRadarChanges: a member signs in through the real
// form in headless Chromium (CSP enforced), grades a proposal on the scoring
// form, and the radar on the proposal page changes once the grades are saved.
func TestBrowserMemberScoresAndTheRadarChanges(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	ctx := context.Background()
	co := demoCouncilID(t, m.DB)
	var pid int64
	if err := m.DB.NewRaw(`INSERT INTO proposals (council_id, kind, state, title, outcome, author_name)
		VALUES (?, 'criteria', 'ouverte', 'Conventionner les plants potagers', 'Les plants potagers sont conventionnés.', 'Commission produits')
		RETURNING id`, co).Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	_, email := webtest.CreateMember(t, m.DB, co, authz.Member, "Camille Navigatrice")
	base := "http://" + m.Addr()
	b := browsertest.Start(t)
	p := b.NewStrictPage(t)
	// waitFor polls a JavaScript condition; evaluation errors while a new
	// document loads are retried.
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
	radarPoints := func() string {
		t.Helper()
		pts, err := browsertest.Eval[string](p, `(document.querySelector('svg.radar .radar-series polygon') || {getAttribute: () => ''}).getAttribute('points')`)
		if err != nil {
			t.Fatal(err)
		}
		return pts
	}

	if status, err := p.Navigate(base + "/connexion"); err != nil || status != 200 {
		t.Fatalf("sign-in form: %d %v", status, err)
	}
	do("sign in", fmt.Sprintf(`document.querySelector('#email').value = %q; document.querySelector('#password').value = %q;
		document.querySelector('#password').form.querySelector('button[type=submit], button:not([type])').click()`, email, webtest.Password))
	waitFor("sign in", `location.pathname !== '/connexion' && document.readyState === 'complete'`)

	page := fmt.Sprintf("%s/propositions/%d", base, pid)
	if status, err := p.Navigate(page); err != nil || status != 200 {
		t.Fatalf("proposal page: %d %v", status, err)
	}
	before := radarPoints()
	if before == "" {
		t.Fatal("no radar series on the proposal page")
	}
	do("open the scoring form", `document.querySelector('a[href$="/evaluer"]').click()`)
	waitFor("scoring form", `!!document.querySelector('.score-form') && document.readyState === 'complete'`)
	// Tick "Excellent" on the first six criteria and "Bien" on the others, as a
	// person would, by clicking the labels.
	n, err := browsertest.Eval[int](p, `(() => { const sets = document.querySelectorAll('fieldset.criterion'); sets.forEach((fs, i) => fs.querySelector(i < 6 ? '.g7 input' : '.g5 input').click()); return sets.length })()`)
	if err != nil || n != 12 {
		t.Fatalf("scoring form has %d criteria (%v), want 12", n, err)
	}
	do("comment", `document.querySelector('fieldset.criterion input[type=text]').value = 'Indispensable au jardin'`)
	do("save", `document.querySelector('.score-form button[type=submit]').click()`)
	waitFor("results", `!!document.querySelector('#resultats') && !!document.querySelector('.flash') && document.readyState === 'complete'`)
	flash, err := browsertest.Eval[string](p, `(document.querySelector('.flash') || {textContent: ''}).textContent`)
	if err != nil || !strings.Contains(flash, "évaluation est enregistrée") {
		t.Errorf("no confirmation after saving: %q %v", flash, err)
	}
	after := radarPoints()
	if after == before {
		t.Errorf("the radar did not change after the grades were saved: %s", after)
	}
	// Excellent is the rim (radius 130): the first axis points straight up.
	if !strings.HasPrefix(after, "0.0,-130.0") {
		t.Errorf("first criterion graded Excellent is not on the rim: %s", after)
	}
	body, err := browsertest.Eval[string](p, `document.querySelector('.scores-table').textContent`)
	if err != nil || !strings.Contains(body, "Indispensable au jardin") {
		t.Errorf("the member's comment is not in the results table (%v)", err)
	}
	if problems := p.Problems(); len(problems) > 0 {
		t.Errorf("console errors or CSP violations:\n  %s", strings.Join(problems, "\n  "))
	}
}

// TestBrowserComparisonOnAPhoneAndInPrint: the comparison page overlays two
// demo proposals; on a 360-pixel-wide phone the radar fits the screen with
// axis numbers at least 12 px high, and the page prints to a PDF with the radar.
func TestBrowserComparisonOnAPhoneAndInPrint(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	ctx := context.Background()
	var ids []int64
	if err := m.DB.NewRaw("SELECT id FROM proposals WHERE state <> 'brouillon' ORDER BY id LIMIT 2").Scan(ctx, &ids); err != nil || len(ids) != 2 {
		t.Fatalf("demo proposals: %v %v", ids, err)
	}
	b := browsertest.Start(t)
	p := b.NewStrictPage(t)
	if _, err := chromedp.Call(p.Ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 360, Height: 740, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://%s/propositions/comparer?ids=%d,%d", m.Addr(), ids[0], ids[1])
	if status, err := p.Navigate(url); err != nil || status != 200 {
		t.Fatalf("comparison: %d %v", status, err)
	}
	type box struct {
		Width, Right, Page, Series, Label float64
	}
	got, err := browsertest.Eval[box](p, `(() => {
		const svg = document.querySelector('svg.radar'), r = svg.getBoundingClientRect();
		return {Width: r.width, Right: r.right, Page: document.documentElement.clientWidth,
			Series: svg.querySelectorAll('.radar-series').length,
			Label: svg.querySelector('text').getBoundingClientRect().height};
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Series != 2 || got.Width < 250 || got.Right > got.Page || got.Label < 12 {
		t.Errorf("radar on a phone: %+v (want 2 series, at least 250 px wide, within the %v px screen, labels ≥ 12 px)", got, got.Page)
	}
	if problems := p.Problems(); len(problems) > 0 {
		t.Errorf("console errors or CSP violations:\n  %s", strings.Join(problems, "\n  "))
	}
	pdf, err := p.PDF()
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF") || len(pdf) < 2000 {
		t.Fatalf("print to PDF: %d bytes, %v", len(pdf), err)
	}
}
