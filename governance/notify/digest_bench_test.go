package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"cla/governance/notify"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
	"cla/internal/web"
)

// BenchmarkWeeklyDigest2000 sends the weekly digest of a council of 2,000
// members, each with something new, through a real SMTP server (in this
// process), with the runner's production settings, and reports the time
// until the last mail is accepted and the peak heap above idle (docs/perf.md).
//
//	go test ./governance/notify -run '^$' -bench WeeklyDigest2000 -benchtime 1x
func BenchmarkWeeklyDigest2000(b *testing.B) {
	const members = 2000
	ctx := context.Background()
	db := testdb.New(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var councilID int64
		if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES (?, 'CLA du banc d''essai') RETURNING id", fmt.Sprintf("banc-%d", i)).Scan(ctx, &councilID); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`WITH a AS (
				INSERT INTO accounts (email, name) SELECT 'cotisant-%[1]d-' || g || '@banc.example.org', 'Cotisant·e ' || g
				FROM generate_series(1, %[2]d) g RETURNING id)
			INSERT INTO memberships (council_id, account_id, role) SELECT %[1]d, id, 'member' FROM a`, councilID, members)); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO notifications (council_id, recipient, account_id, email, kind, event_key, subject, body_text, link, state)
			SELECT m.council_id, 'account:' || m.account_id, m.account_id, 'x@banc.example.org', 'vote_opened', 'vote-opened-1',
				'Vote ouvert : adopter le budget', 'Un vote est ouvert.', 'https://cla.example.org/votes/1', 'digest'
			FROM memberships m WHERE m.council_id = ?`, councilID); err != nil {
			b.Fatal(err)
		}
		day := int(time.Now().In(web.Paris()).Weekday())
		if day == 0 {
			day = 7
		}
		// Not today while the runner starts (its sweeps run at start), today
		// once it runs.
		if err := notify.SaveDigestWeekday(ctx, db, councilID, day%7+1); err != nil {
			b.Fatal(err)
		}
		srv := mailtest.Start(b, mailtest.Options{})
		sender, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org", TLS: mail.TLSNone})
		if err != nil {
			b.Fatal(err)
		}
		ws := jobs.NewWorkers()
		notify.Register(ws, &notify.Service{DB: db, Sender: sender, From: "cla@example.org", BaseURL: "https://cla.example.org"})
		r, err := jobs.Start(ctx, db, jobs.Config{Workers: ws, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		if err := notify.SaveDigestWeekday(ctx, db, councilID, day); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		idle := ms.HeapInuse
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		if _, err := jobs.Enqueue(ctx, db, notify.DigestSweep{}, nil); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for len(srv.Messages()) < members && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		close(stop)
		if n := len(srv.Messages()); n < members {
			b.Fatalf("%d digests of %d in %s", n, members, elapsed)
		}
		b.ReportMetric(elapsed.Seconds(), "s/digest")
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), idle))/(1<<20), "MiB-above-idle")
		_ = r.Stop(ctx)
	}
}
