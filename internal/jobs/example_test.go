package jobs_test

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/jobs"
)

// ReminderArgs asks for one member's reminder about one vote; the tagged
// fields make it unique per (vote, member).
type ReminderArgs struct {
	VoteID   int64 `json:"vote_id" river:"unique"`
	MemberID int64 `json:"member_id" river:"unique"`
}

func (ReminderArgs) Kind() string { return "example.vote_reminder" }

type reminderWorker struct {
	jobs.WorkerDefaults[ReminderArgs]
	db *bun.DB
}

// Work reads what it needs now (the vote may be closed, the member may have
// voted or left since the job was enqueued) and does the external effect last.
func (w *reminderWorker) Work(ctx context.Context, job *jobs.Job[ReminderArgs]) error {
	return nil
}

// SweepArgs is a periodic job: find what is due and not yet done.
type SweepArgs struct{}

func (SweepArgs) Kind() string { return "example.reminder_sweep" }

type sweepWorker struct {
	jobs.WorkerDefaults[SweepArgs]
	db *bun.DB
}

func (w *sweepWorker) Work(ctx context.Context, job *jobs.Job[SweepArgs]) error {
	// e.g. votes closing within 24 h: enqueue a ReminderArgs per member who
	// has not voted; Unique makes a second sweep harmless.
	return nil
}

// DigestArgs is the weekly digest's daily check ("is today some council's
// digest day?").
type DigestArgs struct{}

func (DigestArgs) Kind() string { return "example.digest_check" }

type digestWorker struct {
	jobs.WorkerDefaults[DigestArgs]
}

func (w *digestWorker) Work(ctx context.Context, job *jobs.Job[DigestArgs]) error { return nil }

// A domain declares its jobs; cmd/cla's NewWorkers registers them and Main
// runs them; services enqueue in their transactions.
func Example() {
	var db *bun.DB // the app's pool
	ctx := context.Background()

	// Wiring (cmd/cla, NewWorkers):
	ws := jobs.NewWorkers()
	jobs.Register(ws, &reminderWorker{db: db})
	jobs.Register(ws, &sweepWorker{db: db})
	jobs.Register(ws, &digestWorker{})
	ws.Periodic("reminder-sweep", jobs.Hourly(), func() jobs.JobArgs { return SweepArgs{} })
	paris, _ := time.LoadLocation("Europe/Paris")
	ws.Periodic("digest-check", jobs.Daily(6, 30, paris), func() jobs.JobArgs { return DigestArgs{} })

	// In a service, inside the change's transaction:
	_ = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// … open the vote …
		_, err := jobs.Enqueue(ctx, tx, ReminderArgs{VoteID: 7, MemberID: 42}, jobs.Unique())
		return err
	})
}
