package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/exchange"
	"cla/internal/apperr"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

var councilSeq atomic.Int64

// emptyCouncil creates a council with nothing in it, by SQL: tests only (the
// real path is `cla council create`).
func emptyCouncil(t testing.TB, db *bun.DB, name string) int64 {
	t.Helper()
	var id int64
	slug := fmt.Sprintf("vide-%d", councilSeq.Add(1))
	if err := db.NewRaw("INSERT INTO councils (slug, name, caisse_name, territory) VALUES (?, ?, 'Caisse test', 'Drôme') RETURNING id",
		slug, name).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// demoExport loads the demo and returns the app and its exchange file, read
// through GET /api/v1/export.
func demoExport(t *testing.T) (*bun.DB, *fiber.App, []byte, *exchange.Document) {
	t.Helper()
	db := testdb.New(t)
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	anon := webtest.New(t, a)
	res, body := anon.Get("/api/v1/export")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc := new(exchange.Document)
	if err := json.Unmarshal([]byte(body), doc); err != nil {
		t.Fatal(err)
	}
	return db, a, []byte(body), doc
}

func importInto(t *testing.T, db *bun.DB, councilID int64, r io.Reader) (*exchange.Report, error) {
	t.Helper()
	var rep *exchange.Report
	err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		rep, err = exchange.ImportInto(ctx, tx, councilID, r)
		return err
	})
	return rep, err
}

// rowsOf counts what a council holds in the tables an import writes.
func rowsOf(t *testing.T, db *bun.DB, councilID int64) int {
	t.Helper()
	total := 0
	for _, table := range []string{"boussole_versions", "criteria", "register_versions", "register_items", "register_item_history", "imported_decisions"} {
		n, err := db.NewSelect().Table(table).Where("council_id = ?", councilID).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// The demo's export is public text only, and an empty council started from
// it exports the same document but for its identity; its pages say where its
// history came from.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	db, a, raw, doc := demoExport(t)
	if doc.Format != "cla-exchange" || doc.Version != 1 || len(doc.Boussole) != 1 || len(doc.Boussole[0].Criteria) != 12 ||
		len(doc.Register) == 0 || len(doc.Decisions) == 0 || doc.Council.Name == "" {
		t.Fatalf("export: %d boussole versions, %d register versions, %d decisions", len(doc.Boussole), len(doc.Register), len(doc.Decisions))
	}
	// No people: no email address, no member's name from the demo.
	if regexp.MustCompile(`[a-z0-9.-]+@[a-z0-9-]+\.[a-z]`).Match(raw) {
		t.Error("the export holds an email address")
	}
	var names []string
	if err := db.NewSelect().Table("accounts").Column("name").Scan(context.Background(), &names); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if len(n) > 3 && bytes.Contains(raw, []byte(n)) {
			t.Errorf("the export names a person: %q", n)
		}
	}

	b := emptyCouncil(t, db, "Conseil de Crest")
	rep, err := importInto(t, db, b, bytes.NewReader(raw))
	if err != nil || !rep.OK() {
		t.Fatalf("import: %v %+v", err, rep)
	}
	if rep.Source != doc.Council.Name || rep.BoussoleVersions != 1 || rep.RegisterVersions != len(doc.Register) || rep.Decisions != len(doc.Decisions) {
		t.Errorf("report: %+v", rep)
	}

	// Export of the new council over HTTP, on its own host.
	c := webtest.New(t, a)
	c.Host = webtest.HostFor(t, db, b)
	res, body := c.Get("/api/v1/export")
	if res.StatusCode != 200 {
		t.Fatalf("second export: %d", res.StatusCode)
	}
	again := new(exchange.Document)
	if err := json.Unmarshal([]byte(body), again); err != nil {
		t.Fatal(err)
	}
	if again.Council.Name != "Conseil de Crest" {
		t.Errorf("second export's council: %+v", again.Council)
	}
	again.Council = doc.Council
	second, _ := json.MarshalIndent(again, "", "  ")
	if !bytes.Equal(second, raw) {
		t.Errorf("round trip differs:\n%s", firstDifference(raw, second))
	}

	// The history says where it came from; the register in force is the last version.
	if _, body := c.Get("/registre/versions"); !strings.Contains(body, "Importée de "+htmlEscape(doc.Council.Name)) {
		t.Error("/registre/versions does not say the versions were imported")
	}
	if _, body := c.Get("/boussole"); !strings.Contains(body, "importée de "+htmlEscape(doc.Council.Name)) {
		t.Error("/boussole does not say it was imported")
	}
	last := doc.Register[len(doc.Register)-1]
	if n, _ := db.NewSelect().Table("register_items").Where("council_id = ?", b).Count(context.Background()); n != len(last.Items) {
		t.Errorf("register in force: %d items, want %d", n, len(last.Items))
	}
	// A second import into the now filled council is refused, nothing added.
	before := rowsOf(t, db, b)
	if rep, err := importInto(t, db, b, bytes.NewReader(raw)); !errors.Is(err, exchange.ErrRefused) || !strings.Contains(fmt.Sprint(rep.Problems), "conseil vide") {
		t.Errorf("import into a filled council: %v %+v", err, rep)
	}
	if rowsOf(t, db, b) != before {
		t.Error("a refused import wrote rows")
	}
}

func htmlEscape(s string) string { return strings.ReplaceAll(s, "'", "&#39;") }

func firstDifference(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			lo := max(0, i-200)
			return fmt.Sprintf("at byte %d:\nwant …%s\ngot  …%s", i, a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

// schemaOf reads the JSON Schema block of docs/exchange.md.
func schemaOf(t *testing.T) *jsonschema.Schema {
	t.Helper()
	md, err := os.ReadFile("../../docs/exchange.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)\n```").FindSubmatch(md)
	if m == nil {
		t.Fatal("docs/exchange.md has no ```json block")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("exchange.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("exchange.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The export validates against the schema of docs/exchange.md, and the schema
// is not a blank cheque: a document without its version fails it.
func TestExportValidatesAgainstTheSchema(t *testing.T) {
	t.Parallel()
	s := schemaOf(t)
	_, _, raw, _ := demoExport(t)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("the export does not validate: %v", err)
	}
	broken := bytes.Replace(raw, []byte(`"version": 1`), []byte(`"version": 2`), 1)
	inst, _ = jsonschema.UnmarshalJSON(bytes.NewReader(broken))
	if err := s.Validate(inst); err == nil {
		t.Error("the schema accepts version 2")
	}
}

// repeatReader yields n bytes of b.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.n -= k
	return int(k), nil
}

// Hostile files are refused with every problem, its path and what was
// expected, and nothing is written.
func TestImportRefusesHostileFiles(t *testing.T) {
	t.Parallel()
	db, _, raw, doc := demoExport(t)
	b := emptyCouncil(t, db, "Conseil vide")

	inconsistent := func() []byte {
		var d exchange.Document
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		last := &d.Register[len(d.Register)-1]
		// Drop the first category that has products: its products lose their parent.
		var cat string
		for _, it := range last.Items {
			if it.Kind == "product" {
				cat = it.Parent
				break
			}
		}
		kept := last.Items[:0]
		for _, it := range last.Items {
			if it.Slug != cat {
				kept = append(kept, it)
			}
		}
		last.Items = kept
		last.Items = append(last.Items, last.Items[0]) // a slug twice
		last.Items[1].Status = "interdit"              // an unknown status
		d.Register = append(d.Register, d.Register[0]) // a version number going back
		d.Boussole[0].Criteria[3].Pillar = ""          // a criterion without pillar
		d.Decisions[0].RegisterVersion = new(int)      // a register version not in the file
		*d.Decisions[0].RegisterVersion = 999
		out, _ := json.Marshal(d)
		return out
	}()

	for _, tc := range []struct {
		name  string
		r     io.Reader
		paths []string // every one must be reported
		texts []string
	}{
		{"50 MB", io.MultiReader(strings.NewReader(`{"format":"cla-exchange","version":1,"council":{"name":"`), &repeatReader{'a', 50 << 20}),
			[]string{"$"}, []string{"10 Mo"}},
		{"not JSON", strings.NewReader("<html><body>Bonjour</body></html>"), []string{"ligne 1, colonne 1"}, []string{"pas du JSON"}},
		{"broken JSON on line 3", strings.NewReader("{\n  \"format\": \"cla-exchange\",\n  \"version\": 1,,\n}"), []string{"ligne 3, colonne"}, nil},
		{"not an object", strings.NewReader(`[1, 2]`), []string{"$"}, []string{"objet JSON"}},
		{"unknown version", strings.NewReader(`{"format":"cla-exchange","version":2}`), []string{"$.version"}, []string{"version du format inconnue : 2"}},
		{"other format", strings.NewReader(`{"format":"odoo","version":1}`), []string{"$.format"}, []string{"format inconnu"}},
		{"wrong type", strings.NewReader(`{"format":"cla-exchange","version":1,"council":{"name":"X"},"boussole_versions":[{"number":"un"}]}`),
			[]string{"$.boussole_versions.number"}, []string{"un nombre entier"}},
		{"inconsistent", bytes.NewReader(inconsistent), []string{
			"$.register_versions[" + fmt.Sprint(len(doc.Register)-1) + "].items[",
			"].parent", "].slug", "].status",
			"$.register_versions[" + fmt.Sprint(len(doc.Register)) + "].number",
			"$.boussole_versions[0].criteria[3].pillar",
			"$.decisions[0].register_version",
		}, []string{"est absent de cette version", "recule", "en double", "statut inconnu", "Choisissez le pilier"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := importInto(t, db, b, tc.r)
			if !errors.Is(err, exchange.ErrRefused) || apperr.CodeOf(err) != apperr.Invalid || rep == nil || rep.OK() {
				t.Fatalf("accepted or wrong error: %v", err)
			}
			all := ""
			for _, p := range rep.Problems {
				if p.Path == "" || p.Message == "" || p.Expected == "" {
					t.Errorf("incomplete problem %+v", p)
				}
				all += p.String() + "\n"
			}
			for _, want := range append(tc.paths, tc.texts...) {
				if !strings.Contains(all, want) {
					t.Errorf("report lacks %q:\n%s", want, all)
				}
			}
			if n := rowsOf(t, db, b); n != 0 {
				t.Errorf("%d rows written", n)
			}
		})
	}
}

// Explanations from a file are sanitised again: a script does not survive.
func TestImportSanitisesExplanations(t *testing.T) {
	t.Parallel()
	db, _, raw, _ := demoExport(t)
	var d exchange.Document
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	last := &d.Register[len(d.Register)-1]
	last.Items[0].ExplanationHTML = `<p>Bonjour</p><script>alert(1)</script><a href="javascript:alert(2)">x</a>`
	hostile, _ := json.Marshal(d)
	b := emptyCouncil(t, db, "Conseil prudent")
	if rep, err := importInto(t, db, b, bytes.NewReader(hostile)); err != nil {
		t.Fatalf("import: %v %+v", err, rep)
	}
	var html string
	if err := db.NewSelect().Table("register_items").Column("explanation_html").
		Where("council_id = ? AND slug = ?", b, last.Items[0].Slug).Scan(context.Background(), &html); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "script") || strings.Contains(html, "javascript:") || !strings.Contains(html, "<p>Bonjour</p>") {
		t.Errorf("stored explanation %q", html)
	}
	var snap string
	if err := db.NewSelect().Table("register_versions").ColumnExpr("snapshot::text").
		Where("council_id = ?", b).Order("number DESC").Limit(1).Scan(context.Background(), &snap); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(snap, "<script") {
		t.Error("the stored snapshot keeps the script")
	}
}
