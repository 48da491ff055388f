package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// tableOwner names the package that owns each table (the one whose migration
// creates it and whose code is its only writer). TestTableOwnersCoverMigrations
// keeps it complete.
var tableOwner = map[string]string{
	"councils": "internal/council", "council_hosts": "internal/council",
	"audit_log": "internal/audit",
	"accounts":  "internal/auth", "memberships": "internal/auth", "sessions": "internal/auth",
	"account_tokens": "internal/auth", "rate_limits": "internal/auth", "rate_slots": "internal/auth",
	"signin_backoff": "internal/auth", "instance_secrets": "internal/web", "form_submissions": "internal/idempotency",
	"register_items": "catalog", "shops": "catalog", "shop_categories": "catalog", "register_heads": "catalog",
	"register_versions": "catalog", "register_item_history": "catalog",
	"boussole_versions": "governance/boussole", "criterion_groups": "governance/boussole", "criteria": "governance/boussole",
	"proposals": "governance/proposal", "proposal_events": "governance/proposal", "proposal_scores": "governance/proposal",
	"debates": "governance/debate", "debate_register_items": "governance/debate", "debate_proposals": "governance/debate",
	"arguments": "governance/debate", "argument_revisions": "governance/debate", "debate_supports": "governance/debate",
	"debate_suggestions": "governance/debate",
	"meeting_rules":      "governance/assembly", "meetings": "governance/assembly", "agenda_items": "governance/assembly",
	"attendances": "governance/assembly", "votes": "governance/assembly", "vote_options": "governance/assembly",
	"ballots": "governance/assembly", "decisions": "governance/assembly", "minutes": "governance/assembly",
	"proxies": "governance/assembly", "minutes_amendments": "governance/assembly",
	"charters": "governance/application", "convention_settings": "governance/application",
	"shop_applications": "governance/application", "application_messages": "governance/application",
	"operators": "governance/instance", "proposal_register_changes": "governance/proposal",
	"imported_decisions": "governance/exchange",
	"notifications":      "governance/notify", "notification_prefs": "governance/notify", "notification_settings": "governance/notify",
	"notification_optouts": "governance/notify", "subscribers": "governance/notify",
	"shop_products": "catalog", "shop_basket_rows": "catalog", "shop_basket_marks": "catalog",
	"shop_products_removed": "catalog", "basket_item_periods": "catalog", "basket_shop_periods": "catalog",
	"sortition_draws": "governance/sortition", "sortition_volunteers": "governance/sortition", "sortition_seats": "governance/sortition",
	"webhook_endpoints": "internal/webhook", "webhook_deliveries": "internal/webhook", "webhook_attempts": "internal/webhook",
	"odoo_links": "internal/odoo", "page_generations": "internal/pagecache",
}

// foreignTableExceptions are the SQL strings of governance that still name
// another package's table, each with its reason: "file: table" → why.
// Everything else goes through the owning package's read functions, so a
// renamed column breaks the build instead of a page.
var foreignTableExceptions = map[string]string{
	// Hot paths, measured in docs/perf.md: one statement or one batch per page.
	"governance/proposal/page.go: memberships":     "proposal page batch: the count of members goes in the same round trip",
	"governance/proposal/score.go: accounts":       "hot scan of scores (hundreds per page) with the graders' names: a JOIN, not a second query",
	"governance/proposal/store.go: register_items": "proposal lists and page: the target's name in the same statement (proposalJoins)",
	"governance/proposal/store.go: shops":          "proposal lists and page: the target's name in the same statement (proposalJoins)",
	"governance/assembly/ballot.go: memberships":   "ballot casting: the right to vote is checked in the one statement that writes the ballot (docs/perf.md)",
	"governance/debate/search.go: register_items":  "search ranks items, debates and proposals in one full-text statement (docs/perf.md)",
	"governance/application/shoplist.go: shops":    "renewals and payment export: each shop with the contact of its latest application in one LATERAL join, one statement per page",
}

// sqlTable matches a table name where SQL or bun names a table.
func sqlTableRef(table string) *regexp.Regexp {
	t := regexp.QuoteMeta(table)
	return regexp.MustCompile(`(?i)(\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+` + t + `\b|^` + t + `(\s+AS\s+\w+)?$|table:` + t + `\b)`)
}

// goStrings calls fn with every string literal (unquoted) of the non-test Go
// files under dir, and its position "path:line".
func goStrings(t *testing.T, dir string, fn func(file string, line int, s string)) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join("..", dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			fn(filepath.ToSlash(rel), fset.Position(lit.Pos()).Line, s)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// packageOf is the package directory of a file path.
func packageOf(file string) string { return filepath.ToSlash(filepath.Dir(file)) }

// Governance reads catalog's and auth's tables through their packages' read
// functions, not in its own SQL: a renamed column then breaks the build. A
// governance package may name its own tables and those of the governance
// packages it may import (layout); the listed exceptions are measured hot paths.
func TestGovernanceSQLNamesOnlyItsTables(t *testing.T) {
	var found []string
	used := map[string]bool{}
	refs := map[string]*regexp.Regexp{}
	for table := range tableOwner {
		refs[table] = sqlTableRef(table)
	}
	goStrings(t, "governance", func(file string, line int, s string) {
		pkg := packageOf(file)
		for table, owner := range tableOwner {
			if owner == pkg || strings.HasPrefix(owner, "governance/") && slices.Contains(layout[pkg], owner) || !refs[table].MatchString(s) {
				continue
			}
			key := file + ": " + table
			if _, ok := foreignTableExceptions[key]; ok {
				used[key] = true
				continue
			}
			found = append(found, file+":"+strconv.Itoa(line)+": "+table+" (owned by "+owner+")")
		}
	})
	sort.Strings(found)
	for _, f := range found {
		t.Errorf("SQL names another package's table: %s; read it through that package", f)
	}
	for key := range foreignTableExceptions {
		if !used[key] {
			t.Errorf("exception %q is not needed any more: remove it", key)
		}
	}
}

// Every table created by a migration has an owner in tableOwner.
func TestTableOwnersCoverMigrations(t *testing.T) {
	files, err := filepath.Glob("../migrations/*.up.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	create := regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?(\w+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			if _, ok := tableOwner[m[1]]; !ok {
				t.Errorf("%s creates table %s: name its owning package in tableOwner", filepath.Base(f), m[1])
			}
		}
	}
}

// Audit entries are made by audit.Actor.Entry only: one constructor, so the
// actor's name and id are filled the same way everywhere.
func TestAuditEntriesHaveOneConstructor(t *testing.T) {
	for _, dir := range []string{"governance", "catalog", "cmd", "demo", "internal"} {
		err := filepath.WalkDir(filepath.Join("..", dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
				strings.Contains(filepath.ToSlash(path), "internal/audit/") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, l := range strings.Split(string(b), "\n") {
				if strings.Contains(l, "audit.Entry{") {
					t.Errorf("%s:%d: an audit.Entry literal; use audit.Actor.Entry", path, i+1)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// statusValues are the values of the state and status constants of dirs:
// value → "pkg.Name". A constant counts when its const block gives one of its
// names a type named …State or …Status.
func statusValues(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	word := regexp.MustCompile(`^[a-z][a-z_]*$`)
	fset := token.NewFileSet()
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join("..", dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				typed := false
				for _, spec := range gd.Specs {
					if vs := spec.(*ast.ValueSpec); vs.Type != nil {
						if id, ok := vs.Type.(*ast.Ident); ok && (strings.HasSuffix(id.Name, "State") || strings.HasSuffix(id.Name, "Status")) {
							typed = true
						}
					}
				}
				if !typed {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, v := range vs.Values {
						lit, ok := v.(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						s, _ := strconv.Unquote(lit.Value)
						if word.MatchString(s) {
							out[s] = f.Name.Name + "." + vs.Names[i].Name
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// statusLiteralExceptions are the files whose SQL may still spell status
// values, with the reason.
var statusLiteralExceptions = map[string]string{
	"governance/assembly/ballot.go": "castSQL ('present', 'ouvert') is being rewritten with the ballot rules written once (issue #15, another branch)",
}

// Status values in SQL come from the typed constants, passed as bind
// arguments (or written into the statement from the constant): a SQL string
// of governance or catalog never spells one as a literal.
func TestSQLHasNoStatusLiterals(t *testing.T) {
	values := statusValues(t, "governance", "catalog")
	if values["ouverte"] == "" || values["conventionne"] == "" {
		t.Fatalf("enum values not found: %d", len(values))
	}
	quoted := regexp.MustCompile(`'([a-z][a-z_]*)'`)
	var found []string
	for _, dir := range []string{"governance", "catalog"} {
		goStrings(t, dir, func(file string, line int, s string) {
			// Struct tags' defaults (bun:"…,default:'prevue'") repeat the
			// migration's DDL, which cannot name a Go constant.
			if strings.HasPrefix(s, `bun:"`) || statusLiteralExceptions[file] != "" {
				return
			}
			for _, m := range quoted.FindAllStringSubmatch(s, -1) {
				if name, ok := values[m[1]]; ok {
					found = append(found, file+":"+strconv.Itoa(line)+": '"+m[1]+"' is "+name)
				}
			}
		})
	}
	for _, f := range found {
		t.Errorf("status literal in SQL: %s; pass the constant", f)
	}
	t.Logf("%d status literals", len(found))
}
