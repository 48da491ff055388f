// Package jobs runs work that must happen after a change — mail, webhooks,
// reminders — as jobs stored in PostgreSQL, with River
// (github.com/riverqueue/river) over the app's own database/sql pool.
//
// A job is enqueued in the transaction of the change that causes it, so it
// exists if and only if the change was committed. Any instance may run it;
// River locks each job row (FOR UPDATE SKIP LOCKED), so a job runs once. A
// failed job is retried with backoff (see Backoff) until MaxAttempts, then
// discarded with its errors kept; an error whose Permanent method reports true
// (a mail address the server refuses) is not retried. A job whose instance
// died mid-run is rescued after Config.RescueAfter and run again, so a worker
// must tolerate running twice after a crash: do the external effect last, and
// make it idempotent where the other side allows (a mail's Message-ID, a
// webhook's id).
//
// A domain declares a job with an args type and a worker, registers the worker
// in the app's wiring, and enqueues in its transactions:
//
//	// ConvocationArgs asks for one member's convocation to a meeting.
//	type ConvocationArgs struct {
//		MeetingID int64 `json:"meeting_id" river:"unique"`
//		MemberID  int64 `json:"member_id" river:"unique"`
//	}
//
//	func (ConvocationArgs) Kind() string { return "assembly.convocation" }
//
//	type convocationWorker struct {
//		jobs.WorkerDefaults[ConvocationArgs]
//		db   *bun.DB
//		mail mail.Sender
//	}
//
//	func (w *convocationWorker) Work(ctx context.Context, job *jobs.Job[ConvocationArgs]) error {
//		// Read the meeting and the member now (they may have changed since
//		// the job was enqueued), build the message, send it.
//		return w.mail.Send(ctx, msg) // a 550 is permanent: not retried
//	}
//
//	// In cmd/cla's wiring:
//	jobs.Register(workers, &convocationWorker{db: db, mail: sender})
//
//	// In the service, inside the change's transaction:
//	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
//		// … schedule the meeting …
//		_, err := jobs.Enqueue(ctx, tx, ConvocationArgs{MeetingID: m.ID, MemberID: id}, jobs.Unique())
//		return err
//	})
//
// What depends on the date (reminders N days before, renewals, the weekly
// digest) is a periodic job: Workers.Periodic enqueues it on a schedule, on
// one instance (River's elected leader). Its worker sweeps what is due and not
// yet done, so a tick missed while every instance was down is caught up by
// the next one.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
)

// JobArgs are a job's arguments, stored as JSON; Kind names the job and never
// changes once jobs of that kind were enqueued.
type JobArgs = river.JobArgs

// Job is a job being worked: its row (ID, Attempt, Errors…) and its Args.
type Job[T JobArgs] = river.Job[T]

// Worker works the jobs of one kind. Embed WorkerDefaults for the usual
// timeout and retry policy.
type Worker[T JobArgs] = river.Worker[T]

// WorkerDefaults gives a Worker the runner's timeout and retry policy.
type WorkerDefaults[T JobArgs] = river.WorkerDefaults[T]

// InsertOpts are the options of one enqueued job: Queue, Priority,
// ScheduledAt (run not before), MaxAttempts, UniqueOpts, Tags.
type InsertOpts = river.InsertOpts

// UniqueOpts make an insert a no-op while an equal job exists (see Unique).
type UniqueOpts = river.UniqueOpts

// InsertResult is what Enqueue did: the job row, and whether an equal unique
// job already existed (UniqueSkippedAsDuplicate) so none was added.
type InsertResult = rivertype.JobInsertResult

// JobRow is a job as stored: state, attempts, errors of each attempt.
type JobRow = rivertype.JobRow

// JobState is a job's state (available, running, retryable, completed,
// discarded, cancelled…).
type JobState = rivertype.JobState

// The states a caller may need to tell apart.
const (
	StateAvailable = rivertype.JobStateAvailable
	StateRunning   = rivertype.JobStateRunning
	StateRetryable = rivertype.JobStateRetryable
	StateScheduled = rivertype.JobStateScheduled
	StateCompleted = rivertype.JobStateCompleted
	StateDiscarded = rivertype.JobStateDiscarded
	StateCancelled = rivertype.JobStateCancelled
)

// DefaultMaxAttempts is how many times a job runs before it is discarded:
// with DefaultBackoff, about three days and a half of retries, which is what
// webhook deliveries promise (issue 18) and covers a mail server down over a
// weekend.
const DefaultMaxAttempts = 25

// Unique returns insert options that make Enqueue a no-op while a job of the
// same kind with the same unique args is waiting, running, being retried or
// completed (completed jobs are kept Config.CompletedRetention); after a
// discarded or cancelled one, an equal job may be enqueued again. Mark the
// fields that identify the job — the recipient and the event — with the
// struct tag `river:"unique"`; without any tag, all the args count.
//
// It guards against enqueueing the same mail twice from two requests or two
// periodic sweeps; what was sent for good (issue 17's delivery log) belongs to
// the domain's own table.
func Unique() *InsertOpts {
	return &InsertOpts{UniqueOpts: UniqueOpts{ByArgs: true}}
}

// Cancel wraps err so that the job stops for good, recorded as cancelled
// with err, and is not retried.
func Cancel(err error) error { return river.JobCancel(err) }

// Snooze asks for the job to run again after d, without counting an attempt:
// for "not yet" (the meeting pack is not ready), not for failures.
func Snooze(d time.Duration) error { return river.JobSnooze(d) }

// permanent is what an error implements to say retrying cannot help (a mail
// address the server refuses). The runner cancels such a job instead of
// retrying it, whatever package the error comes from.
type permanent interface{ Permanent() bool }

// IsPermanent reports whether err (or an error it wraps) says it is permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

// inserter is an insert-only River client: it needs no pool, since every
// insert goes through the caller's transaction. Its defaults (MaxAttempts)
// match the runner's, which inserts periodic jobs with its own client.
var inserter = sync.OnceValues(func() (*river.Client[*sql.Tx], error) {
	return river.NewClient(riverdatabasesql.New(nil), &river.Config{
		MaxAttempts: DefaultMaxAttempts,
		Logger:      slog.New(slog.DiscardHandler), // errors are returned, not logged
	})
})

// Enqueue adds a job in db's transaction: inside a bun.Tx it commits or
// rolls back with the caller's change; given the *bun.DB (or a bun.Conn) it
// runs in a transaction of its own. opts may be nil.
func Enqueue(ctx context.Context, db bun.IDB, args JobArgs, opts *InsertOpts) (*InsertResult, error) {
	var res *InsertResult
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		client, err := inserter()
		if err != nil {
			return err
		}
		res, err = client.InsertTx(ctx, tx, args, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Many is one job of an EnqueueMany batch.
type Many = river.InsertManyParams

// EnqueueMany adds many jobs in one statement (a digest to thousands of
// recipients), in db's transaction like Enqueue.
func EnqueueMany(ctx context.Context, db bun.IDB, jobs []Many) ([]*InsertResult, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	var res []*InsertResult
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		client, err := inserter()
		if err != nil {
			return err
		}
		res, err = client.InsertManyTx(ctx, tx, jobs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %d jobs: %w", len(jobs), err)
	}
	return res, nil
}

// Get returns a job's row (state, attempts, errors), for a delivery log.
func Get(ctx context.Context, db bun.IDB, id int64) (*JobRow, error) {
	var row *JobRow
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		client, err := inserter()
		if err != nil {
			return err
		}
		row, err = client.JobGetTx(ctx, tx, id)
		return err
	})
	return row, err
}

// Retry makes a finished or waiting job available to run again now, keeping
// its history: a facilitator's "re-send".
func Retry(ctx context.Context, db bun.IDB, id int64) (*JobRow, error) {
	var row *JobRow
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		client, err := inserter()
		if err != nil {
			return err
		}
		row, err = client.JobRetryTx(ctx, tx, id)
		return err
	})
	return row, err
}

// inTx runs fn on the *sql.Tx under db: the caller's transaction when db is
// one (a savepoint of it included), a new one otherwise.
func inTx(ctx context.Context, db bun.IDB, fn func(*sql.Tx) error) error {
	switch x := db.(type) {
	case bun.Tx:
		return fn(x.Tx)
	case *bun.Tx:
		return fn(x.Tx)
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(tx.Tx) })
}
