package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
)

// Workers is what an instance can run: a worker per job kind and the
// periodic jobs. The app's wiring builds one, each domain registers its own,
// and Start runs them.
type Workers struct {
	river    *river.Workers
	periodic []*river.PeriodicJob
	ids      map[string]bool
}

// NewWorkers returns an empty set of workers.
func NewWorkers() *Workers {
	return &Workers{river: river.NewWorkers(), ids: map[string]bool{}}
}

// Register adds the worker of args type T. Registering a kind twice is a
// wiring mistake and panics at start-up, where it is seen at once.
func Register[T JobArgs](ws *Workers, w Worker[T]) {
	river.AddWorker(ws.river, w)
}

// Schedule says when a periodic job is due next.
type Schedule struct {
	next   func(time.Time) time.Time
	period time.Duration // one run per period at most (unique by period)
}

// Next returns the first due time after t.
func (s Schedule) Next(t time.Time) time.Time { return s.next(t) }

// Every is due every d (at least a second), counted from when the leader
// started.
func Every(d time.Duration) Schedule {
	d = max(d, time.Second)
	return Schedule{next: func(t time.Time) time.Time { return t.Add(d) }, period: d}
}

// Hourly is due at the start of every hour (UTC).
func Hourly() Schedule {
	return Schedule{next: func(t time.Time) time.Time { return t.Truncate(time.Hour).Add(time.Hour) }, period: time.Hour}
}

// Daily is due every day at hour:minute in loc (daylight saving included).
func Daily(hour, minute int, loc *time.Location) Schedule {
	return Schedule{next: func(t time.Time) time.Time {
		t = t.In(loc)
		at := time.Date(t.Year(), t.Month(), t.Day(), hour, minute, 0, 0, loc)
		if !at.After(t) {
			at = time.Date(t.Year(), t.Month(), t.Day()+1, hour, minute, 0, 0, loc)
		}
		return at
	}, period: 24 * time.Hour}
}

// Periodic enqueues the job made by args each time s is due, on one
// instance: River's elected leader. It is also enqueued when a leader starts,
// so a due time missed while no instance ran is caught up; an insert is
// skipped when a job of that kind already exists for the same period (UTC
// hour, day, or interval), so restarts and a change of leader never run it
// twice in a period. id names the periodic job and must be unique.
func (ws *Workers) Periodic(id string, s Schedule, args func() JobArgs) {
	if ws.ids[id] {
		panic("jobs: periodic job " + id + " registered twice")
	}
	ws.ids[id] = true
	ws.periodic = append(ws.periodic, river.NewPeriodicJob(s, func() (JobArgs, *InsertOpts) {
		return args(), &InsertOpts{UniqueOpts: UniqueOpts{ByPeriod: s.period}}
	}, &river.PeriodicJobOpts{ID: id, RunOnStart: true}))
}

// Backoff is the retry policy: the wait after the n-th failure is First·2ⁿ⁻¹,
// at most Max, give or take 10 % so that jobs failing together (a mail server
// down) do not all come back in the same second.
type Backoff struct {
	First time.Duration
	Max   time.Duration
}

// DefaultBackoff waits 10 s, 20 s, 40 s… up to 6 h between attempts: a
// passing glitch is retried within a minute, a server down for hours is not
// hammered, and DefaultMaxAttempts attempts span about 3.7 days.
var DefaultBackoff = Backoff{First: 10 * time.Second, Max: 6 * time.Hour}

// Delay returns the wait after the n-th failed attempt, before jitter.
func (b Backoff) Delay(n int) time.Duration {
	d := b.First
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// NextRetry implements River's ClientRetryPolicy. Errors holds the earlier
// failures; the one being reported is not in it yet.
func (b Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := b.Delay(len(job.Errors) + 1)
	jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(d))
	return time.Now().Add(d + jitter)
}

// Config sets up a Runner. Zero fields take the documented defaults.
type Config struct {
	Workers *Workers
	// Logger receives a warning per failed attempt, and River's own lines at
	// warning level and above (all of them when it is enabled for debug).
	Logger *slog.Logger
	// MaxWorkers is how many jobs an instance runs at once (default 4): jobs
	// share the app's pool of database.MaxConns connections with requests.
	MaxWorkers int
	// JobTimeout cancels a job's context after this long (default 1 min).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before the leader
	// deems its instance dead and schedules it again (default 10 min). It
	// must exceed JobTimeout: a job still running then would run twice.
	RescueAfter time.Duration
	// StopTimeout is how long Stop lets running jobs finish before it
	// cancels them; a cancelled job goes back to the queue with its attempt
	// not counted (default 10 s).
	StopTimeout time.Duration
	// PollInterval is how often an idle instance looks for new jobs (default
	// 1 s): the driver runs without LISTEN (docs/decisions.md).
	PollInterval time.Duration
	// Backoff is the retry policy (default DefaultBackoff).
	Backoff Backoff
	// CompletedRetention is how long completed jobs are kept (default 30
	// days); FailedRetention, cancelled and discarded ones, with the errors
	// of each attempt (default 90 days).
	CompletedRetention time.Duration
	FailedRetention    time.Duration
	// ID names this instance in River's tables (default: random).
	ID string

	testOnly bool // set by tests: no random start-up delays
}

// Runner works jobs on one instance until Stop.
type Runner struct {
	client      *river.Client[*sql.Tx]
	stopTimeout time.Duration
}

// Start starts working jobs on db's pool. The jobs keep running after ctx is
// done; only Stop stops them, so that an instance drains in its own order.
func Start(ctx context.Context, db *bun.DB, cfg Config) (*Runner, error) {
	if cfg.Workers == nil {
		cfg.Workers = NewWorkers()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.MaxWorkers = cmp.Or(cfg.MaxWorkers, 4)
	cfg.JobTimeout = cmp.Or(cfg.JobTimeout, time.Minute)
	cfg.RescueAfter = cmp.Or(cfg.RescueAfter, 10*time.Minute)
	cfg.StopTimeout = cmp.Or(cfg.StopTimeout, 10*time.Second)
	cfg.PollInterval = cmp.Or(cfg.PollInterval, time.Second)
	cfg.CompletedRetention = cmp.Or(cfg.CompletedRetention, 30*24*time.Hour)
	cfg.FailedRetention = cmp.Or(cfg.FailedRetention, 90*24*time.Hour)
	if cfg.Backoff == (Backoff{}) {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.JobTimeout < 0 {
		// River never rescues a job without a timeout: a crash would lose it.
		return nil, fmt.Errorf("jobs: JobTimeout must be positive")
	}
	if cfg.RescueAfter <= cfg.JobTimeout {
		return nil, fmt.Errorf("jobs: RescueAfter (%s) must exceed JobTimeout (%s)", cfg.RescueAfter, cfg.JobTimeout)
	}
	client, err := river.NewClient(riverdatabasesql.New(db.DB), &river.Config{
		ID:                          cfg.ID,
		Workers:                     cfg.Workers.river,
		PeriodicJobs:                cfg.Workers.periodic,
		Queues:                      map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}},
		MaxAttempts:                 DefaultMaxAttempts,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueAfter,
		SoftStopTimeout:             cfg.StopTimeout,
		FetchPollInterval:           cfg.PollInterval,
		FetchCooldown:               min(cfg.PollInterval, 100*time.Millisecond), // River's default, unless polling is faster
		RetryPolicy:                 cfg.Backoff,
		CompletedJobRetentionPeriod: cfg.CompletedRetention,
		CancelledJobRetentionPeriod: cfg.FailedRetention,
		DiscardedJobRetentionPeriod: cfg.FailedRetention,
		ErrorHandler:                errorHandler{log: cfg.Logger},
		Logger:                      slog.New(riverLogs{Handler: cfg.Logger.Handler()}),
		TestOnly:                    cfg.testOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("jobs: start: %w", err)
	}
	return &Runner{client: client, stopTimeout: cfg.StopTimeout}, nil
}

// ID returns the instance's name in River's tables.
func (r *Runner) ID() string { return r.client.ID() }

// Stop stops fetching jobs and waits for the running ones: they get
// Config.StopTimeout to finish, then their contexts are cancelled and they go
// back to the queue for another instance. It returns ctx's error if a job
// ignores its cancelled context past ctx; such a job is rescued later
// (Config.RescueAfter).
func (r *Runner) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.stopTimeout+5*time.Second)
	defer cancel()
	return r.client.Stop(ctx)
}

// errorHandler logs each failed attempt once, and cancels (does not retry) a
// job whose error says it is permanent.
type errorHandler struct{ log *slog.Logger }

// HandleError logs the failed attempt and cancels the job when err is
// permanent.
func (h errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	perm := IsPermanent(err)
	next := "retry"
	switch {
	case perm:
		next = "give up (permanent)"
	case job.Attempt >= job.MaxAttempts:
		next = "give up (attempts exhausted)"
	}
	h.log.WarnContext(ctx, "job failed", "kind", job.Kind, "job", job.ID, "attempt", job.Attempt,
		"max_attempts", job.MaxAttempts, "next", next, "err", err)
	return &river.ErrorHandlerResult{SetCancelled: perm}
}

// HandlePanic logs the panic; the job is retried like a failure.
func (h errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job panicked", "kind", job.Kind, "job", job.ID, "attempt", job.Attempt, "panic", panicVal, "trace", trace)
	return nil
}

// riverLogs passes River's own log lines at warning level and above, or all
// of them when the app logs at debug level: River logs every start, stop and
// failed attempt at info level, which the error handler already reports.
type riverLogs struct{ slog.Handler }

// Enabled passes warnings and errors, or everything at debug level.
func (h riverLogs) Enabled(ctx context.Context, l slog.Level) bool {
	if h.Handler.Enabled(ctx, slog.LevelDebug) {
		return true
	}
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the filter on the derived handler.
func (h riverLogs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return riverLogs{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the filter on the derived handler.
func (h riverLogs) WithGroup(name string) slog.Handler { return riverLogs{h.Handler.WithGroup(name)} }
