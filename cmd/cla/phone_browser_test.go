package main

// The layout gate (issue 20, point 9): every HTML page the quality gates crawl
// (gates_test.go), anonymous and as a facilitator, opened in the real browser
// at the width of a cheap phone (360 px) and of a laptop (1280 px). No element
// may stick out of the viewport horizontally (a wide table scrolls inside its
// own box instead), no badge (.status, .state, .disagreement) may be cut or
// overlap another.
//
//	go test ./cmd/cla -run TestAccessibility   (it runs this check on every page it visits)

import (
	"fmt"

	"github.com/chromedp/chromedp"

	"cla/internal/browsertest"
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

// gateLayoutProblems checks the page open in p at each width of
// gateLayoutWidths (gateLayoutCheck: nothing overflows the viewport
// horizontally, no badge is cut or overlaps another), then leaves the page at
// the last width, the desktop's. TestAccessibility runs it on every page it
// visits, after the audit.
func gateLayoutProblems(p *browsertest.Page) []string {
	var problems []string
	for _, width := range gateLayoutWidths {
		if err := chromedp.Do(p.Ctx, chromedp.EmulateViewport(width, 800)); err != nil {
			return append(problems, fmt.Sprintf("viewport %d px: %v", width, err))
		}
		found, err := browsertest.Eval[[]string](p, gateLayoutCheck)
		if err != nil {
			found = []string{"layout check: " + err.Error()}
		}
		for _, f := range found {
			problems = append(problems, fmt.Sprintf("%d px: %s", width, f))
		}
	}
	return problems
}
