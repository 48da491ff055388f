// Package browsertest drives the machine's headless Chromium for tests (through
// chromedp), and holds the quality-gate tools that work on rendered pages:
// axe-core (accessibility) and the Nu HTML Checker (valid HTML).
//
// A missing browser or tool is a test failure with a message that says to run
// scripts/test, which installs them; it is never a skip.
//
// One Browser serves a whole test: it starts one Chromium process with a fresh
// user-data-dir and the flags of DESIGN.md, and every Page is a tab in its own
// browser context (own cookies), so signed-in and anonymous pages can run side
// by side.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// installHint ends every "tool missing" failure.
const installHint = "run scripts/test once (it installs the test tools), or see README.md, section \"Running the tests\""

// ChromiumPath returns the browser to drive: $CLA_CHROMIUM when set, otherwise
// the first of chromium, chromium-browser, google-chrome found on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("CLA_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found (looked for $CLA_CHROMIUM, chromium, chromium-browser, google-chrome): " + installHint)
}

// Browser is one headless Chromium process.
type Browser struct {
	ctx    context.Context // the browser's first (root) context
	cancel context.CancelFunc
}

// Start launches headless Chromium for the test and stops it at the test's
// end. It fails the test when no browser can be started.
func Start(t testing.TB) *Browser {
	t.Helper()
	b, err := Launch()
	if err != nil {
		t.Fatalf("headless Chromium: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// Launch starts headless Chromium with a fresh user-data-dir (removed by
// Close). Prefer Start in tests.
func Launch() (*Browser, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cla-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// The first Run starts the browser; it must not carry a timeout.
	started := make(chan error, 1)
	go func() { _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); started <- err }()
	select {
	case err = <-started:
	case <-time.After(60 * time.Second):
		err = errors.New("the browser did not start within 60 s")
	}
	b := &Browser{ctx: ctx, cancel: func() {
		cancel()
		acancel()
		_ = os.RemoveAll(dir)
	}}
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return b, nil
}

// Close stops the browser and removes its user-data-dir.
func (b *Browser) Close() {
	if b.cancel != nil {
		b.cancel()
		b.cancel = nil
	}
}

// Page is one tab in its own browser context (cookies are not shared with
// other pages). It records the console errors and uncaught exceptions of the
// documents it shows.
type Page struct {
	// Ctx is the chromedp context of the tab, for chromedp actions the helpers
	// do not cover.
	Ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	problems []string
	docURL   string // URL of the main frame's document
}

// NewPage opens a tab in a fresh browser context with Content-Security-Policy
// bypass on, for scripts that add elements the page's CSP would refuse (Inject
// and Axe do not need it: what the DevTools protocol evaluates is not subject to
// the page's CSP). Prefer NewStrictPage, which shows CSP violations.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	return b.newPage(t, true)
}

// NewStrictPage opens a tab in a fresh browser context that enforces the
// pages' Content-Security-Policy: a violation (an inline script or style
// attribute) is then reported by Problems.
func (b *Browser) NewStrictPage(t testing.TB) *Page {
	t.Helper()
	return b.newPage(t, false)
}

func (b *Browser) newPage(t testing.TB, bypassCSP bool) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &Page{Ctx: ctx, cancel: cancel}
	t.Cleanup(p.Close)
	// Open the tab, then listen before anything is loaded in it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.record); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	if bypassCSP {
		if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
			t.Fatalf("CSP bypass: %v", err)
		}
	}
	return p
}

// Close closes the tab and its browser context.
func (p *Page) Close() {
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
}

// record runs on chromedp's reading goroutine: it must be quick and must not
// call the browser.
func (p *Page) record(ev any) {
	var msg string
	switch e := ev.(type) {
	case *page.EventFrameNavigated:
		if e.Frame != nil && e.Frame.ParentID == "" {
			p.mu.Lock()
			p.docURL = e.Frame.URL
			p.mu.Unlock()
		}
		return
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range e.Args {
			switch {
			case len(a.Value) > 0:
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			case a.Description != "":
				parts = append(parts, a.Description)
			default:
				parts = append(parts, string(a.Type))
			}
		}
		msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		msg = fmt.Sprintf("uncaught exception: %s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
	case *log.EventEntryAdded:
		if e.Entry.Level != log.EntryLevelError {
			return
		}
		p.mu.Lock()
		doc := p.docURL
		p.mu.Unlock()
		// The document's own status (a 404 page, a 422 form) is the test's
		// business, not a console problem; a failed sub-resource is.
		if e.Entry.Source == log.EntrySourceNetwork && e.Entry.URL == doc {
			return
		}
		msg = fmt.Sprintf("browser log error (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
	default:
		return
	}
	p.mu.Lock()
	p.problems = append(p.problems, msg)
	p.mu.Unlock()
}

// Problems returns the console errors, failed assertions, browser-log errors
// (failed loads, CSP violations) and uncaught exceptions recorded since the
// last call, and forgets them. It first makes a round trip to the tab, so every
// event sent before the call is included.
func (p *Page) Problems() []string {
	_, _ = chromedp.Run(p.Ctx, chromedp.Evaluate[int]("1"))
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.problems
	p.problems = nil
	return out
}

// Navigate loads url, waits for its load event and returns the HTTP status of
// the document.
func (p *Page) Navigate(url string) (int, error) {
	ctx, cancel := context.WithTimeout(p.Ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		return 0, fmt.Errorf("navigate to %s: %w", url, err)
	}
	if resp == nil {
		return 0, fmt.Errorf("navigate to %s: no response", url)
	}
	return int(resp.Status), nil
}

// SetContent replaces the tab's document with html (served from about:blank),
// for self-tests of the gates.
func (p *Page) SetContent(html string) error {
	ctx, cancel := context.WithTimeout(p.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return err
	}
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return err
	}
	_, err = chromedp.Call(ctx, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: html})
	return err
}

// Eval evaluates a JavaScript expression in the page and decodes its JSON value
// into T; promises are awaited.
func Eval[T any](p *Page, expression string) (T, error) {
	ctx, cancel := context.WithTimeout(p.Ctx, 60*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
}

// Inject evaluates the JavaScript file at path in the page, through the DevTools
// protocol, so the page's CSP does not block it. The script lives until the
// next navigation.
func (p *Page) Inject(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(p.Ctx, 30*time.Second)
	defer cancel()
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src)+"\n;undefined"))
	if err != nil {
		return fmt.Errorf("inject %s: %w", filepath.Base(path), err)
	}
	return nil
}

// PDF prints the current document to PDF, honouring its CSS @page size (so
// `@page { size: A4 }` gives A4 pages), with backgrounds.
func (p *Page) PDF() ([]byte, error) {
	ctx, cancel := context.WithTimeout(p.Ctx, 60*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
}

// Cookies returns the cookies the tab holds for its current URL, as name →
// value (for example to give an HTTP client the browser's session).
func (p *Page) Cookies() (map[string]string, error) {
	res, err := chromedp.Call(p.Ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range res.Cookies {
		out[c.Name] = c.Value
	}
	return out, nil
}
