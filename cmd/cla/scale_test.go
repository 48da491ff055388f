package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/demo/scalegen"
	"cla/internal/authz"
	"cla/internal/database"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// generate fills a fresh test database with a generated network.
func generate(t *testing.T, scale float64, seed int64) *bun.DB {
	t.Helper()
	db := testdb.New(t)
	if _, err := scalegen.Generate(context.Background(), db, scale, seed, nil); err != nil {
		t.Fatalf("generate scale %v: %v", scale, err)
	}
	return db
}

// TestScaleGeneratorDeterministic: the same seed gives the same rows (counts
// and content checksum), another seed other content; the sizes are those asked
// for, and the invariants the schema does not state hold.
func TestScaleGeneratorDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type gen struct {
		counts map[string]int64
		sum    string
		db     *bun.DB
	}
	run := func(seed int64) gen {
		db := generate(t, 0.01, seed)
		counts, err := scalegen.Counts(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := scalegen.Checksum(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return gen{counts, sum, db}
	}
	var a, b, c gen
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); a = run(5) }()
	go func() { defer wg.Done(); b = run(5) }()
	go func() { defer wg.Done(); c = run(6) }()
	wg.Wait()
	if t.Failed() {
		return
	}
	if a.sum == "" || a.sum != b.sum {
		t.Errorf("same seed, different content: %q vs %q", a.sum, b.sum)
	}
	if a.sum == c.sum {
		t.Errorf("seeds 5 and 6 gave the same content %q", a.sum)
	}
	for _, tbl := range scalegen.Tables {
		if a.counts[tbl] != b.counts[tbl] {
			t.Errorf("%s: %d rows, then %d with the same seed", tbl, a.counts[tbl], b.counts[tbl])
		}
	}
	z := scalegen.SizesFor(0.01)
	want := map[string]int64{
		"councils": int64(z.Councils), "accounts": int64(z.Total(z.Members)), "register_items": int64(z.Total(z.Items)),
		"shops": int64(z.Total(z.Shops)), "proposals": int64(z.Total(z.Proposals)), "proposal_scores": int64(z.Total(z.Grades)),
		"arguments": int64(z.Total(z.Arguments)), "votes": int64(z.Total(z.Votes)), "debates": int64(z.Total(z.Debates)),
	}
	for tbl, n := range want {
		if a.counts[tbl] != n {
			t.Errorf("%s: %d rows, want %d", tbl, a.counts[tbl], n)
		}
	}
	if z.Total(z.Grades) != 10_000 || z.Total(z.Arguments) != 2_000 || z.Total(z.Votes) != 200 {
		t.Errorf("scale 0.01 sizes: %+v", z)
	}
	// Invariants beyond the schema: every zero below is a violation count.
	for _, q := range []string{
		// a debate holds about 500 arguments
		`SELECT count(*) FROM (SELECT debate_id FROM arguments GROUP BY debate_id HAVING count(*) <> 500) x`,
		// graders, authors and voters are members of the row's council
		`SELECT count(*) FROM proposal_scores s WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.council_id = s.council_id AND m.account_id = s.account_id)`,
		`SELECT count(*) FROM arguments a WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.council_id = a.council_id AND m.account_id = a.author_id)`,
		`SELECT count(*) FROM ballots b WHERE NOT EXISTS (SELECT 1 FROM attendances at JOIN votes v ON v.meeting_id = at.meeting_id
			WHERE v.id = b.vote_id AND at.member_id = b.member_id AND at.status = 'present')`,
		// a closed vote's stored tally counts exactly its ballots
		`SELECT count(*) FROM votes v WHERE v.state = 'clos' AND (v.ballot_count <> (SELECT count(*) FROM ballots b WHERE b.vote_id = v.id)
			OR (v.tally->>'pour')::int <> (SELECT count(*) FROM ballots b WHERE b.vote_id = v.id AND b.choice = 'pour'))`,
		// one decision per closed vote, none for open ones
		`SELECT count(*) FROM votes v WHERE (v.state = 'clos') <> EXISTS (SELECT 1 FROM decisions d WHERE d.vote_id = v.id)`,
		// one meeting in progress per council, with open votes only
		`SELECT count(*) FROM councils c WHERE (SELECT count(*) FROM meetings m WHERE m.council_id = c.id AND m.state = 'en_cours') <> 1`,
		`SELECT count(*) FROM votes v JOIN meetings m ON m.id = v.meeting_id WHERE (m.state = 'en_cours') <> (v.state = 'ouvert')`,
		// replies answer a top-level argument
		`SELECT count(*) FROM arguments a JOIN arguments p ON p.id = a.parent_id WHERE p.parent_id IS NOT NULL OR p.debate_id <> a.debate_id`,
		// exactly one default council
		`SELECT count(*) - 1 FROM councils WHERE is_default`,
	} {
		var n int
		if err := a.db.NewRaw(q).Scan(ctx, &n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != 0 {
			t.Errorf("%d violations of: %s", n, strings.Join(strings.Fields(q), " "))
		}
	}
	var replies int
	if err := a.db.NewRaw("SELECT count(*) FROM arguments WHERE parent_id IS NOT NULL").Scan(ctx, &replies); err != nil || replies == 0 {
		t.Errorf("no replies generated (%v)", err)
	}
}

// councilResolution tells the statements of council.Resolver, which runs once
// per host every 30 s whatever the page: counting them would make a page's
// count depend on the clock.
func councilResolution(q string) bool {
	return strings.Contains(q, "SELECT council_id FROM council_hosts WHERE host =") ||
		(strings.Contains(q, `FROM "councils" AS "council"`) && strings.Contains(q, "WHERE (is_default)"))
}

// countingApp is the real app (app.New) over db, counting each request's SQL
// statements (database.WithStatementHook: bun's and pgx's alike) into the
// counter its last request got.
type countingApp struct {
	app  *fiber.App
	last atomic.Pointer[atomic.Int64]
}

func newCountingApp(t *testing.T, db *bun.DB) *countingApp {
	t.Helper()
	ca := &countingApp{}
	cfg := &Config{RequestContext: func(ctx context.Context) context.Context {
		n := new(atomic.Int64)
		ca.last.Store(n)
		return database.WithStatementHook(ctx, func(sql string) {
			if !councilResolution(sql) {
				n.Add(1)
			}
		})
	}}
	// The budgets are those of a render: the page cache is off.
	acfg := cfg.App()
	acfg.PageCacheOff = true
	app := apptest.New(t, db, acfg)
	ca.app = app
	return ca
}

// queryBudget is the most SQL statements any main page may run, whatever the
// number of rows. 14 since proxies (#19): a member's meeting page reads the
// meeting's proxies, its roll and the members one may give a proxy to.
const queryBudget = 14

// TestQueryBudget: the main pages, anonymous and signed in, run a small fixed
// number of statements, the same with about twice the rows (more councils,
// items, proposals, votes, and 1,000 instead of 500 arguments in the debate).
func TestQueryBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	measure := func(scale float64, doubleDebate bool) map[string]int64 {
		db := generate(t, scale, 1)
		if doubleDebate {
			if _, err := db.ExecContext(ctx, `INSERT INTO arguments (council_id, debate_id, stance, body_md, body_html, body_text, author_id, author_name)
				SELECT a.council_id, a.debate_id, a.stance, a.body_md, a.body_html, a.body_text, a.author_id, a.author_name
				FROM arguments a JOIN debates d ON d.id = a.debate_id JOIN councils c ON c.id = d.council_id
				WHERE c.is_default AND d.slug = 'debat-1'`); err != nil {
				t.Fatal(err)
			}
		}
		var council, proposal, meeting, vote int64
		if err := db.NewRaw(`SELECT c.id,
				(SELECT min(id) FROM proposals p WHERE p.council_id = c.id AND p.state <> 'brouillon'),
				(SELECT id FROM meetings m WHERE m.council_id = c.id AND m.state = 'en_cours'),
				(SELECT min(v.id) FROM votes v JOIN meetings m ON m.id = v.meeting_id WHERE m.council_id = c.id AND m.state = 'en_cours')
			FROM councils c WHERE c.is_default`).Scan(ctx, &council, &proposal, &meeting, &vote); err != nil {
			t.Fatal(err)
		}
		ca := newCountingApp(t, db)
		// The counting app renders every page (its page cache is off): no
		// listener to wait for.
		anon := webtest.New(t, ca.app)
		member, _ := webtest.SignIn(t, ca.app, db, council, authz.Member)
		pages := []string{"/", "/registre", "/points-de-vente", "/api/v1/register", "/register.csv", "/debats", "/debats/debat-1",
			"/propositions", "/propositions/{id}", "/recherche?q=producteurs", "/seances", "/seances/{id}", "/votes/{id}", "/decisions", "/boussole"}
		ids := map[string]int64{"/propositions/{id}": proposal, "/seances/{id}": meeting, "/votes/{id}": vote}
		out := map[string]int64{}
		for _, who := range []struct {
			name string
			c    *webtest.Client
		}{{"anonymous", anon}, {"member", member}} {
			for _, p := range pages {
				path := p
				if id, ok := ids[p]; ok {
					path = strings.Replace(p, "{id}", fmt.Sprint(id), 1)
				}
				resp, _ := who.c.Do(httptest.NewRequest(http.MethodGet, path, nil))
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s %s: status %d", who.name, path, resp.StatusCode)
				}
				out[who.name+" "+p] = ca.last.Load().Load()
			}
		}
		return out
	}
	var small, big map[string]int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); small = measure(0.01, false) }()
	go func() { defer wg.Done(); big = measure(0.03, true) }()
	wg.Wait()
	if t.Failed() {
		return
	}
	// The hook must see the queries at all (an uncached page queries).
	if small["member /propositions/{id}"] == 0 {
		t.Fatal("no statement counted for a signed-in proposal page: the query hook is not wired")
	}
	var keys []string
	for k := range small {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-40s %2d statements (%d with more rows)", k, small[k], big[k])
		if small[k] > queryBudget || big[k] > queryBudget {
			t.Errorf("%s: %d and %d statements, budget %d", k, small[k], big[k], queryBudget)
		}
		// Version numbers in URLs are the same; only row counts differ.
		if small[k] != big[k] {
			t.Errorf("%s: %d statements, %d with more rows: the count grows with the data", k, small[k], big[k])
		}
	}
}
