// Command clabench is the platform's load benchmark (issue 10, docs/perf.md).
//
//	go run ./cmd/clabench --scale 0.2
//
// It builds cla, generates a network (`cla demo --scale`) in a private
// PostgreSQL started in a temporary folder (or in DATABASE_URL), serves it with
// `cla serve` as a child process, and measures requests per second and p50/p99
// latency at 8 and 32 concurrent keep-alive connections for: a bare Fiber
// handler (a child process too: the reference of the same run), the register
// page, /api/v1/register (200 and 304), one anonymous page of each public
// kind (home, register item, shops, a shop and its poster, debates, a debate
// with 500 arguments, a proposal, decisions, meetings, approved minutes, the
// boussole, the feeds, open data), the cashier's basket page, signed-in pages
// (a proposal, the debate, a meeting during a vote), a search (from the page
// cache, and uncached: each request under a new URL), ballot casting, the
// first requests after a register change (cold) and the weekly digest (the
// app sends it to clabench's SMTP sink); each line is checked against its
// target of issue 22. Meanwhile it samples
// the app's resident memory (/proc/<pid>/status) and its database connections
// (pg_stat_activity). It writes a table to its section of docs/perf.md
// (replaced on each run) and exits with status 1 if a target is missed.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	_ "github.com/jackc/pgx/v5/stdlib"

	"cla/demo/scalegen"
	"cla/internal/database"
	"cla/internal/pgserver"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-bare-server" {
		bareServer(os.Args[2])
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "clabench:", err)
		os.Exit(1)
	}
}

// bareServer is the reference: a bare Fiber handler, in its own process like the app.
func bareServer(addr string) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	if err := app.Listen(addr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type options struct {
	scale    float64
	seed     int64
	duration time.Duration
	conns    []int
	out      string
	dbURL    string
	keep     bool
	only     *regexp.Regexp // lines to run (nil: all); a partial run writes no report
	profDir  string         // where to write a CPU profile of the app per line
	// loadAtStart is the load average before clabench built or ran anything:
	// what else the machine was doing.
	loadAtStart string
}

func run() error {
	var o options
	var conns string
	flag.Float64Var(&o.scale, "scale", 0.2, "size of the generated network (1 = the whole French network, see cla demo --scale)")
	flag.Int64Var(&o.seed, "seed", 1, "generator seed")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measuring time per line (after a 1 s warm-up)")
	flag.StringVar(&conns, "conns", "8,32", "concurrent connections, comma-separated")
	flag.StringVar(&o.out, "out", "docs/perf.md", "Markdown file whose clabench section is replaced; empty: print only")
	flag.StringVar(&o.dbURL, "database-url", os.Getenv("DATABASE_URL"), "an empty database to use instead of a private PostgreSQL (env DATABASE_URL)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder")
	only := flag.String("only", "", "run only the lines whose name matches this regular expression (and the reference); prints, writes no report")
	flag.StringVar(&o.profDir, "cpuprofile", "", "write a CPU profile of the app for each of its lines into this folder (go tool pprof)")
	flag.Parse()
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("--only: %w", err)
		}
		o.only, o.out = re, ""
	}
	for _, c := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return fmt.Errorf("--conns %q", conns)
		}
		o.conns = append(o.conns, n)
	}
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "clabench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(tmp)
	}
	o.loadAtStart = loadAverage()
	logf("building cla and clabench")
	bin := filepath.Join(tmp, "cla")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/cla").CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/cla (run clabench from the repository root): %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pgPID := 0 // the private postmaster, whose backends' CPU is measured
	if o.dbURL == "" {
		pg, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(tmp, "pg"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		defer pg.Stop()
		pgPID = pg.PID()
		admin, err := sql.Open("pgx", pg.URL("postgres"))
		if err != nil {
			return err
		}
		if _, err := admin.Exec("CREATE DATABASE cla"); err != nil {
			return err
		}
		admin.Close()
		o.dbURL = pg.URL("cla")
		logf("private PostgreSQL (durable settings: fsync on) in %s", tmp)
	}
	db, err := sql.Open("pgx", o.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(2)

	logf("generating scale %v", o.scale)
	start := time.Now()
	gen := exec.Command(bin, "demo", "--scale", fmt.Sprint(o.scale), "--seed", fmt.Sprint(o.seed), "--database-url", o.dbURL, "--log-level", "warn")
	gen.Stdout, gen.Stderr = os.Stderr, os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("cla demo --scale: %w", err)
	}
	genTime := time.Since(start)

	sink, err := startSMTPSink()
	if err != nil {
		return err
	}
	defer sink.close()
	appAddr, bareAddr, pprofAddr := freeAddr(), freeAddr(), ""
	serveArgs := []string{"serve", "--database-url", o.dbURL, "--addr", appAddr, "--no-demo", "--log-level", "warn",
		"--smtp-addr", sink.addr(), "--smtp-from", "cla@clabench.example.org", "--smtp-tls", "none"}
	if o.profDir != "" {
		if err := os.MkdirAll(o.profDir, 0o755); err != nil {
			return err
		}
		pprofAddr = freeAddr()
		serveArgs = append(serveArgs, "--pprof-addr", pprofAddr)
	}
	app := exec.Command(bin, serveArgs...)
	app.Stderr = os.Stderr
	if err := app.Start(); err != nil {
		return err
	}
	defer func() { _ = app.Process.Signal(os.Interrupt); _ = app.Wait() }()
	bare := exec.Command(self, "-bare-server", bareAddr)
	bare.Stderr = os.Stderr
	if err := bare.Start(); err != nil {
		return err
	}
	defer func() { _ = bare.Process.Kill(); _ = bare.Wait() }()
	for _, u := range []string{"http://" + appAddr + "/healthz", "http://" + bareAddr + "/"} {
		if err := waitUp(u); err != nil {
			return err
		}
	}

	fx, err := loadFixtures(ctx, db, "http://"+appAddr, max(o.conns[len(o.conns)-1], 32))
	if err != nil {
		return err
	}
	mon := startMonitor(db, app.Process.Pid)

	var lines []line
	for _, c := range o.conns {
		for _, sc := range scenarios(fx, "http://"+appAddr, "http://"+bareAddr) {
			if o.only != nil && sc.target != "ref" && !o.only.MatchString(sc.name) {
				continue
			}
			pid := app.Process.Pid
			if sc.target == "ref" {
				pid = bare.Process.Pid
			}
			var prof chan error
			if pprofAddr != "" && sc.target != "ref" {
				prof = make(chan error, 1)
				file := filepath.Join(o.profDir, fmt.Sprintf("%s-%d.pprof", profileName(sc.name), c))
				go func() { prof <- fetchProfile("http://"+pprofAddr, file, o.duration+time.Second) }()
			}
			settle(ctx, db)
			mon.measuring(fmt.Sprintf("%s, %d connections", sc.name, c))
			r := measure(sc, c, o.duration, func() [2]float64 { return [2]float64{procCPU(pid), treeCPU(pgPID)} })
			if prof != nil {
				if err := <-prof; err != nil {
					return err
				}
			}
			logf("%-44s %3d conns  %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  %d bytes/answer", sc.name, c, r.rps, ms(r.p50), ms(r.p99), r.errors, r.bytes)
			lines = append(lines, line{scenario: sc.name, target: sc.target, conns: c, result: r})
		}
	}
	settle(ctx, db)
	mon.measuring("the cold lines")
	lines = append(lines, coldLines(o, db, "http://"+appAddr)...)
	settle(ctx, db)
	mon.measuring("the weekly digest")
	lines = append(lines, digestLine(o, db, sink, func() [2]float64 { return [2]float64{procCPU(app.Process.Pid), treeCPU(pgPID)} })...)
	maxRSS, maxConns := mon.stop()
	var ballots int64
	_ = db.QueryRow("SELECT count(*) FROM ballots b JOIN votes v ON v.id = b.vote_id WHERE v.state = 'ouvert'").Scan(&ballots)

	rep := report(o, lines, maxRSS, mon.during(), maxConns, genTime)
	fmt.Println(rep.text)
	if o.out != "" {
		if err := replaceSection(o.out, rep.text); err != nil {
			return err
		}
		logf("wrote %s", o.out)
	}
	if len(rep.missed) > 0 {
		return fmt.Errorf("targets missed: %s", strings.Join(rep.missed, "; "))
	}
	return nil
}

var notFileName = regexp.MustCompile(`[^a-z0-9]+`)

// profileName turns a line's name into a file name.
func profileName(name string) string {
	return strings.Trim(notFileName.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// fetchProfile records the app's CPU profile for d (the line's warm-up and
// measurement) into file.
func fetchProfile(base, file string, d time.Duration) error {
	resp, err := http.Get(base + "/debug/pprof/profile?seconds=" + strconv.Itoa(int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: status %d", resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	logf("  CPU profile: %s", file)
	return f.Close()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// settle vacuums and flushes what the lines before left (VACUUM, CHECKPOINT)
// before a line, so that each line's PostgreSQL CPU is its own work: not
// autovacuum going over the ballots of the line before, nor the checkpointer
// writing out its pages (or the generated data). Without the privileges (an
// outside DATABASE_URL) it says so once and goes on.
func settle(ctx context.Context, db *sql.DB) {
	for _, stmt := range []string{"VACUUM (ANALYZE)", "CHECKPOINT"} {
		if _, err := db.ExecContext(ctx, stmt); err != nil && !settleWarned {
			settleWarned = true
			logf("no %s between lines (%v): a line may pay for the work the one before left", stmt, err)
		}
	}
}

// settleWarned tells that settle has reported a statement it could not run.
var settleWarned bool

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUp(u string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up", u)
}

// fixtures are the generated rows the scenarios use, in the default council.
type fixtures struct {
	proposalID int64
	debate     string
	// public are the anonymous pages of one of each kind (issue 22): name, path.
	public [][2]string
	// votingMeeting is the meeting of the first open vote (its page during a vote).
	votingMeeting int64
	// cashier is a shop's basket page for the cashier.
	cashier  string
	votes    []int64
	sessions []session
	etag     string
}

type session struct {
	cookies string
	csrf    string
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

func loadFixtures(ctx context.Context, db *sql.DB, base string, members int) (*fixtures, error) {
	fx := &fixtures{debate: "debat-1"}
	var council int64
	var slug string
	if err := db.QueryRowContext(ctx, "SELECT id, slug FROM councils WHERE is_default").Scan(&council, &slug); err != nil {
		return nil, fmt.Errorf("default council: %w", err)
	}
	var args int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM arguments a JOIN debates d ON d.id = a.debate_id
		WHERE d.council_id = $1 AND d.slug = $2`, council, fx.debate).Scan(&args); err != nil {
		return nil, err
	}
	logf("debate %s has %d arguments", fx.debate, args)
	if err := db.QueryRowContext(ctx, "SELECT id FROM proposals WHERE council_id = $1 AND state <> 'brouillon' ORDER BY id LIMIT 1", council).Scan(&fx.proposalID); err != nil {
		return nil, fmt.Errorf("proposal: %w", err)
	}
	rows, err := db.QueryContext(ctx, "SELECT id FROM votes WHERE council_id = $1 AND state = 'ouvert' ORDER BY id", council)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		fx.votes = append(fx.votes, id)
	}
	if err := rows.Err(); err != nil || len(fx.votes) == 0 {
		return nil, fmt.Errorf("open votes: %v (found %d)", err, len(fx.votes))
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM memberships WHERE council_id = $1", council).Scan(&n); err != nil {
		return nil, err
	}
	members = min(members, n)
	logf("signing in %d members through /connexion", members)
	for k := 1; k <= members; k++ {
		s, err := signIn(base, fmt.Sprintf("membre-%s-%d@scale.example.org", slug, k), fx.votes[0])
		if err != nil {
			return nil, err
		}
		fx.sessions = append(fx.sessions, s)
	}
	if err := publicPages(ctx, db, council, fx); err != nil {
		return nil, err
	}
	resp, err := http.Get(base + "/api/v1/register")
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fx.etag = resp.Header.Get("ETag")
	if fx.etag == "" {
		return nil, errors.New("/api/v1/register has no ETag")
	}
	return fx, nil
}

// publicPages picks one page of each public kind in the default council: the
// first row of each kind that the generator made.
func publicPages(ctx context.Context, db *sql.DB, council int64, fx *fixtures) error {
	var item, shop string
	var minutes int64
	if err := db.QueryRowContext(ctx, "SELECT slug FROM register_items WHERE council_id = $1 AND kind = 'product' ORDER BY id LIMIT 1", council).Scan(&item); err != nil {
		return fmt.Errorf("register item: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT slug FROM shops WHERE council_id = $1 AND status = 'conventionne' ORDER BY id LIMIT 1", council).Scan(&shop); err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT meeting_id FROM votes WHERE id = $1", fx.votes[0]).Scan(&fx.votingMeeting); err != nil {
		return fmt.Errorf("meeting of vote %d: %w", fx.votes[0], err)
	}
	if err := db.QueryRowContext(ctx, "SELECT meeting_id FROM minutes WHERE council_id = $1 AND state = 'approuve' ORDER BY meeting_id LIMIT 1", council).Scan(&minutes); err != nil {
		logf("no approved minutes in the generated data: no minutes line (%v)", err)
	}
	fx.cashier = "/points-de-vente/" + shop + "/caisse"
	fx.public = [][2]string{
		{"home", "/"},
		{"register item", "/registre/" + item},
		{"shops", "/points-de-vente"},
		{"a shop", "/points-de-vente/" + shop},
		{"a shop's poster", "/points-de-vente/" + shop + "/affiche"},
		{"debates", "/debats"},
		{"a debate (500 arguments)", "/debats/" + fx.debate},
		{"a public proposal", "/propositions/" + strconv.FormatInt(fx.proposalID, 10)},
		{"decisions", "/decisions"},
		{"meetings", "/seances"},
	}
	if minutes != 0 {
		fx.public = append(fx.public, [2]string{"approved minutes", "/seances/" + strconv.FormatInt(minutes, 10) + "/compte-rendu"})
	}
	fx.public = append(fx.public, [][2]string{
		{"boussole", "/boussole"},
		{"decisions feed (Atom)", "/decisions.atom"},
		{"meetings feed (iCalendar)", "/meetings.ics"},
		{"open data: shops", "/api/v1/shops"},
		{"open data: register CSV", "/register.csv"},
	}...)
	return nil
}

// signIn signs in through the real form and returns the session's cookies and
// the CSRF token of its forms (read on a vote page).
func signIn(base, email string, voteID int64) (session, error) {
	jar := map[string]string{}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(req *http.Request) (string, int, error) {
		for k, v := range jar {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", 0, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, c := range resp.Cookies() {
			jar[c.Name] = c.Value
		}
		return string(b), resp.StatusCode, nil
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/connexion", nil)
	body, _, err := do(req)
	if err != nil {
		return session{}, err
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		return session{}, errors.New("no CSRF token on /connexion")
	}
	form := url.Values{"email": {email}, "password": {scalegen.Password}, "_csrf": {html.UnescapeString(m[1])}}
	req, _ = http.NewRequest(http.MethodPost, base+"/connexion", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, code, err := do(req); err != nil || code != http.StatusSeeOther {
		return session{}, fmt.Errorf("sign-in as %s: status %d, %v", email, code, err)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/votes/"+strconv.FormatInt(voteID, 10), nil)
	body, _, err = do(req)
	if err != nil {
		return session{}, err
	}
	if m = csrfInput.FindStringSubmatch(body); m == nil {
		return session{}, fmt.Errorf("no ballot form for %s on /votes/%d", email, voteID)
	}
	var parts []string
	for k, v := range jar {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return session{cookies: strings.Join(parts, "; "), csrf: html.UnescapeString(m[1])}, nil
}

// scenario builds the i-th request of worker w; ok tells a success.
type scenario struct {
	name   string
	target string // which target applies (see report)
	req    func(w, i int) *http.Request
	ok     int // expected status
}

func scenarios(fx *fixtures, app, bare string) []scenario {
	get := func(u string) func(int, int) *http.Request {
		return func(int, int) *http.Request { r, _ := http.NewRequest(http.MethodGet, u, nil); return r }
	}
	signed := func(path string) func(int, int) *http.Request {
		return func(w, _ int) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, app+path, nil)
			r.Header.Set("Cookie", fx.sessions[w%len(fx.sessions)].cookies)
			return r
		}
	}
	terms := []string{"producteurs", "prix", "local", "transport", "traçabilité", "saison"}
	choices := []string{"pour", "contre", "abstention"}
	out := []scenario{
		{name: "bare Fiber handler (reference)", target: "ref", req: get(bare + "/"), ok: 200},
		{name: "/registre, anonymous (cached)", target: "anon", req: get(app + "/registre"), ok: 200},
		{name: "/api/v1/register, 200", req: get(app + "/api/v1/register"), ok: 200},
		{name: "/api/v1/register, If-None-Match → 304", target: "304", req: func(int, int) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, app+"/api/v1/register", nil)
			r.Header.Set("If-None-Match", fx.etag)
			return r
		}, ok: 304},
		{name: "/propositions/" + strconv.FormatInt(fx.proposalID, 10) + ", signed-in member", target: "signed", req: signed("/propositions/" + strconv.FormatInt(fx.proposalID, 10)), ok: 200},
		{name: "/debats/" + fx.debate + " (500 arguments), signed-in member", target: "signed", req: signed("/debats/" + fx.debate), ok: 200},
		{name: "/seances/" + strconv.FormatInt(fx.votingMeeting, 10) + " during a vote, signed-in member", target: "signed", req: signed("/seances/" + strconv.FormatInt(fx.votingMeeting, 10)), ok: 200},
		{name: fx.cashier + " (cashier's basket page)", target: "anon", req: get(app + fx.cashier), ok: 200},
		{name: "/recherche?q=…, anonymous (cached)", target: "anon", req: func(w, i int) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, app+"/recherche?q="+url.QueryEscape(terms[(w+i)%len(terms)]), nil)
			return r
		}, ok: 200},
		// The same searches, each under a URL never seen before (a parameter
		// the handler ignores but the page cache keys on): every request is a
		// miss and runs the search query, which is what its target is about.
		{name: "/recherche?q=…, anonymous, uncached (each URL new)", target: "search", req: func(w, i int) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, app+"/recherche?q="+url.QueryEscape(terms[(w+i)%len(terms)])+"&n="+strconv.Itoa(w)+"-"+strconv.Itoa(i), nil)
			return r
		}, ok: 200},
		{name: "POST /votes/…/bulletin (ballot casting)", target: "ballot", req: func(w, i int) *http.Request {
			s := fx.sessions[w%len(fx.sessions)]
			form := url.Values{"choice": {choices[(w+i)%3]}, "_csrf": {s.csrf}}
			r, _ := http.NewRequest(http.MethodPost, app+"/votes/"+strconv.FormatInt(fx.votes[(w+i)%len(fx.votes)], 10)+"/bulletin", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Cookie", s.cookies)
			return r
		}, ok: 303},
	}
	// One line per kind of public page, anonymous (issue 22).
	for _, p := range fx.public {
		out = append(out, scenario{name: p[1] + " (" + p[0] + "), anonymous", target: "anon", req: get(app + p[1]), ok: 200})
	}
	return out
}

type result struct {
	// appCPU and pgCPU are the CPU milliseconds per request spent by the
	// server process and by PostgreSQL (0: unknown), whatever the machine's load.
	appCPU, pgCPU float64
	rps           float64
	p50, p99      time.Duration
	errors        int64
	n             int
	// bytes is the mean size of an answer's body as sent (compressed when
	// the app compressed it).
	bytes int64
}

// browserLike adds the Accept-Encoding header every browser sends. The
// transports have DisableCompression: the load generator counts the bytes as
// they come and leaves their decompression to the citizen's device, as it
// would be; the app's CPU and bytes sent are what a line measures.
func browserLike(req *http.Request) *http.Request {
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	}
	return req
}

// measure runs sc on conns keep-alive connections: 1 s of warm-up, then d.
func measure(sc scenario, conns int, d time.Duration, cpu func() [2]float64) result {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var errs, received atomic.Int64
	var recording atomic.Bool
	var stop atomic.Bool
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for i := 0; !stop.Load(); i++ {
				req := browserLike(sc.req(w, i))
				t0 := time.Now()
				resp, err := client.Do(req)
				var size int64
				if err == nil {
					for {
						n, rerr := resp.Body.Read(buf)
						size += int64(n)
						if rerr != nil {
							break
						}
					}
					resp.Body.Close()
				}
				el := time.Since(t0)
				if !recording.Load() {
					continue
				}
				if err != nil || resp.StatusCode != sc.ok {
					if errs.Add(1) == 1 {
						code := 0
						if resp != nil {
							code = resp.StatusCode
						}
						logf("  %s: unexpected answer: status %d, %v", sc.name, code, err)
					}
					continue
				}
				lat[w] = append(lat[w], el)
				received.Add(size)
			}
		}(w)
	}
	time.Sleep(time.Second)
	cpu0 := cpu()
	recording.Store(true)
	t0 := time.Now()
	time.Sleep(d)
	recording.Store(false)
	elapsed := time.Since(t0)
	cpu1 := cpu()
	stop.Store(true)
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := result{errors: errs.Load(), n: len(all)}
	if len(all) > 0 {
		r.rps = float64(len(all)) / elapsed.Seconds()
		r.appCPU = (cpu1[0] - cpu0[0]) * 1000 / float64(len(all))
		r.pgCPU = (cpu1[1] - cpu0[1]) * 1000 / float64(len(all))
		r.p50 = all[len(all)*50/100]
		r.p99 = all[min(len(all)-1, len(all)*99/100)]
		r.bytes = received.Load() / int64(len(all))
	}
	return r
}

// monitor samples the app's VmRSS and its database connections.
type monitor struct {
	done     chan struct{}
	wg       sync.WaitGroup
	maxRSS   atomic.Int64
	maxConns atomic.Int64
	// line is the line being measured (set by the caller), and maxRSSLine
	// the one during which maxRSS was sampled: which line needs the memory.
	line       atomic.Pointer[string]
	maxRSSLine atomic.Pointer[string]
}

func startMonitor(db *sql.DB, pid int) *monitor {
	m := &monitor{done: make(chan struct{})}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			if kb := vmRSS(pid); kb > m.maxRSS.Load() {
				m.maxRSS.Store(kb)
				m.maxRSSLine.Store(m.line.Load())
			}
			if i%3 == 0 {
				var n int64
				// The app's backends: cla names its connections (database.ApplicationName).
				if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1", database.ApplicationName).Scan(&n); err == nil && n > m.maxConns.Load() {
					m.maxConns.Store(n)
				}
			}
			select {
			case <-m.done:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *monitor) stop() (rssKB, conns int64) {
	close(m.done)
	m.wg.Wait()
	return m.maxRSS.Load(), m.maxConns.Load()
}

// during names the line during which the memory peaked ("" if none).
func (m *monitor) during() string {
	if l := m.maxRSSLine.Load(); l != nil {
		return *l
	}
	return ""
}

// measuring tells the monitor which line runs now.
func (m *monitor) measuring(line string) { m.line.Store(&line) }

func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb
			}
		}
	}
	return 0
}

// statFields returns the fields of /proc/<pid>/stat after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// procCPU returns the user+system CPU seconds of pid.
func procCPU(pid int) float64 {
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	sy, _ := strconv.ParseFloat(f[12], 64)
	return (u + sy) / clockTicks
}

// treeCPU returns the CPU seconds of pid, of its children, and of its children
// that exited (cutime, cstime): a postmaster and its backends. 0 for pid 0.
func treeCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	cu, _ := strconv.ParseFloat(f[13], 64)
	cs, _ := strconv.ParseFloat(f[14], 64)
	total := procCPU(pid) + (cu+cs)/clockTicks
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cf := statFields(child); len(cf) > 2 && cf[1] == strconv.Itoa(pid) {
			total += procCPU(child)
		}
	}
	return total
}

type line struct {
	scenario string
	target   string
	conns    int
	result
}

type reportOut struct {
	text   string
	missed []string
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func report(o options, lines []line, rssKB int64, rssDuring string, dbConns int64, genTime time.Duration) reportOut {
	var b strings.Builder
	var missed []string
	ref := map[int]float64{}
	for _, l := range lines {
		if l.target == "ref" {
			ref[l.conns] = l.rps
		}
	}
	fmt.Fprintf(&b, "Run on %s with `go run ./cmd/clabench --scale %v --duration %s`: %d CPU cores, load average %s at the start (what else ran on the machine) and %s at the report (clabench's own lines included). Generated data: scale %v (%d councils), loaded by `cla demo --scale` in %s. "+
		"Load generator: Go keep-alive clients in the clabench process, on the same 2 cores as the app, PostgreSQL and the reference server.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), o.scale, o.duration, runtime.NumCPU(), o.loadAtStart, loadAverage(), o.scale, scalegen.SizesFor(o.scale).Councils, genTime.Round(time.Second))
	b.WriteString("| line | conns | req/s | × bare | p50 | p99 | errors | server CPU/req | PostgreSQL CPU/req | target |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, l := range lines {
		ratio := 0.0
		if ref[l.conns] > 0 {
			ratio = l.rps / ref[l.conns]
		}
		verdict := ""
		check := func(ok bool, what string) {
			if ok {
				verdict = what + ": met"
			} else {
				verdict = "**" + what + ": missed**"
				missed = append(missed, fmt.Sprintf("%s at %d conns (%s)", l.scenario, l.conns, what))
			}
		}
		switch l.target {
		case "anon":
			if l.conns == 32 {
				check(ratio >= 0.5 && l.p99 <= 10*time.Millisecond, "≥ 0.5 × bare, p99 ≤ 10 ms")
			} else {
				check(ratio >= 0.5, "≥ 0.5 × bare")
			}
		case "304":
			check(ratio >= 0.3, "≥ 0.30 × bare")
		case "signed":
			if l.conns == 32 {
				check(ratio >= 0.05 && l.p99 <= 50*time.Millisecond, "≥ 0.05 × bare, p99 ≤ 50 ms")
			} else {
				check(ratio >= 0.05, "≥ 0.05 × bare")
			}
		case "search":
			// PostgreSQL's CPU is known only with the private server (pgCPU 0 otherwise).
			if l.pgCPU > 0 {
				check(l.pgCPU <= 2, "PostgreSQL CPU ≤ 2 ms/query")
			}
		case "ballot":
			if l.conns == 32 {
				check(l.rps >= 5000 && l.p99 <= 15*time.Millisecond, "≥ 5,000/s, p99 ≤ 15 ms")
			}
		case "digest":
			check(l.errors == 0 && l.p99 <= digestTarget, "every mail sent within 60 s")
		}
		if l.errors > 0 {
			missed = append(missed, fmt.Sprintf("%s at %d conns: %d errors", l.scenario, l.conns, l.errors))
		}
		pgCPU := "–"
		if l.pgCPU > 0 {
			pgCPU = fmt.Sprintf("%.3f ms", l.pgCPU)
		}
		if l.target == "digest" {
			// A batch, not requests: mails per second, the time until the
			// last mail was accepted, CPU per mail; errors are mails missing.
			fmt.Fprintf(&b, "| %s | – | %.0f mails/s | – | – | all sent in %.2f s | %d | %.3f ms | %s | %s |\n", l.scenario, l.rps, l.p99.Seconds(), l.errors, l.appCPU, pgCPU, verdict)
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.3f | %.2f ms | %.2f ms | %d | %.3f ms | %s | %s |\n", l.scenario, l.conns, l.rps, ratio, ms(l.p50), ms(l.p99), l.errors, l.appCPU, pgCPU, verdict)
	}
	rssOK, connsOK := rssKB <= 128*1024, dbConns <= 16
	b.WriteString("\nCPU/req: CPU time of the server process (the app, or the bare server on its lines) and of PostgreSQL (postmaster and backends) during the line, divided by the requests served: unlike req/s it hardly depends on the machine's load. Before each line, clabench runs VACUUM (ANALYZE) and CHECKPOINT, so that a line does not pay for what the lines before left to vacuum and write.\n")
	peak := ""
	if rssDuring != "" {
		peak = ", reached during " + rssDuring
	}
	fmt.Fprintf(&b, "\n- App resident memory (VmRSS of `cla serve`, sampled every 100 ms): max **%.1f MiB**%s (target ≤ 128 MiB: %s).\n", float64(rssKB)/1024, peak, metStr(rssOK))
	fmt.Fprintf(&b, "- Database connections of the instance (pg_stat_activity, sampled every 300 ms): max **%d** (target ≤ 16: %s).\n", dbConns, metStr(connsOK))
	if !rssOK {
		missed = append(missed, "resident memory")
	}
	if !connsOK {
		missed = append(missed, "database connections")
	}
	return reportOut{text: b.String(), missed: missed}
}

func metStr(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

const (
	sectionStart = "<!-- clabench:start (generated by go run ./cmd/clabench; replaced on each run) -->"
	sectionEnd   = "<!-- clabench:end -->"
)

// replaceSection writes text between the clabench markers of path, appending
// a "Scale benchmark (clabench)" section the first time.
func replaceSection(path, text string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(b)
	block := sectionStart + "\n" + text + sectionEnd
	i, j := strings.Index(s, sectionStart), strings.Index(s, sectionEnd)
	if i >= 0 && j > i {
		s = s[:i] + block + s[j+len(sectionEnd):]
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n## Scale benchmark (clabench)\n\n### Last run\n\n" + block + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
