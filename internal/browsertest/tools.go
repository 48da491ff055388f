package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ToolsDir returns the folder where scripts/test installs the test tools:
// $CLA_TOOLS_DIR when set, otherwise the user's cache folder (so that every
// clone on a machine shares one installation), as scripts/test does.
func ToolsDir() (string, error) {
	if d := os.Getenv("CLA_TOOLS_DIR"); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "cla-tools"), nil
}

func toolFile(env string, rel ...string) (string, error) {
	p := os.Getenv(env)
	if p == "" {
		dir, err := ToolsDir()
		if err != nil {
			return "", err
		}
		p = filepath.Join(append([]string{dir}, rel...)...)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found (set $%s or %s)", p, env, installHint)
	}
	return p, nil
}

// AxeScript returns the path of axe.min.js: $CLA_AXE_JS, or the copy that
// scripts/test installs under <tools dir>/npm.
func AxeScript() (string, error) {
	return toolFile("CLA_AXE_JS", "npm", "node_modules", "axe-core", "axe.min.js")
}

// VnuJar returns the path of the Nu HTML Checker's vnu.jar: $CLA_VNU_JAR, or
// the copy of the npm package vnu-jar that scripts/test installs.
func VnuJar() (string, error) {
	return toolFile("CLA_VNU_JAR", "npm", "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
}

// JavaPath returns $CLA_JAVA or java from PATH (Debian: default-jre-headless).
func JavaPath() (string, error) {
	name := os.Getenv("CLA_JAVA")
	if name == "" {
		name = "java"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("no Java runtime (%s): %s", name, installHint)
	}
	return p, nil
}

// AxeViolation is one axe-core rule broken on a page.
type AxeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"` // minor, moderate, serious, critical
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []AxeNode `json:"nodes"`
}

// AxeNode is one element that breaks a rule.
type AxeNode struct {
	Target  []string `json:"target"`
	HTML    string   `json:"html"`
	Summary string   `json:"failureSummary"`
}

// Serious reports whether the violation's impact is serious or critical.
func (v AxeViolation) Serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

// String gives the rule id, impact, help and every target, one per line.
func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      at %s  %s", strings.Join(n.Target, " "), truncate(n.HTML, 160))
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Axe injects axe-core into the current document and runs it with the WCAG 2.0,
// 2.1 and 2.2 A/AA rules and best practices (RGAA follows WCAG 2.1 AA). It
// returns every violation, whatever its impact.
func (p *Page) Axe() ([]AxeViolation, error) {
	script, err := AxeScript()
	if err != nil {
		return nil, err
	}
	if loaded, _ := Eval[bool](p, `typeof axe === 'object'`); !loaded {
		if err := p.Inject(script); err != nil {
			return nil, err
		}
	}
	const run = `axe.run(document, {
		runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
		resultTypes: ['violations']
	}).then(r => JSON.stringify(r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html, failureSummary: n.failureSummary}))
	}))))`
	out, err := Eval[string](p, run)
	if err != nil {
		return nil, fmt.Errorf("axe.run: %w", err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("axe result: %w", err)
	}
	return vs, nil
}

// VnuMessage is one message of the Nu HTML Checker.
type VnuMessage struct {
	Type    string `json:"type"` // error, info (warnings are info with subType)
	SubType string `json:"subType"`
	Message string `json:"message"`
	Extract string `json:"extract"`
	Line    int    `json:"lastLine"`
	Column  int    `json:"firstColumn"`
	URL     string `json:"url"`
}

// String gives the line, column, message and the source extract.
func (m VnuMessage) String() string {
	return fmt.Sprintf("line %d col %d: %s  [%s]", m.Line, m.Column, m.Message, strings.ReplaceAll(truncate(m.Extract, 120), "\n", "↵"))
}

// Document is an HTML document to validate, named for the report (its URL).
type Document struct {
	Name string
	HTML []byte
}

// ValidateHTML runs the Nu HTML Checker once over every document (one Java
// start for all) and returns its errors by document name; a document with no
// error has no entry.
func ValidateHTML(docs []Document) (map[string][]VnuMessage, error) {
	java, err := JavaPath()
	if err != nil {
		return nil, err
	}
	jar, err := VnuJar()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cla-vnu-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	names := map[string]string{} // file path -> document name
	args := []string{"-Xss2m", "-jar", jar, "--errors-only", "--format", "json", "--exit-zero-always"}
	for i, d := range docs {
		f := filepath.Join(dir, fmt.Sprintf("doc%04d.html", i))
		if err := os.WriteFile(f, d.HTML, 0o600); err != nil {
			return nil, err
		}
		names[f] = d.Name
		args = append(args, f)
	}
	cmd := exec.Command(java, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("vnu: %v: %s%s", err, stderr.String(), stdout.String())
	}
	// vnu writes its JSON report on stderr.
	report := stderr.Bytes()
	if i := bytes.IndexByte(report, '{'); i > 0 {
		report = report[i:]
	} else if i < 0 {
		report = stdout.Bytes()
	}
	var res struct {
		Messages []VnuMessage `json:"messages"`
	}
	if err := json.Unmarshal(report, &res); err != nil {
		return nil, fmt.Errorf("vnu report: %v: %.500s", err, report)
	}
	out := map[string][]VnuMessage{}
	for _, m := range res.Messages {
		if m.Type != "error" && m.Type != "non-document-error" {
			continue
		}
		name := names[strings.TrimPrefix(m.URL, "file:")]
		if name == "" {
			name = m.URL
		}
		out[name] = append(out[name], m)
	}
	for _, ms := range out {
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].Line < ms[j].Line })
	}
	return out, nil
}

// PreloadAxe makes every document the tab loads from now on start with
// axe-core defined, so that Axe does not send and evaluate the 550 kB script
// after each navigation.
func (p *Page) PreloadAxe() error {
	script, err := AxeScript()
	if err != nil {
		return err
	}
	src, err := os.ReadFile(script)
	if err != nil {
		return err
	}
	_, err = chromedp.Call(p.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: string(src)})
	return err
}
