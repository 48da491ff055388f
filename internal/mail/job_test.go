package mail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

// startMailRunner works mail.send jobs on db through srv, retrying quickly.
func startMailRunner(t *testing.T, db *bun.DB, srv *mailtest.Server) {
	t.Helper()
	ws := jobs.NewWorkers()
	jobs.Register(ws, &mail.Worker{Sender: sender(t, srv)})
	r, err := jobs.Start(context.Background(), db, jobs.Config{
		Workers:      ws,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		PollInterval: 100 * time.Millisecond,
		Backoff:      jobs.Backoff{First: 100 * time.Millisecond, Max: 300 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
}

func waitJob(t *testing.T, db *bun.DB, id int64, what string, cond func(*jobs.JobRow) bool) *jobs.JobRow {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		row, err := jobs.Get(context.Background(), db, id)
		if err == nil && cond(row) {
			return row
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: timed out waiting for %s (last: %+v, %v)", id, what, row, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func convocation(to string) *mail.Message {
	return &mail.Message{
		From:      mail.Address{Name: "Notre caisse alim'"},
		To:        mail.Address{Email: to},
		Subject:   "Convocation",
		Text:      "La séance a lieu le 12 juin.",
		MessageID: mail.MessageID("convocation-12-v1", to, "cla.example.org"),
	}
}

// The whole chain: a mail enqueued in a transaction while the SMTP server is
// down is retried with backoff and arrives exactly once when the server is
// back. A mail enqueued in a rolled-back transaction never leaves; the same
// mail enqueued twice leaves once; a refused recipient fails at once with
// the server's answer kept.
func TestMailJobSurvivesAServerOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	srv := mailtest.Start(t, mailtest.Options{})
	srv.Down()
	startMailRunner(t, db, srv)

	var id int64
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := mail.Enqueue(ctx, tx, convocation("helene@example.org"))
		if err != nil {
			return err
		}
		id = res.Job.ID
		// Queued twice by two code paths: one job.
		again, err := mail.Enqueue(ctx, tx, convocation("helene@example.org"))
		if err == nil && !again.UniqueSkippedAsDuplicate {
			t.Error("the same mail was queued twice")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rollback := errors.New("rollback")
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := mail.Enqueue(ctx, tx, convocation("annule@example.org")); err != nil {
			return err
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}

	row := waitJob(t, db, id, "two failed attempts", func(r *jobs.JobRow) bool { return len(r.Errors) >= 2 })
	if !strings.Contains(row.Errors[0].Error, "dial failed") || row.State == jobs.StateCancelled {
		t.Errorf("server down: %s %+v", row.State, row.Errors)
	}
	srv.Up(t)
	waitJob(t, db, id, "completion", func(r *jobs.JobRow) bool { return r.State == jobs.StateCompleted })
	time.Sleep(500 * time.Millisecond) // several polls: nothing more may arrive
	got := srv.Messages()
	if len(got) != 1 || got[0].To[0] != "helene@example.org" {
		t.Fatalf("%d messages after the outage, want exactly one to helene@example.org", len(got))
	}
	m := mailtest.Parse(t, got[0].Data)
	if m.Get("Message-ID") != convocation("helene@example.org").MessageID || strings.TrimRight(m.Text, "\r\n") != "La séance a lieu le 12 juin." {
		t.Errorf("delivered mail: %v %q", m.Header, m.Text)
	}

	// A refused recipient: one attempt, cancelled, the answer kept. A 451
	// is retried until the server takes the mail.
	srv.Refuse("inconnu@example.org")
	refused, err := mail.Enqueue(ctx, db, convocation("inconnu@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	row = waitJob(t, db, refused.Job.ID, "cancellation", func(r *jobs.JobRow) bool { return r.FinalizedAt != nil })
	if row.State != jobs.StateCancelled || row.Attempt != 1 || !strings.Contains(row.Errors[0].Error, "550") {
		t.Errorf("refused recipient: %s after %d attempts: %+v", row.State, row.Attempt, row.Errors)
	}
	srv.FailNext(2)
	busy, err := mail.Enqueue(ctx, db, convocation("occupe@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	row = waitJob(t, db, busy.Job.ID, "completion after 451s", func(r *jobs.JobRow) bool { return r.State == jobs.StateCompleted })
	if row.Attempt != 3 || !strings.Contains(row.Errors[0].Error, "451") {
		t.Errorf("451 twice: completed after %d attempts, errors %+v", row.Attempt, row.Errors)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages in all, want 2 (helene, occupe)", n)
	}
	// A malformed message is refused when enqueued, not in the job.
	if _, err := mail.Enqueue(ctx, db, &mail.Message{To: mail.Address{Email: "x\r\n@y"}, Text: "x"}); !mail.IsPermanent(err) {
		t.Errorf("malformed message enqueued: %v", err)
	}
}
