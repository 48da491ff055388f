package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// handlerGates are the handler conventions (docs/decisions.md, "Handler
// conventions") that a grep can hold: what non-test code outside
// internal/web must not call, and what to call instead.
var handlerGates = []struct {
	pattern *regexp.Regexp
	instead string
}{
	// Fiber reuses request memory: form values are read through helpers that
	// copy them.
	{regexp.MustCompile(`\.FormValue\(`), "web.Form, web.FormIs, web.FormInt or web.FormInt64"},
	// One way to confirm after a form.
	{regexp.MustCompile(`\bSetFlash\(`), "web.RedirectWithFlash"},
	// Pages are HTML whatever status the handler set.
	{regexp.MustCompile(`\bc\.Render\(`), "web.Render or web.RenderStatus"},
}

// Non-test Go code outside internal/web reads form values, sets flashes and
// renders pages only through internal/web's helpers.
func TestHandlerConventions(t *testing.T) {
	var failures []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, ".."+string(filepath.Separator)))
		if d.IsDir() {
			if rel == "internal/web" || strings.HasPrefix(d.Name(), ".") && rel != ".." || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, g := range handlerGates {
				if g.pattern.MatchString(line) {
					failures = append(failures, rel+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line)+"  → use "+g.instead)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) > 0 {
		t.Errorf("handler conventions broken:\n%s", strings.Join(failures, "\n"))
	}
}
