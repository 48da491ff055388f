package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/catalog"
	"cla/internal/authz"
	"cla/internal/pagecache"
	"cla/internal/testdb"
	"cla/internal/web"
	"cla/internal/webtest"
)

// BenchmarkRegisterLoad is the register's load benchmark (docs/perf.md). It
// builds a register of 2,000 items and 300 shops through catalog.ApplyChange,
// serves the real app on a loopback port and drives it with wrk (apt-get
// install wrk), beside a bare Fiber handler measured in the same run:
//
//	go test ./cmd/cla -run '^$' -bench RegisterLoad -benchtime 1x
//
// Set CLA_BENCH_DURATION (default 10s) and CLA_BENCH_CONNS (default 32).
func BenchmarkRegisterLoad(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Fatal("wrk not found: apt-get install wrk")
	}
	duration := os.Getenv("CLA_BENCH_DURATION")
	if duration == "" {
		duration = "10s"
	}
	conns := os.Getenv("CLA_BENCH_CONNS")
	if conns == "" {
		conns = "32"
	}
	db := testdb.New(b)
	start := time.Now()
	councilID := loadBenchRegister(b, db, 2000, 300)
	b.Logf("register of 2,000 items and 300 shops loaded through ApplyChange in %s", time.Since(start).Round(time.Millisecond))
	// Measure a database in its steady state, as autovacuum leaves it: not
	// while autovacuum works through the rows just loaded.
	if _, err := db.ExecContext(context.Background(), "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}

	app := apptest.New(b, db, (&Config{}).App())
	addr := serve(b, app)
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	bareAddr := serve(b, bare)
	// The same register pages with the cache disabled: every request queries
	// and renders.
	noCache, err := web.New(web.Options{DB: db, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	(&catalog.Handlers{DB: db, Logger: quiet, Cache: pagecache.Disabled()}).Routes(noCache)
	noCacheAddr := serve(b, noCache)

	// A signed-in member's session: such requests bypass the shared cache.
	client, _ := webtest.SignIn(b, app, db, councilID, authz.Member)
	session := client.Cookie("cla_session")

	resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/api/v1/register", nil), -1)
	if err != nil {
		b.Fatal(err)
	}
	etag := resp.Header.Get("ETag")
	body, _ := io.ReadAll(resp.Body)
	size := len(body)

	run := func(name, url string, headers ...string) wrkResult {
		var hs []string
		for _, h := range headers {
			hs = append(hs, "-H", h)
		}
		// One second of warm-up (connections opened, statements prepared), then the measure.
		warm := append([]string{"-t2", "-c" + conns, "-d1s"}, hs...)
		if out, err := exec.Command(wrk, append(warm, url)...).CombinedOutput(); err != nil {
			b.Fatalf("wrk %s: %v\n%s", name, err, out)
		}
		args := append([]string{"-t2", "-c" + conns, "-d" + duration, "--latency"}, hs...)
		out, err := exec.Command(wrk, append(args, url)...).CombinedOutput()
		if err != nil {
			b.Fatalf("wrk %s: %v\n%s", name, err, out)
		}
		r := parseWrk(b, string(out))
		b.Logf("%-44s %9.0f req/s  p50 %7s  p99 %7s  non-2xx/3xx %d", name, r.rps, r.p50, r.p99, r.errors)
		return r
	}
	b.ResetTimer()
	bareR := run("bare Fiber handler", "http://"+bareAddr+"/")
	inm := run("/api/v1/register, matching If-None-Match", "http://"+addr+"/api/v1/register", "If-None-Match: "+etag)
	full := run("/api/v1/register, cached, 200", "http://"+addr+"/api/v1/register")
	cached := run("/registre, anonymous (cached)", "http://"+addr+"/registre")
	signedIn := run("/registre, signed-in member (not cached)", "http://"+addr+"/registre", "Cookie: cla_session="+session)
	uncached := run("/registre, cache disabled, anonymous", "http://"+noCacheAddr+"/registre")
	b.StopTimer()
	_, _, _ = full, cached, signedIn
	ratio := inm.rps / bareR.rps
	b.ReportMetric(ratio, "inm/bare")
	b.ReportMetric(float64(uncached.p99.Microseconds())/1000, "uncached-p99-ms")
	b.Logf("register JSON: %d bytes; If-None-Match / bare = %.2f (target >= 0.30); uncached /registre p99 = %s (target < 50ms)", size, ratio, uncached.p99)
	if ratio < 0.3 || uncached.p99 >= 50*time.Millisecond {
		b.Errorf("targets missed")
	}
}

func serve(b *testing.B, app *fiber.App) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	return ln.Addr().String()
}

type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSockErr = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(b *testing.B, out string) wrkResult {
	var r wrkResult
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("wrk output: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[3]]
		d := time.Duration(v * float64(unit))
		if p[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.errors, _ = strconv.Atoi(m[1])
	}
	if m := wrkSockErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.errors += n
		}
	}
	return r
}

// loadBenchRegister creates the default council with a register of n items (10
// families, 9 categories each, the rest products) and shops points de vente, in
// one version made by catalog.ApplyChange.
func loadBenchRegister(b testing.TB, db *bun.DB, n, shops int) int64 {
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("INSERT INTO councils (slug, name, is_default) VALUES ('bench', 'Conseil de banc d''essai', true) RETURNING id").Scan(ctx, &councilID); err != nil {
		b.Fatal(err)
	}
	statuses := []catalog.Status{catalog.Conventionne, catalog.Conventionne, catalog.Conventionne, catalog.SousConditions, catalog.NonConventionne, catalog.DebatSouhaite}
	ch := catalog.Change{EffectiveOn: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Summary: "Registre de banc d'essai"}
	item := func(slug, name, parent string, kind catalog.Kind, i int) {
		s := statuses[i%len(statuses)]
		ic := catalog.ItemChange{Slug: slug, Name: name, ParentSlug: parent, Kind: kind, Status: s}
		switch s {
		case catalog.SousConditions:
			ic.Conditions = "Uniquement les produits de producteurs locaux, à réexaminer dans 12 mois."
		case catalog.NonConventionne:
			ic.Reason = "Non conventionné après débat : produit non local."
		}
		ch.Items = append(ch.Items, ic)
	}
	var cats []string
	for f := 0; f < 10; f++ {
		fam := fmt.Sprintf("famille-%d", f)
		item(fam, fmt.Sprintf("Famille de produits n°%d", f), "", catalog.Family, 0)
		for c := 0; c < 9; c++ {
			cat := fmt.Sprintf("categorie-%d-%d", f, c)
			cats = append(cats, cat)
			item(cat, fmt.Sprintf("Catégorie %d de la famille %d", c, f), fam, catalog.Category, c)
		}
	}
	for p := 0; len(ch.Items) < n; p++ {
		item(fmt.Sprintf("produit-%d", p), fmt.Sprintf("Produit d'essai n°%d, fermier & local", p), cats[p%len(cats)], catalog.Product, p)
	}
	kinds := []catalog.ShopKind{"marche", "epicerie", "producteur", "boulangerie", "supermarche", "magasin_franchise"}
	for s := 0; s < shops; s++ {
		var carried []string
		for k := 0; k < 8; k++ {
			carried = append(carried, cats[(s*7+k*11)%len(cats)])
		}
		carried = dedupe(carried)
		ch.Shops = append(ch.Shops, catalog.ShopChange{Slug: fmt.Sprintf("point-de-vente-%d", s), Status: catalog.ShopConventionne,
			Categories: carried, New: &catalog.Shop{Name: fmt.Sprintf("Point de vente n°%d", s), Kind: kinds[s%len(kinds)],
				Commune: fmt.Sprintf("Commune %d", s%20), Address: "1 place du Marché", Hours: "Du mardi au samedi"}})
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := catalog.ApplyChange(ctx, tx, councilID, ch, catalog.DecisionRef{Title: "Banc d'essai"})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return councilID
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
