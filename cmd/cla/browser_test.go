package main

import (
	"context"
	"strings"
	"testing"

	"cla/internal/browsertest"
	"cla/internal/testdb"
)

// startServer runs the real cla (Main.Run: migrations, demo, every route) on a
// loopback port over a fresh test database, and stops it when the test ends.
func startServer(t *testing.T) *Main {
	t.Helper()
	m := &Main{Config: Config{Addr: "127.0.0.1:0", DatabaseURL: testdb.URL(t), DataDir: t.TempDir()}, Logger: quiet}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start cla: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestBrowserHomeShowsTheRegister opens the home page in headless Chromium, with
// the app's Content-Security-Policy enforced, and finds the register summary
// listing its categories, with no console error and no uncaught exception.
func TestBrowserHomeShowsTheRegister(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	b := browsertest.Start(t)
	p := b.NewStrictPage(t)
	base := "http://" + m.Addr()
	status, err := p.Navigate(base + "/")
	if err != nil || status != 200 {
		t.Fatalf("GET /: status %d, %v", status, err)
	}
	summary, err := browsertest.Eval[[]string](p, `Array.from(document.querySelectorAll('[data-testid=register-summary] li')).map(li => li.textContent.trim().replace(/\s+/g, ' '))`)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(summary, "\n")
	for _, want := range []string{"Fruits & légumes", "Alcool"} {
		if !strings.Contains(all, want) {
			t.Errorf("register summary lacks %q; it lists:\n%s", want, all)
		}
	}
	if problems := p.Problems(); len(problems) > 0 {
		t.Errorf("console errors or exceptions on /:\n  %s", strings.Join(problems, "\n  "))
	}
}
