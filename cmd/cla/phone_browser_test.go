package main

// The layout gate (issue 20, point 9): every HTML page the quality gates crawl
// (gates_test.go), anonymous and as a facilitator, opened in the real browser
// at the width of a cheap phone (360 px) and of a laptop (1280 px). No element
// may stick out of the viewport horizontally (a wide table scrolls inside its
// own box instead), no badge (.status, .state, .disagreement) may be cut or
// overlap another.
//
//	go test ./cmd/cla -run TestLayoutAtPhoneAndDesktopWidths

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cla/internal/auth"
	"cla/internal/browsertest"
	"cla/internal/webtest"
)

// gateLayoutWidths are the viewport widths the layout gate checks.
var gateLayoutWidths = []int64{360, 1280}

// gateLayoutCheck returns what sticks out or overlaps on the loaded page.
const gateLayoutCheck = `(() => {
	const out = [];
	const W = document.documentElement.clientWidth;
	const describe = el => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += '#' + el.id;
		if (el.classList.length) s += '.' + Array.from(el.classList).join('.');
		const t = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
		return s + (t ? ' «' + t + '»' : '');
	};
	// An element inside a box that scrolls or clips horizontally is that box's
	// business (a wide table in a scrolling wrapper, the visually hidden
	// helpers): only the box itself must fit.
	const contained = el => {
		for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
			const s = getComputedStyle(a);
			if (s.overflowX !== 'visible' || s.clip !== 'auto' && s.position === 'absolute') return true;
		}
		return false;
	};
	const offscreen = el => {
		const s = getComputedStyle(el);
		return s.position === 'absolute' && (parseFloat(s.left) < -500 || s.clip !== 'auto') || s.visibility === 'hidden';
	};
	const wide = [];
	for (const el of document.body.querySelectorAll('*')) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0 || r.right <= W + 1) continue;
		// The content of a closed <details> has boxes but is not shown.
		if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) continue;
		if (offscreen(el) || contained(el)) continue;
		// Report the outermost element only.
		if (wide.some(w => w.contains(el))) continue;
		wide.push(el);
	}
	for (const el of wide.slice(0, 5)) {
		out.push('sticks out of the ' + W + ' px viewport by ' + Math.round(el.getBoundingClientRect().right - W) + ' px: ' + describe(el));
	}
	if (wide.length === 0 && document.documentElement.scrollWidth > W + 1) {
		const far = [];
		const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = walker.nextNode(); n && far.length < 3; n = walker.nextNode()) {
			const range = document.createRange();
			range.selectNodeContents(n);
			const r = range.getBoundingClientRect();
			if (r.right > W + 1) far.push(describe(n.parentElement) + ' (text at ' + Math.round(r.left) + '–' + Math.round(r.right) + ' px)');
		}
		out.push('the page scrolls horizontally (' + document.documentElement.scrollWidth + ' px for ' + W + ' px): ' + far.join(', '));
	}
	const badges = Array.from(document.querySelectorAll('.status, .state, .disagreement')).filter(el => {
		const r = el.getBoundingClientRect();
		return r.width > 0 && r.height > 0;
	});
	for (const el of badges) {
		if (el.scrollWidth > el.clientWidth + 1) out.push('badge cut: ' + describe(el));
	}
	const rects = badges.map(el => el.getBoundingClientRect());
	for (let i = 0; i < badges.length; i++) {
		for (let j = i + 1; j < badges.length; j++) {
			if (badges[i].contains(badges[j]) || badges[j].contains(badges[i])) continue;
			const a = rects[i], b = rects[j];
			const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
			const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
			if (w > 1 && h > 1) out.push('badges overlap: ' + describe(badges[i]) + ' and ' + describe(badges[j]));
		}
	}
	return out;
})()`

// TestLayoutAtPhoneAndDesktopWidths opens every crawled HTML page at 360 px
// and 1280 px and fails on horizontal overflow and on cut or overlapping badges.
func TestLayoutAtPhoneAndDesktopWidths(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t)
	b := browsertest.Start(t)
	anonPages, broken := e.crawl(e.client(), gateAnonymous)
	for _, s := range broken {
		t.Error(s)
	}

	// The facilitator signs in through the real form in the browser; the
	// crawler reuses that session.
	email := e.newFacilitator()
	facTab := b.NewStrictPage(t)
	if _, err := facTab.Navigate(e.base + "/connexion"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(facTab.Ctx, 30*time.Second)
	_, err := chromedp.RunResponse(ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), webtest.Password),
		chromedp.Click(chromedp.CSS(`main form[action="/connexion"] button[type=submit]`)))
	cancel()
	if err != nil {
		t.Fatalf("sign-in in the browser: %v", err)
	}
	cookies, err := facTab.Cookies()
	if err != nil || cookies[auth.SessionCookie] == "" {
		t.Fatalf("no session cookie after signing in through the browser (%v)", err)
	}
	fc := e.client()
	u, _ := url.Parse(e.base)
	for name, value := range cookies {
		fc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	}
	facPages, broken := e.crawl(fc, gateFacilitator, anonPages)
	for _, s := range broken {
		t.Error(s)
	}
	// A facilitator page whose <main> is the anonymous one's differs only in
	// the header, which the facilitator's home page checks.
	anonMain := map[string]string{}
	for _, pg := range gateHTMLPages(anonPages) {
		anonMain[pg.Path] = gateMainOf(pg.Body)
	}
	var facOnly []gatePage
	for _, pg := range gateHTMLPages(facPages) {
		if m, ok := anonMain[pg.Path]; ok && pg.Path != "/" && m == gateMainOf(pg.Body) {
			continue
		}
		facOnly = append(facOnly, pg)
	}

	anonTab := b.NewStrictPage(t)
	var failures []string
	checked := 0
	for _, width := range gateLayoutWidths {
		for _, run := range []struct {
			tab   *browsertest.Page
			pages []gatePage
		}{{anonTab, gateHTMLPages(anonPages)}, {facTab, facOnly}} {
			if err := chromedp.Do(run.tab.Ctx, chromedp.EmulateViewport(width, 800)); err != nil {
				t.Fatalf("viewport %d: %v", width, err)
			}
			for _, pg := range run.pages {
				if _, err := run.tab.Navigate(e.base + pg.Path); err != nil {
					failures = append(failures, fmt.Sprintf("%d px %s %s: %v", width, pg.Role, pg.Path, err))
					continue
				}
				problems, err := browsertest.Eval[[]string](run.tab, gateLayoutCheck)
				if err != nil {
					problems = []string{"layout check: " + err.Error()}
				}
				if len(problems) > 0 {
					failures = append(failures, fmt.Sprintf("%d px %s %s:\n    %s", width, pg.Role, pg.Path, strings.Join(problems, "\n    ")))
				}
				checked++
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d pages checked: the crawl is broken", checked)
	}
	if len(failures) > 0 {
		t.Errorf("layout problems on %d of %d page views (fix the CSS in static/css/app.css):\n  %s", len(failures), checked, strings.Join(failures, "\n  "))
	}
	t.Logf("%d page views checked", checked)
}
