package app

import (
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// module is the module path every package of the tree starts with.
const module = "cla"

// layout is the import graph of non-test code that README.md ("Layout")
// describes: each area of the tree and the areas it may import. Standard and
// third-party packages are not checked; an area imports itself freely (the
// compiler forbids cycles). Tests may import more (demo as a fixture,
// app/apptest for the real router).
var layout = map[string][]string{
	"cmd":                    {"app", "demo", "demo/scalegen", "governance/*", "catalog", "internal"},
	"app":                    {"governance/*", "catalog", "internal"},
	"app/apptest":            {"app"},
	"demo":                   {"demo/scalegen", "governance/*", "catalog", "internal"},
	"demo/scalegen":          {"demo", "governance/*", "catalog", "internal"},
	"governance/boussole":    {"governance/notify/event", "catalog", "internal"},
	"governance/proposal":    {"governance/boussole", "governance/notify/event", "catalog", "internal"},
	"governance/debate":      {"governance/proposal", "governance/boussole", "governance/notify/event", "catalog", "internal"},
	"governance/application": {"governance/proposal", "governance/boussole", "governance/notify/event", "catalog", "internal"},
	"governance/assembly": {"governance/application", "governance/debate", "governance/proposal", "governance/boussole",
		"governance/notify/event", "catalog", "internal"},
	"governance/member": {"governance/notify/event", "internal"},
	"governance/model":  {"governance/boussole", "catalog", "internal"},
	"governance/instance": {"governance/exchange", "governance/assembly", "governance/application", "governance/debate", "governance/model",
		"governance/proposal", "governance/boussole", "governance/notify/event", "catalog", "internal"},
	"governance/exchange": {"governance/assembly", "governance/application", "governance/debate", "governance/proposal",
		"governance/boussole", "governance/notify/event", "catalog", "internal"},
	// notify, above the domains, reads them to write to people; the domains
	// reach it only through the jobs of notify/event, which imports none.
	"governance/notify": {"governance/assembly", "governance/application", "governance/debate", "governance/proposal",
		"governance/boussole", "governance/member", "governance/notify/event", "catalog", "internal"},
	"governance/notify/event": {"internal"},
	"governance/integration":  {"internal"},
	"governance/lokavaluto":   {"catalog", "internal"},
	"catalog":                 {"internal"},
	"internal":                {"assets"},
	"assets":                  {}, // migrations, templates, static: embedded files
}

// areaOf returns the area of a package of the module ("" when none).
func areaOf(pkg string) string {
	rel, ok := strings.CutPrefix(pkg, module+"/")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rel, "/")
	switch {
	case first == "cmd" || first == "internal" || first == "catalog":
		return first
	case rel == "migrations" || rel == "templates" || rel == "static":
		return "assets"
	}
	if _, ok := layout[rel]; ok {
		return rel
	}
	return ""
}

// allowed reports whether area from may import area to.
func allowed(from, to string) bool {
	if from == to {
		return true
	}
	for _, a := range layout[from] {
		if a == to || (strings.HasSuffix(a, "/*") && strings.HasPrefix(to, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

// checkLayout returns one line per package of the module that is in no area
// and per import of the module's packages against layout, sorted.
func checkLayout(imports map[string][]string) []string {
	var bad []string
	for pkg, imps := range imports {
		from := areaOf(pkg)
		if from == "" {
			bad = append(bad, fmt.Sprintf("%s is in no area of the layout: add it to README.md (Layout) and to app/layout_test.go", pkg))
			continue
		}
		for _, imp := range imps {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := areaOf(imp)
			if to == "" || !allowed(from, to) {
				bad = append(bad, fmt.Sprintf("%s imports %s: %s may import only %s", pkg, imp, from, strings.Join(layout[from], ", ")))
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// TestImportGraph reads every package's imports (non-test code) with go list
// and fails on each one against the layout.
func TestImportGraph(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH (go test puts it there): %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		imports[fields[0]] = fields[1:]
	}
	for _, pkg := range []string{"cla/app", "cla/governance/assembly", "cla/demo", "cla/catalog", "cla/internal/web"} {
		if _, ok := imports[pkg]; !ok {
			t.Fatalf("go list did not list %s: %q", pkg, out)
		}
	}
	for _, line := range checkLayout(imports) {
		t.Error(line)
	}
}

// The check bites: each wrong import of a made-up tree is named, the allowed
// ones are not.
func TestCheckLayoutNamesEachWrongImport(t *testing.T) {
	t.Parallel()
	got := checkLayout(map[string][]string{
		"cla/cmd/cla":             {"cla/app", "cla/demo", "cla/internal/web", "fmt"},
		"cla/app":                 {"cla/governance/assembly", "cla/demo"},
		"cla/catalog":             {"cla/governance/proposal", "cla/internal/web"},
		"cla/internal/web":        {"cla/catalog", "cla/templates", "github.com/gofiber/fiber/v2"},
		"cla/governance/boussole": {"cla/governance/proposal"},
		"cla/governance/proposal": {"cla/governance/boussole", "cla/governance/debate"},
		"cla/governance/member":   {"cla/governance/proposal", "cla/internal/auth"},
		"cla/governance/assembly": {"cla/governance/application", "cla/app", "cla/demo/scalegen"},
		"cla/demo":                {"cla/governance/debate", "cla/cmd/cla"},
		"cla/newthing":            {"cla/internal/web"},
	})
	want := []string{
		"cla/app imports cla/demo",
		"cla/catalog imports cla/governance/proposal",
		"cla/demo imports cla/cmd/cla",
		"cla/governance/assembly imports cla/app",
		"cla/governance/assembly imports cla/demo/scalegen",
		"cla/governance/boussole imports cla/governance/proposal",
		"cla/governance/member imports cla/governance/proposal",
		"cla/governance/proposal imports cla/governance/debate",
		"cla/internal/web imports cla/catalog",
		"cla/newthing is in no area",
	}
	if len(got) != len(want) {
		t.Errorf("got %d findings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("no finding %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}
