package debate_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/debate"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// benchWords is the vocabulary of generated arguments: council-like French,
// with and without accents.
var benchWords = []string{"riz", "Camargue", "pêche", "poisson", "local", "bio", "prix", "eau", "saison", "producteur",
	"marché", "Dieulefit", "viande", "élevage", "santé", "environnement", "territoire", "paysage", "travail", "revenu",
	"conserve", "légumes", "fruits", "céréales", "pain", "fromage", "miel", "œufs", "chasse", "gibier",
	"supermarché", "épicerie", "franchise", "charte", "transport", "carbone", "semences", "plants", "tofu", "maïs",
	"accessible", "cher", "qualité", "goût", "plaisir", "confiance", "traçabilité", "label", "conversion", "pratiques",
	"la", "le", "les", "des", "du", "pour", "contre", "mais", "avec", "sans"}

// seedBench fills db with councils × debates and n arguments spread over them,
// each of 25 words, with one INSERT … SELECT generate_series. One word in
// every is a council word (benchWords), the others are drawn from 5,000 filler
// terms: with every = 10 a council word such as "riz" appears in about 4 % of
// the arguments, as a topic word does in real debates; every = 1 is the worst
// case where each council word is in a third of all arguments.
func seedBench(tb testing.TB, db *bun.DB, councils, n, every int) (councilIDs []int64) {
	tb.Helper()
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil {
		tb.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO councils (slug, name) SELECT 'bench-' || i, 'Conseil ' || i FROM generate_series(2, ?) i RETURNING id`, councils).Scan(ctx, &councilIDs); err != nil {
		tb.Fatal(err)
	}
	councilIDs = nil
	if err := db.NewRaw("SELECT id FROM councils ORDER BY id").Scan(ctx, &councilIDs); err != nil {
		tb.Fatal(err)
	}
	// Every council gets the 17 demo debates (title and question), opened.
	if _, err := db.ExecContext(ctx, `INSERT INTO debates (council_id, slug, theme, title, question, state, opened_at)
		SELECT c.id, d.slug, d.theme, d.title, d.question, 'ouvert', now() FROM councils c
		CROSS JOIN (SELECT slug, theme, title, question FROM debates WHERE council_id = ?) d
		WHERE c.id <> ?`, councilIDs[0], councilIDs[0]); err != nil {
		tb.Fatal(err)
	}
	words := "ARRAY['" + strings.Join(benchWords, "','") + "']"
	start := time.Now()
	_, err := db.ExecContext(ctx, `WITH ds AS (SELECT id, council_id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n FROM debates),
		src AS (SELECT i, (SELECT array_to_string(ARRAY(SELECT CASE WHEN (i * 31 + w * 17 + (i % 7) * w) % ? = 0
					THEN (`+words+`)[1 + ((i * 7919 + w * 104729 + (i % 13) * w * w) % `+debate.Itoa(len(benchWords))+`)]
					ELSE 'terme' || ((i * 2654435761 + w * 40503) % 5000) END
				FROM generate_series(1, 25) w), ' ')) AS body
			FROM generate_series(1, ?) i)
		INSERT INTO arguments (council_id, debate_id, stance, body_md, body_html, body_text, author_name, is_demo)
		SELECT ds.council_id, ds.id, (ARRAY['pour','contre','nuance','question','fait_source'])[1 + src.i % 5],
			src.body, '<p>' || src.body || '</p>', src.body, 'Banc d''essai', true
		FROM src JOIN ds ON ds.k = src.i % ds.n`, every, n)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d arguments over %d councils in %s", n, len(councilIDs), time.Since(start).Round(time.Millisecond))
	return councilIDs
}

// BenchmarkSearch: 200,000 arguments over 50 councils; searches in one council.
// Run: go test -run '^$' -bench BenchmarkSearch -benchtime 400x ./governance/debate/
// It reports p50 and p95 latencies (ms) of Search over a mix of queries.
func BenchmarkSearch(b *testing.B) {
	if b.N == 1 {
		// The testing package's first probe run: seeding takes ~30 s, so do it
		// once, in the measured run (use a fixed -benchtime such as 400x).
		return
	}
	db := testdb.New(b)
	every := 10
	if v := os.Getenv("CLA_SEARCH_EVERY"); v != "" {
		every, _ = strconv.Atoi(v)
	}
	ids := seedBench(b, db, 50, 200_000, every)
	ctx := context.Background()
	if extra := os.Getenv("CLA_SEARCH_EXTRA_SQL"); extra != "" {
		if _, err := db.ExecContext(ctx, extra); err != nil {
			b.Fatal(err)
		}
	}
	queries := []string{"riz camargue", "peche", "poisson local", "prix bio", `"riz de camargue"`, "saison -viande", "oeufs", "elevage sante"}
	council := ids[len(ids)/2]
	for _, q := range queries { // warm up
		if _, err := debate.Search(ctx, db, council, q, 1); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	found := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := queries[i%len(queries)]
		t0 := time.Now()
		res, err := debate.Search(ctx, db, council, q, 1+i%3)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if i < len(queries) {
			found += res.Total
		}
	}
	b.StopTimer()
	if found == 0 {
		b.Fatal("no query found anything")
	}
	var plan []string
	rows, err := db.DB.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+debate.SearchSQL, council, "peche", debate.SearchPageSize, 0)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			b.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	if f := os.Getenv("CLA_SEARCH_PLAN"); f != "" {
		_ = os.WriteFile(f, []byte(strings.Join(plan, "\n")), 0o644)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "p95-ms")
}

type benchCounter struct{ n atomic.Int64 }

func (c *benchCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *benchCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// BenchmarkDebatePage renders a debate with 500 arguments through the real
// router (stored HTML only, no goldmark) and reports queries per page, for an
// anonymous visitor and for a signed-in member (who gets the argument form and
// goes through the session middleware; the page is never cached for them),
// without and with Accept-Encoding: gzip (the kept part spliced in
// compressed, pagecache.SendSpliced; the benchmark's client decompresses).
// Run: go test -run '^$' -bench BenchmarkDebatePage -benchtime 200x ./governance/debate/
func BenchmarkDebatePage(b *testing.B) {
	db := testdb.New(b)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO arguments (council_id, debate_id, stance, criterion_id, body_md, body_html, body_text, author_name, is_demo)
		SELECT d.council_id, d.id, (ARRAY['pour','contre','nuance','question','fait_source'])[1 + i % 5],
			(SELECT id FROM criteria c WHERE c.council_id = d.council_id ORDER BY id OFFSET i % 12 LIMIT 1),
			'Argument **' || i || '**', '<p>Argument <strong>' || i || '</strong> : le riz de Camargue et l''eau du Rhône.</p>', 'Argument ' || i, 'Démo', true
		FROM debates d, generate_series(1, 495) i WHERE d.council_id = ? AND d.slug = 'riz-de-camargue'`, co.ID); err != nil {
		b.Fatal(err)
	}
	a := apptest.New(b, db, app.Config{})
	member, _ := webtest.SignIn(b, a, db, co.ID, authz.Member)
	host := webtest.HostFor(b, db, co.ID)
	cookie := auth.SessionCookie + "=" + member.Cookie(auth.SessionCookie)
	counter := &benchCounter{}
	db.AddQueryHook(counter)
	for _, variant := range []struct {
		name             string
		signedIn, gzipOK bool
	}{{"anonymous", false, false}, {"signed-in", true, false}, {"signed-in-gzip", true, true}} {
		signedIn := variant.signedIn
		b.Run(variant.name, func(b *testing.B) {
			get := func() int {
				req := httptest.NewRequest("GET", "/debats/riz-de-camargue", nil)
				req.Host = host
				if signedIn {
					req.Header.Set("Cookie", cookie)
				}
				if variant.gzipOK {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				resp, err := a.Test(req, -1)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				if variant.gzipOK {
					// Read as sent (the reported size), checked decompressed.
					if resp.Header.Get("Content-Encoding") != "gzip" {
						b.Fatal("not gzipped")
					}
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					plain, err := io.ReadAll(zr)
					if err != nil {
						b.Fatal(err)
					}
					if !strings.Contains(string(plain), "Argument <strong>495</strong>") || !strings.Contains(string(plain), "Publier l'argument") {
						b.Fatal("gzipped page incomplete")
					}
					return len(body)
				}
				if resp.StatusCode != 200 || !strings.Contains(string(body), "Argument <strong>495</strong>") {
					b.Fatalf("status %d", resp.StatusCode)
				}
				if signedIn != strings.Contains(string(body), "Publier l'argument") {
					b.Fatalf("signed in %v, but the argument form's presence says otherwise", signedIn)
				}
				return len(body)
			}
			get()
			before, cpu0 := counter.n.Load(), processCPU()
			b.ResetTimer()
			size := 0
			for i := 0; i < b.N; i++ {
				size = get()
			}
			b.StopTimer()
			b.ReportMetric((processCPU()-cpu0).Seconds()*1000/float64(b.N), "app-CPU-ms/page")
			b.ReportMetric(float64(counter.n.Load()-before)/float64(b.N), "queries/page")
			b.ReportMetric(float64(size)/1024, "KiB/page")
		})
	}
}

// processCPU is the CPU time (user and system) of this process, which serves
// the app in these benchmarks (PostgreSQL runs in its own processes): the
// app's CPU per page, whatever the machine's load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
