package main

import (
	"context"
	"net"
	"testing"
	"time"

	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

// An instance runs the app's jobs — here the mail.send job, through the
// SMTP server of --smtp-addr. One started with --jobs=false only serves: the
// jobs it enqueues wait for an instance that runs them. Close stops the
// runner.
func TestInstancesRunJobsUnlessToldNotTo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Options{})
	cfg := Config{Addr: "127.0.0.1:0", DatabaseURL: testdb.URL(t), DataDir: t.TempDir(), SMTPAddr: srv.Addr, SMTPFrom: "cla@example.org"}
	serveOnly := cfg
	serveOnly.NoJobs = true
	a := &Main{Config: serveOnly, Logger: quiet}
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Jobs != nil {
		t.Fatal("--jobs=false started a job runner")
	}
	msg := &mail.Message{From: mail.Address{Name: "Conseil"}, To: mail.Address{Email: "jeanne@example.org"}, Subject: "Essai", Text: "Bonjour"}
	res, err := mail.Enqueue(ctx, a.DB, msg)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if row, err := jobs.Get(ctx, a.DB, res.Job.ID); err != nil || row.State != jobs.StateAvailable || len(srv.Messages()) != 0 {
		t.Fatalf("on a serve-only instance the job is %v (%v), %d mails sent", row.State, err, len(srv.Messages()))
	}

	b := &Main{Config: cfg, Logger: quiet}
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Jobs == nil {
		t.Fatal("no job runner by default")
	}
	got := srv.Wait(t, 1)
	if m := mailtest.Parse(t, got[0].Data); got[0].To[0] != "jeanne@example.org" || m.Get("Subject") != "Essai" {
		t.Errorf("mail sent by the other instance: %v", m.Header)
	}
	if err := b.Close(); err != nil || b.Jobs != nil {
		t.Errorf("Close: %v, runner %v", err, b.Jobs)
	}
}

// A Run that fails once the app and the job runner are up (here: the address
// is taken) leaves a Main that Close stops cleanly.
func TestCloseAfterAFailedRun(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	m := &Main{Config: Config{Addr: taken.Addr().String(), DatabaseURL: testdb.URL(t), DataDir: t.TempDir()}, Logger: quiet}
	if err := m.Run(context.Background()); err == nil {
		t.Fatal("Run listened on a taken address")
	}
	done := make(chan error, 1)
	go func() { done <- m.Close() }()
	select {
	case err := <-done:
		if err != nil || m.Jobs != nil || m.DB != nil {
			t.Errorf("Close after a failed Run: %v, runner %v, pool %v", err, m.Jobs, m.DB)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close hangs after a failed Run")
	}
}
