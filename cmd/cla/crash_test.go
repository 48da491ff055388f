package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cla/demo/scalegen"
	"cla/internal/database"
	"cla/internal/pgserver"
	"cla/internal/testdb"
)

// pgProxy forwards TCP connections to a PostgreSQL Unix socket that may move:
// a restarted private PostgreSQL gets a new socket folder, while the app keeps
// the proxy's address, as it would keep a database host name.
type pgProxy struct {
	ln     net.Listener
	target atomic.Value // socket path
}

func newPGProxy(t *testing.T, socket string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln}
	p.target.Store(socket)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("unix", p.target.Load().(string))
				if err != nil {
					return // the database is down: the client sees a closed connection
				}
				defer s.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return p
}

func (p *pgProxy) url(db string) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", pgserver.User, p.ln.Addr(), db)
}

// socketOf returns the Unix socket path of a private PostgreSQL.
func socketOf(t *testing.T, pg *pgserver.Server) string {
	u, err := url.Parse(pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(u.Query().Get("host"), ".s.PGSQL.5432")
}

func getStatus(client *http.Client, u string) int {
	resp, err := client.Get(u)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus polls u until it answers want, for at most d.
func waitStatus(t *testing.T, client *http.Client, u string, want int, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if getStatus(client, u) == want {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within %s", u, want, d)
	return 0
}

// TestDatabaseRestartUnderLoad: PostgreSQL is stopped and started again while
// the app serves requests that query it. /readyz turns red, then green; the
// app serves again without a restart; no goroutine is left behind.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	pg, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(dir, "pg"), Fast: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { pg.Stop() }()
	proxy := newPGProxy(t, socketOf(t, pg))
	admin, err := database.Open(ctx, proxy.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if err := database.CreateDatabase(ctx, admin.DB, "cla"); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close()
	gen, err := database.Open(ctx, proxy.url("cla"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := database.Migrate(ctx, gen); err != nil {
		t.Fatal(err)
	}
	if _, err := scalegen.Generate(ctx, gen, 0.01, 1, nil); err != nil {
		t.Fatal(err)
	}
	_ = gen.Close()

	m := &Main{Config: Config{DatabaseURL: proxy.url("cla"), Addr: "127.0.0.1:0", NoDemo: true, DataDir: dir}, Logger: quiet}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	base := "http://" + m.Addr()
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	// Load: searches (they query) and a proposal page, on 8 connections.
	load := func(stop *atomic.Bool, ok, failed *atomic.Int64) *sync.WaitGroup {
		var wg sync.WaitGroup
		paths := []string{"/recherche?q=producteurs", "/recherche?q=prix", "/propositions/1", "/debats/debat-2"}
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					// A query of its own per request: a miss of the page
					// cache, which reaches the database.
					if getStatus(client, base+paths[(w+i)%len(paths)]+sep(paths[(w+i)%len(paths)])+"n="+strconv.Itoa(w*1_000_000+i)) == http.StatusOK {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			}(w)
		}
		return &wg
	}
	settle := func() int {
		tr.CloseIdleConnections()
		time.Sleep(300 * time.Millisecond)
		runtime.GC()
		return runtime.NumGoroutine()
	}
	var stop atomic.Bool
	var ok, failed atomic.Int64
	wg := load(&stop, &ok, &failed)
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("before the restart: %d ok, %d failed", ok.Load(), failed.Load())
	}
	baseline := settle()

	stop.Store(false)
	ok.Store(0)
	wg = load(&stop, &ok, &failed)
	time.Sleep(300 * time.Millisecond)
	pg.Stop()
	red := waitStatus(t, client, base+"/readyz", http.StatusServiceUnavailable, 10*time.Second)
	t.Logf("/readyz red %s after the database stopped", red.Round(time.Millisecond))
	if getStatus(client, base+"/healthz") != http.StatusOK {
		t.Error("/healthz must stay green: the process is up")
	}
	time.Sleep(time.Second) // requests fail meanwhile
	restart := time.Now()
	pg, err = pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(dir, "pg"), Fast: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	proxy.target.Store(socketOf(t, pg))
	green := waitStatus(t, client, base+"/readyz", http.StatusOK, 30*time.Second)
	t.Logf("/readyz green %s after the database started again (%s after it was started)", green.Round(time.Millisecond), time.Since(restart).Round(time.Millisecond))
	// The app serves again: a run of successful queried pages.
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("during the restart: %d ok, %d failed", ok.Load(), failed.Load())
	if failed.Load() == 0 {
		t.Error("no request failed while the database was down: the load did not reach it")
	}
	for _, p := range []string{"/recherche?q=producteurs", "/propositions/1", "/debats/debat-3", "/readyz"} {
		for i := 0; i < 5; i++ {
			if code := getStatus(client, base+p); code != http.StatusOK {
				t.Errorf("after recovery %s: %d", p, code)
			}
		}
	}
	// No goroutine leak: back to the baseline, within a tolerance.
	var after int
	for i := 0; i < 20; i++ {
		if after = settle(); after <= baseline+10 {
			break
		}
	}
	t.Logf("goroutines: %d before, %d after", baseline, after)
	if after > baseline+10 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before the restart, %d after\n%s", baseline, after, buf[:runtime.Stack(buf, true)])
	}
}

// TestKillDuringBallots: the real binary is killed with SIGKILL while members
// cast ballots. After a restart every acknowledged ballot is there (with the
// acknowledged choice, or the one in flight at the kill), no member has two
// ballots in a vote, and re-sending the unacknowledged ballots is safe.
func TestKillDuringBallots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.URL(t)
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := scalegen.Generate(ctx, db, 0.01, 1, nil); err != nil {
		t.Fatal(err)
	}
	var votes []int64
	if err := db.NewRaw(`SELECT v.id FROM votes v JOIN meetings m ON m.id = v.meeting_id
		WHERE m.state = 'en_cours' AND m.council_id = (SELECT id FROM councils WHERE is_default) ORDER BY v.id`).Scan(ctx, &votes); err != nil || len(votes) == 0 {
		t.Fatalf("open votes: %v %v", votes, err)
	}
	data := t.TempDir()
	p := startCla(t, data, "DATABASE_URL="+dbURL, "CLA_NO_DEMO=true", "CLA_LOG_LEVEL=warn")
	base := "http://" + p.addr

	const members = 20
	browsers := make([]*browser, members+1)
	ids := map[int64]int{}
	for k := 1; k <= members; k++ {
		browsers[k] = newBrowser(t)
		browsers[k].signIn(base, scaleMember(k), scalegen.Password)
		browsers[k].do(http.MethodGet, fmt.Sprintf("%s/votes/%d", base, votes[0]), nil)
		var id int64
		if err := db.NewRaw("SELECT id FROM accounts WHERE email = ?", scaleMember(k)).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		ids[id] = k
	}
	type key struct {
		member int
		vote   int64
	}
	var mu sync.Mutex
	acked := map[key]string{}    // last acknowledged choice
	inflight := map[key]string{} // the attempt that got no answer
	choices := []string{"pour", "contre", "abstention"}
	var acks atomic.Int64
	var wg sync.WaitGroup
	for k := 1; k <= members; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := 0; ; i++ {
				kk := key{k, votes[(k+i)%len(votes)]}
				c := choices[(k+i/len(votes))%3]
				code, _ := browsers[k].do(http.MethodPost, fmt.Sprintf("%s/votes/%d/bulletin", base, kk.vote), url.Values{"choice": {c}})
				mu.Lock()
				if code == http.StatusSeeOther {
					acked[kk] = c
					acks.Add(1)
					mu.Unlock()
					continue
				}
				inflight[kk] = c
				mu.Unlock()
				return // the server is gone
			}
		}(k)
	}
	// Kill once a good number of ballots were acknowledged.
	deadline := time.Now().Add(30 * time.Second)
	for acks.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	<-p.done
	t.Logf("killed after %d acknowledged ballots; %d requests without an answer", acks.Load(), len(inflight))
	if acks.Load() < 50 {
		t.Fatalf("only %d ballots acknowledged before the kill", acks.Load())
	}

	p2 := startCla(t, data, "DATABASE_URL="+dbURL, "CLA_NO_DEMO=true", "CLA_LOG_LEVEL=warn")
	base2 := "http://" + p2.addr
	check := func(stage string) map[key]string {
		var rows []struct {
			VoteID   int64  `bun:"vote_id"`
			MemberID int64  `bun:"member_id"`
			Choice   string `bun:"choice"`
		}
		if err := db.NewRaw("SELECT vote_id, member_id, choice FROM ballots WHERE vote_id = ANY(?)", pgInt8s(votes)).Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		got := map[key]string{}
		for _, r := range rows {
			k, ok := ids[r.MemberID]
			if !ok {
				continue
			}
			kk := key{k, r.VoteID}
			if _, dup := got[kk]; dup {
				t.Errorf("%s: member %d has two ballots in vote %d", stage, k, r.VoteID)
			}
			got[kk] = r.Choice
		}
		var dups int
		if err := db.NewRaw("SELECT count(*) FROM (SELECT 1 FROM ballots GROUP BY vote_id, member_id HAVING count(*) > 1) x").Scan(ctx, &dups); err != nil || dups != 0 {
			t.Errorf("%s: %d duplicate ballots (%v)", stage, dups, err)
		}
		return got
	}
	got := check("after the restart")
	for kk, c := range acked {
		g, ok := got[kk]
		if !ok {
			t.Errorf("acknowledged ballot of member %d in vote %d lost", kk.member, kk.vote)
		} else if g != c && g != inflight[kk] {
			t.Errorf("member %d, vote %d: ballot %q, acknowledged %q (in flight %q)", kk.member, kk.vote, g, c, inflight[kk])
		}
	}
	// Retrying the unanswered ballots on the restarted instance: the same
	// session and form token still work, and the retry replaces, never adds.
	for kk, c := range inflight {
		if code, body := browsers[kk.member].do(http.MethodPost, fmt.Sprintf("%s/votes/%d/bulletin", base2, kk.vote), url.Values{"choice": {c}}); code != http.StatusSeeOther {
			t.Errorf("retry of member %d in vote %d: %d %.200q", kk.member, kk.vote, code, body)
		}
		// And once more: casting is idempotent for the member.
		browsers[kk.member].do(http.MethodPost, fmt.Sprintf("%s/votes/%d/bulletin", base2, kk.vote), url.Values{"choice": {c}})
	}
	got = check("after the retries")
	for kk, c := range inflight {
		if got[kk] != c {
			t.Errorf("member %d, vote %d after retry: %q, want %q", kk.member, kk.vote, got[kk], c)
		}
	}
	p2.stop(t)
}

func pgInt8s(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return "{" + strings.Join(s, ",") + "}"
}

// sep is the separator before a query parameter added to path.
func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}
