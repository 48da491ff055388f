package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"cla/internal/database"
	"cla/internal/jobs"
	"cla/internal/testdb"
)

// childEnv carries the database URL to the instance the kill test starts
// (this test binary, run again) and kills.
const childEnv = "CLA_JOBS_TEST_CHILD_DB"

func childMode() bool { return os.Getenv(childEnv) != "" }

// runChild is the instance to kill: it works jobs whose worker never ends,
// until SIGKILL (or two minutes, should the test die first).
func runChild() {
	ctx := context.Background()
	db, err := database.Open(ctx, os.Getenv(childEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ws := jobs.NewWorkers()
	jobs.Register(ws, &recorder{db: db, runner: "doomed", block: true})
	cfg := jobs.Config{Workers: ws, MaxWorkers: 2, PollInterval: 50 * time.Millisecond, ID: "doomed",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	jobs.QuickStart(&cfg)
	if _, err := jobs.Start(ctx, db, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	time.Sleep(2 * time.Minute)
	os.Exit(3)
}

// An instance killed with SIGKILL in the middle of jobs loses none: once its
// leadership has lapsed, another instance's leader rescues the jobs left
// running (after RescueAfter) and runs them; every job completes exactly
// once.
func TestKilledInstanceLosesNoJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	createRuns(t, db)
	const n = 5
	for i := range n {
		if _, err := jobs.Enqueue(ctx, db, recordArgs{Key: fmt.Sprint(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+url)
	var stderr strings.Builder
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill() })
	waitFor(t, 30*time.Second, "the doomed instance to start two jobs", func() bool {
		return count(t, db, "SELECT count(*) FROM job_runs WHERE runner = 'doomed'") == 2
	})
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	started := count(t, db, "SELECT count(*) FROM job_runs WHERE runner = 'doomed'")
	if started != 2 {
		t.Fatalf("%d jobs started on the killed instance, want 2\n%s", started, stderr.String())
	}

	ws := register(db, "survivor")
	cfg := fast(ws, &logBuffer{}, "survivor")
	cfg.JobTimeout = time.Second
	cfg.RescueAfter = 2 * time.Second
	start(t, db, cfg)
	// The dead leader's term runs out (about 15 s), then the rescue.
	waitFor(t, 90*time.Second, "every job to complete", func() bool { return unfinished(t, db) == 0 })
	for i := range n {
		if got := count(t, db, "SELECT count(*) FROM job_runs WHERE key = ? AND runner = 'survivor'", fmt.Sprint(i)); got != 1 {
			t.Errorf("job %d completed %d times after the kill, want once", i, got)
		}
	}
	if got := count(t, db, "SELECT count(*) FROM river_job WHERE state = 'completed' AND errors::text LIKE '%rescued%'"); got != started {
		t.Errorf("%d jobs rescued, want the %d left running by the killed instance", got, started)
	}
}
