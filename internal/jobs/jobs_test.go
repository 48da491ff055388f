package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/database"
	"cla/internal/jobs"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) {
	if childMode() { // TestKilledInstanceLosesNoJob's instance to kill
		runChild()
		return
	}
	testdb.Main(m)
}

// recordArgs is the test job: its worker writes a row per attempt in
// job_runs, so tests count what ran, where and how often.
type recordArgs struct {
	Key       string `json:"key" river:"unique"`
	Recipient string `json:"recipient" river:"unique"`
	Note      string `json:"note,omitempty"`
}

func (recordArgs) Kind() string { return "test.record" }

// recorder works recordArgs. fail, when set, decides the outcome of an
// attempt; block makes it wait for its context (a job that outlives its
// instance); sleep spreads jobs over time.
type recorder struct {
	jobs.WorkerDefaults[recordArgs]
	db     *bun.DB
	runner string
	sleep  time.Duration
	block  bool
	fail   func(job *jobs.Job[recordArgs]) error
}

func (w *recorder) Work(ctx context.Context, job *jobs.Job[recordArgs]) error {
	if _, err := w.db.NewRaw("INSERT INTO job_runs (key, runner, attempt) VALUES (?, ?, ?)",
		job.Args.Key, w.runner, job.Attempt).Exec(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if w.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if w.sleep > 0 {
		time.Sleep(w.sleep)
	}
	if w.fail != nil {
		return w.fail(job)
	}
	return nil
}

// newDB returns a migrated database of its own with the job_runs table.
func newDB(t *testing.T) *bun.DB {
	t.Helper()
	db := testdb.New(t)
	createRuns(t, db)
	return db
}

func createRuns(t *testing.T, db *bun.DB) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE job_runs (key text NOT NULL, runner text NOT NULL, attempt int NOT NULL,
		at timestamptz NOT NULL DEFAULT clock_timestamp());
		CREATE TABLE things (name text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects a runner's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fast is a test configuration: short polls and backoff, no start-up delay.
func fast(ws *jobs.Workers, logs *logBuffer, id string) jobs.Config {
	cfg := jobs.Config{
		Workers:      ws,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		PollInterval: 50 * time.Millisecond,
		Backoff:      jobs.Backoff{First: 100 * time.Millisecond, Max: 400 * time.Millisecond},
		StopTimeout:  2 * time.Second,
		ID:           id,
	}
	jobs.QuickStart(&cfg)
	return cfg
}

func start(t *testing.T, db *bun.DB, cfg jobs.Config) *jobs.Runner {
	t.Helper()
	r, err := jobs.Start(context.Background(), db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	return r
}

// waitFor polls cond until it holds, for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func count(t *testing.T, db bun.IDB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// unfinished counts the jobs not yet completed, discarded or cancelled.
func unfinished(t *testing.T, db bun.IDB) int {
	return count(t, db, "SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')")
}

// A job enqueued in a transaction exists only if the transaction commits:
// rolled back (or in a rolled-back savepoint), it never runs; committed, it
// runs once. Outside a transaction, Enqueue commits on its own.
func TestJobsFollowTheirTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	enqueue := func(tx bun.IDB, key string) {
		t.Helper()
		if _, err := tx.NewRaw("INSERT INTO things (name) VALUES (?)", key).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := jobs.Enqueue(ctx, tx, recordArgs{Key: key}, nil); err != nil {
			t.Fatal(err)
		}
	}
	rollback := errors.New("rollback")
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		enqueue(tx, "rolled-back")
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		enqueue(tx, "committed")
		// A savepoint rolled back inside a committed transaction takes its
		// job with it.
		_ = tx.RunInTx(ctx, nil, func(ctx context.Context, sp bun.Tx) error {
			enqueue(sp, "savepoint-rolled-back")
			return rollback
		})
		return tx.RunInTx(ctx, nil, func(ctx context.Context, sp bun.Tx) error {
			enqueue(sp, "savepoint-kept")
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	enqueue(db, "no-transaction")
	// Enqueued but not committed yet: another connection does not see it.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	enqueue(&tx, "pending")

	logs := &logBuffer{}
	start(t, db, fast(register(db, "a"), logs, "a"))
	want := []string{"committed", "savepoint-kept", "no-transaction"}
	waitFor(t, 10*time.Second, "the committed jobs", func() bool {
		return count(t, db, "SELECT count(*) FROM job_runs") == len(want) && unfinished(t, db) == 0
	})
	if n := count(t, db, "SELECT count(*) FROM job_runs WHERE key = 'pending'"); n != 0 {
		t.Error("a job ran before its transaction committed")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want = append(want, "pending")
	waitFor(t, 10*time.Second, "the job committed last", func() bool {
		return count(t, db, "SELECT count(*) FROM job_runs") == len(want) && unfinished(t, db) == 0
	})
	time.Sleep(300 * time.Millisecond) // several polls: nothing else may run
	for _, key := range want {
		if n := count(t, db, "SELECT count(*) FROM job_runs WHERE key = ?", key); n != 1 {
			t.Errorf("job %q ran %d times, want once", key, n)
		}
	}
	for _, key := range []string{"rolled-back", "savepoint-rolled-back"} {
		if n := count(t, db, "SELECT count(*) FROM job_runs WHERE key = ?", key) +
			count(t, db, "SELECT count(*) FROM river_job WHERE args->>'key' = ?", key); n != 0 {
			t.Errorf("the job of a rolled-back change %q exists or ran", key)
		}
	}
	if s := logs.String(); s != "" {
		t.Errorf("jobs that succeed log nothing, got:\n%s", s)
	}
}

func register(db *bun.DB, runner string) *jobs.Workers {
	ws := jobs.NewWorkers()
	jobs.Register(ws, &recorder{db: db, runner: runner})
	return ws
}

// Two instances (two runners, each with its own pool) on one database share
// 200 jobs: every job runs exactly once, and both do some of the work.
func TestTwoInstancesRunEachJobOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	pools := make([]*bun.DB, 2)
	for i := range pools {
		db, err := database.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		pools[i] = db
	}
	createRuns(t, pools[0])
	for i, db := range pools {
		ws := jobs.NewWorkers()
		name := fmt.Sprintf("instance-%d", i)
		jobs.Register(ws, &recorder{db: db, runner: name, sleep: 5 * time.Millisecond})
		start(t, db, fast(ws, &logBuffer{}, name))
	}
	const n = 200
	// Half in one transaction, half one by one, from either instance.
	var batch []jobs.Many
	for i := range n / 2 {
		batch = append(batch, jobs.Many{Args: recordArgs{Key: fmt.Sprint(i)}})
	}
	if _, err := jobs.EnqueueMany(ctx, pools[0], batch); err != nil {
		t.Fatal(err)
	}
	for i := n / 2; i < n; i++ {
		if _, err := jobs.Enqueue(ctx, pools[i%2], recordArgs{Key: fmt.Sprint(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	db := pools[0]
	waitFor(t, 60*time.Second, "200 jobs", func() bool { return unfinished(t, db) == 0 })
	if got := count(t, db, "SELECT count(*) FROM job_runs"); got != n {
		t.Errorf("%d runs for %d jobs", got, n)
	}
	if got := count(t, db, "SELECT count(DISTINCT key) FROM job_runs"); got != n {
		t.Errorf("%d distinct jobs ran, want %d", got, n)
	}
	if dup := count(t, db, "SELECT count(*) FROM (SELECT key FROM job_runs GROUP BY key HAVING count(*) > 1) d"); dup != 0 {
		t.Errorf("%d jobs ran more than once", dup)
	}
	for i := range pools {
		name := fmt.Sprintf("instance-%d", i)
		if got := count(t, db, "SELECT count(*) FROM job_runs WHERE runner = ?", name); got == 0 {
			t.Errorf("%s ran no job: the work is not shared", name)
		}
	}
}

// A job that keeps failing is retried with growing waits, then discarded
// after MaxAttempts with each attempt's error kept and each failure logged.
func TestFailingJobIsRetriedWithBackoffThenDiscarded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	ws := jobs.NewWorkers()
	jobs.Register(ws, &recorder{db: db, runner: "a", fail: func(job *jobs.Job[recordArgs]) error {
		return fmt.Errorf("relay down, attempt %d", job.Attempt)
	}})
	logs := &logBuffer{}
	cfg := fast(ws, logs, "a")
	start(t, db, cfg)
	res, err := jobs.Enqueue(ctx, db, recordArgs{Key: "doomed"}, &jobs.InsertOpts{MaxAttempts: 4})
	if err != nil {
		t.Fatal(err)
	}
	var row *jobs.JobRow
	waitFor(t, 20*time.Second, "the job to be discarded", func() bool {
		row, err = jobs.Get(ctx, db, res.Job.ID)
		return err == nil && row.State == jobs.StateDiscarded
	})
	if row.Attempt != 4 || len(row.Errors) != 4 {
		t.Fatalf("discarded after %d attempts with %d errors, want 4 and 4", row.Attempt, len(row.Errors))
	}
	for i, e := range row.Errors {
		if want := fmt.Sprintf("relay down, attempt %d", i+1); e.Error != want {
			t.Errorf("error %d = %q, want %q", i+1, e.Error, want)
		}
	}
	var at []time.Time
	if err := db.NewRaw("SELECT at FROM job_runs ORDER BY at").Scan(ctx, &at); err != nil || len(at) != 4 {
		t.Fatalf("runs: %v %v", at, err)
	}
	for i := 1; i < len(at); i++ {
		gap, min := at[i].Sub(at[i-1]), time.Duration(0.9*float64(cfg.Backoff.Delay(i)))
		if gap < min {
			t.Errorf("attempt %d came %s after the previous one, want at least %s (backoff)", i+1, gap, min)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := count(t, db, "SELECT count(*) FROM job_runs"); n != 4 {
		t.Errorf("the discarded job ran again: %d runs", n)
	}
	if s := logs.String(); strings.Count(s, "job failed") != 4 || strings.Count(s, "next=retry") != 3 ||
		!strings.Contains(s, `next="give up (attempts exhausted)"`) {
		t.Errorf("want one warning per failure, the last one giving up:\n%s", s)
	}
}

// permanentError is how another package (mail) says retrying cannot help.
type permanentError struct{ msg string }

func (e *permanentError) Error() string   { return e.msg }
func (e *permanentError) Permanent() bool { return true }

// A permanent failure is not retried: the job is cancelled at once with the
// error kept. A temporary one is retried until it succeeds.
func TestPermanentFailuresAreNotRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	ws := jobs.NewWorkers()
	jobs.Register(ws, &recorder{db: db, runner: "a", fail: func(job *jobs.Job[recordArgs]) error {
		switch {
		case job.Args.Key == "refused":
			return fmt.Errorf("send: %w", &permanentError{"550 5.1.1 unknown recipient"})
		case job.Attempt < 3:
			return errors.New("451 try again later")
		}
		return nil
	}})
	logs := &logBuffer{}
	start(t, db, fast(ws, logs, "a"))
	refused, err := jobs.Enqueue(ctx, db, recordArgs{Key: "refused"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	later, err := jobs.Enqueue(ctx, db, recordArgs{Key: "later"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "both jobs to finish", func() bool { return unfinished(t, db) == 0 })
	row, err := jobs.Get(ctx, db, refused.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != jobs.StateCancelled || row.Attempt != 1 || len(row.Errors) != 1 ||
		!strings.Contains(row.Errors[0].Error, "550 5.1.1 unknown recipient") {
		t.Errorf("permanent failure: state %s after %d attempts, errors %+v", row.State, row.Attempt, row.Errors)
	}
	row, err = jobs.Get(ctx, db, later.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != jobs.StateCompleted || row.Attempt != 3 || len(row.Errors) != 2 {
		t.Errorf("temporary failures: state %s after %d attempts, %d errors", row.State, row.Attempt, len(row.Errors))
	}
	if !strings.Contains(logs.String(), `next="give up (permanent)"`) {
		t.Errorf("the permanent failure is not logged as such:\n%s", logs)
	}
	// A facilitator's re-send runs the cancelled job again.
	if _, err := jobs.Retry(ctx, db, refused.Job.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the re-sent job", func() bool {
		return count(t, db, "SELECT count(*) FROM job_runs WHERE key = 'refused'") == 2 && unfinished(t, db) == 0
	})
}

// Unique jobs: the same (event, recipient) enqueued twice is one job; another
// recipient is another job.
func TestUniqueJobsAreEnqueuedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	first, err := jobs.Enqueue(ctx, db, recordArgs{Key: "meeting-12", Recipient: "a@example.org", Note: "one"}, jobs.Unique())
	if err != nil || first.UniqueSkippedAsDuplicate {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := jobs.Enqueue(ctx, db, recordArgs{Key: "meeting-12", Recipient: "a@example.org", Note: "two"}, jobs.Unique())
	if err != nil || !again.UniqueSkippedAsDuplicate || again.Job.ID != first.Job.ID {
		t.Errorf("same event and recipient: %+v %v, want the first job back", again, err)
	}
	other, err := jobs.Enqueue(ctx, db, recordArgs{Key: "meeting-12", Recipient: "b@example.org"}, jobs.Unique())
	if err != nil || other.UniqueSkippedAsDuplicate {
		t.Errorf("another recipient: %+v %v", other, err)
	}
	if n := count(t, db, "SELECT count(*) FROM river_job"); n != 2 {
		t.Errorf("%d jobs, want 2", n)
	}
}

// Stop lets a running job finish; a job that outlasts StopTimeout is
// cancelled and goes back to the queue, and the next instance runs it once.
func TestStopDrainsAndHandsOverUnfinishedJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	ws := jobs.NewWorkers()
	jobs.Register(ws, &recorder{db: db, runner: "first", sleep: 500 * time.Millisecond})
	cfg := fast(ws, &logBuffer{}, "first")
	r, err := jobs.Start(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Enqueue(ctx, db, recordArgs{Key: "slow"}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the slow job to start", func() bool { return count(t, db, "SELECT count(*) FROM job_runs") == 1 })
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM river_job WHERE state = 'completed'"); n != 1 {
		t.Fatal("Stop did not let the running job finish")
	}

	ws = jobs.NewWorkers()
	jobs.Register(ws, &recorder{db: db, runner: "stuck", block: true})
	cfg = fast(ws, &logBuffer{}, "stuck")
	cfg.StopTimeout = 200 * time.Millisecond
	r, err = jobs.Start(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Enqueue(ctx, db, recordArgs{Key: "endless"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the endless job to start", func() bool {
		return count(t, db, "SELECT count(*) FROM job_runs WHERE key = 'endless'") == 1
	})
	began := time.Now()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("Stop took %s with a StopTimeout of 200ms", d)
	}
	row, err := jobs.Get(ctx, db, res.Job.ID)
	if err != nil || row.State != jobs.StateAvailable {
		t.Fatalf("after Stop the interrupted job is %v (%v), want available", row.State, err)
	}
	start(t, db, fast(register(db, "next"), &logBuffer{}, "next"))
	waitFor(t, 10*time.Second, "the next instance to run it", func() bool { return unfinished(t, db) == 0 })
	if n := count(t, db, "SELECT count(*) FROM job_runs WHERE key = 'endless' AND runner = 'next'"); n != 1 {
		t.Errorf("the handed-over job ran %d times on the next instance, want 1", n)
	}
}

// An idle runner writes nothing to the log: no line a minute "nothing to do".
func TestIdleRunnerIsQuiet(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	logs := &logBuffer{}
	cfg := fast(register(db, "a"), logs, "a")
	r := start(t, db, cfg)
	time.Sleep(3 * time.Second) // leader election, maintenance start, many polls
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); s != "" {
		t.Errorf("an idle runner logged:\n%s", s)
	}
}

// A periodic job runs on one instance only, once per period, even with two
// instances running.
func TestPeriodicJobRunsOncePerPeriod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	var pools []*bun.DB
	for range 2 {
		db, err := database.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		pools = append(pools, db)
	}
	createRuns(t, pools[0])
	for i, db := range pools {
		name := fmt.Sprintf("instance-%d", i)
		ws := register(db, name)
		ws.Periodic("tick", jobs.Every(time.Second), func() jobs.JobArgs { return recordArgs{Key: "tick"} })
		start(t, db, fast(ws, &logBuffer{}, name))
	}
	db := pools[0]
	time.Sleep(4500 * time.Millisecond)
	var buckets []time.Time
	if err := db.NewRaw("SELECT date_trunc('second', scheduled_at) FROM river_job WHERE kind = 'test.record'").Scan(ctx, &buckets); err != nil {
		t.Fatal(err)
	}
	if len(buckets) < 3 || len(buckets) > 6 {
		t.Errorf("%d periodic jobs in 4.5 s with a 1 s period", len(buckets))
	}
	seen := map[time.Time]bool{}
	for _, b := range buckets {
		if seen[b] {
			t.Errorf("two periodic jobs in the second %s", b)
		}
		seen[b] = true
	}
}

func TestBackoffSpansAboutThreeDays(t *testing.T) {
	b := jobs.DefaultBackoff
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 4: 80 * time.Second, 12: 20480 * time.Second, 13: 6 * time.Hour, 24: 6 * time.Hour} {
		if got := b.Delay(n); got != want {
			t.Errorf("Delay(%d) = %s, want %s", n, got, want)
		}
	}
	var total time.Duration
	for n := 1; n < jobs.DefaultMaxAttempts; n++ {
		total += b.Delay(n)
	}
	if total < 72*time.Hour || total > 96*time.Hour {
		t.Errorf("%d attempts span %s, want 3 to 4 days", jobs.DefaultMaxAttempts, total)
	}
}

func TestSchedules(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	daily := jobs.Daily(6, 30, paris)
	for from, want := range map[string]string{
		"2026-03-28 07:00": "2026-03-29 06:30", // the night clocks go forward
		"2026-03-29 06:29": "2026-03-29 06:30",
		"2026-03-29 06:30": "2026-03-30 06:30",
		"2026-10-24 23:00": "2026-10-25 06:30", // and back
	} {
		if got := daily.Next(at(from)); !got.Equal(at(want)) {
			t.Errorf("Daily(6:30).Next(%s) = %s, want %s", from, got.In(paris), want)
		}
	}
	if got := jobs.Hourly().Next(time.Date(2026, 5, 1, 10, 59, 59, 0, time.UTC)); !got.Equal(time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("Hourly().Next = %s", got)
	}
}

func TestStartRefusesARescueShorterThanTheTimeout(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	for _, cfg := range []jobs.Config{{JobTimeout: time.Minute, RescueAfter: 30 * time.Second}, {JobTimeout: -1}} {
		if r, err := jobs.Start(context.Background(), db, cfg); err == nil {
			_ = r.Stop(context.Background())
			t.Errorf("Start(%+v) accepted a job timeout the rescuer cannot honour", cfg)
		}
	}
}

// A worker can put its job off (Snooze: the attempt does not count) or stop
// it for good (Cancel: not retried, the reason kept).
func TestSnoozeAndCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	ws := jobs.NewWorkers()
	jobs.Register(ws, &recorder{db: db, runner: "a", fail: func(job *jobs.Job[recordArgs]) error {
		switch job.Args.Key {
		case "not-yet":
			var runs int
			if err := db.NewRaw("SELECT count(*) FROM job_runs WHERE key = 'not-yet'").Scan(ctx, &runs); err != nil {
				return err
			}
			if runs < 3 {
				return jobs.Snooze(100 * time.Millisecond)
			}
		case "pointless":
			return jobs.Cancel(errors.New("the meeting was cancelled"))
		}
		return nil
	}})
	start(t, db, fast(ws, &logBuffer{}, "a"))
	later, err := jobs.Enqueue(ctx, db, recordArgs{Key: "not-yet"}, &jobs.InsertOpts{MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	pointless, err := jobs.Enqueue(ctx, db, recordArgs{Key: "pointless"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "both jobs to finish", func() bool { return unfinished(t, db) == 0 })
	if row, err := jobs.Get(ctx, db, later.Job.ID); err != nil || row.State != jobs.StateCompleted || len(row.Errors) != 0 {
		t.Errorf("snoozed twice with MaxAttempts 2: %v %v (snoozes must not use up attempts)", row, err)
	}
	if row, err := jobs.Get(ctx, db, pointless.Job.ID); err != nil || row.State != jobs.StateCancelled || row.Attempt != 1 ||
		len(row.Errors) != 1 || !strings.Contains(row.Errors[0].Error, "the meeting was cancelled") {
		t.Errorf("cancelled job: %+v %v", row, err)
	}
}
