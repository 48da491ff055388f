package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"cla/internal/jobs"
	"cla/internal/web"
)

// digestName is the digest line's name in the report.
const digestName = "weekly digest: every member's mail over SMTP (all councils)"

// digestTimeout bounds the digest line; the target is digestTarget.
const (
	digestTimeout = 3 * time.Minute
	digestTarget  = 60 * time.Second
)

// smtpSink is a minimal SMTP server that accepts every mail and counts them:
// the app sends its notifications there (--smtp-addr), so the digest line
// measures the app's whole path, the SMTP dialogue included.
type smtpSink struct {
	ln    net.Listener
	mails atomic.Int64
	wg    sync.WaitGroup
}

// startSMTPSink listens on a free loopback port.
func startSMTPSink() (*smtpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &smtpSink{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	return s, nil
}

func (s *smtpSink) addr() string { return s.ln.Addr().String() }

func (s *smtpSink) close() {
	s.ln.Close()
	s.wg.Wait()
}

// serve speaks just enough SMTP for a client without TLS nor AUTH.
func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(line string) bool {
		w.WriteString(line + "\r\n")
		return w.Flush() == nil
	}
	if !reply("220 clabench SMTP sink") {
		return
	}
	for {
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			reply("250-clabench\r\n250 8BITMIME")
		case strings.HasPrefix(cmd, "DATA"):
			if !reply("354 end with <CRLF>.<CRLF>") {
				return
			}
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
			}
			s.mails.Add(1)
			reply("250 accepted")
		case strings.HasPrefix(cmd, "QUIT"):
			reply("221 bye")
			return
		default: // HELO, MAIL, RCPT, RSET, NOOP
			reply("250 ok")
		}
	}
}

// digestSweepJob is the digest sweep's job (governance/notify's digestSweep,
// matched by kind): the app's job runner takes it.
type digestSweepJob struct{}

// Kind is governance/notify's digest sweep.
func (digestSweepJob) Kind() string { return "notify.digest_sweep" }

// digestLine measures the weekly digest of every generated council, as the
// app sends it on the councils' digest day: each member holds one message for
// the digest, every council's day becomes today, and the sweep job is
// enqueued; the app's runner builds the digests in batch and its send jobs
// deliver them to the SMTP sink. It runs last: it writes notifications. The
// time is from the enqueue to the last mail accepted; req/s is mails per
// second; CPU/req is per mail.
func digestLine(o options, db *sql.DB, sink *smtpSink, cpu func() [2]float64) []line {
	if o.only != nil && !o.only.MatchString(digestName) {
		return nil
	}
	ctx := context.Background()
	bdb := bun.NewDB(db, pgdialect.New())
	day := int(time.Now().In(web.Paris()).Weekday())
	if day == 0 {
		day = 7
	}
	var want int64
	if err := db.QueryRowContext(ctx, `WITH held AS (
			INSERT INTO notifications (council_id, recipient, account_id, email, kind, event_key, subject, body_text, link, state)
			SELECT m.council_id, 'account:' || m.account_id, m.account_id, a.email, 'vote_opened', 'clabench-digest',
				'Vote ouvert : adopter le budget', 'Un vote est ouvert.', 'https://cla.example.org/votes/1', 'digest'
			FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.disabled_at IS NULL
			RETURNING 1)
		SELECT count(*) FROM held`).Scan(&want); err != nil {
		logf("  digest: %v", err)
		return nil
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO notification_settings (council_id, digest_weekday) SELECT id, $1 FROM councils
		ON CONFLICT (council_id) DO UPDATE SET digest_weekday = EXCLUDED.digest_weekday`, day); err != nil {
		logf("  digest: %v", err)
		return nil
	}
	before := sink.mails.Load()
	cpu0 := cpu()
	t0 := time.Now()
	if _, err := jobs.Enqueue(ctx, bdb, digestSweepJob{}, nil); err != nil {
		logf("  digest: %v", err)
		return nil
	}
	for sink.mails.Load()-before < want && time.Since(t0) < digestTimeout {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(t0)
	cpu1 := cpu()
	got := sink.mails.Load() - before
	r := result{n: int(got), p50: elapsed, p99: elapsed}
	if got > 0 {
		r.rps = float64(got) / elapsed.Seconds()
		r.appCPU = (cpu1[0] - cpu0[0]) * 1000 / float64(got)
		r.pgCPU = (cpu1[1] - cpu0[1]) * 1000 / float64(got)
	}
	if got < want {
		r.errors = want - got
	}
	name := fmt.Sprintf("%s, %d mails", digestName, want)
	logf("%-44s %9.0f mails/s  all sent in %7.2f s  missing %d", name, r.rps, elapsed.Seconds(), r.errors)
	return []line{{scenario: name, target: "digest", conns: 0, result: r}}
}
