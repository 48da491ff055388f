package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/assembly"
	"cla/internal/database"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

// notifyCouncil makes a default council with n members and a meeting in two
// days, whose convocation jobs are queued; it returns the members' addresses.
func notifyCouncil(t *testing.T, db *bun.DB, n int) map[string]bool {
	t.Helper()
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("INSERT INTO councils (slug, name, is_default) VALUES ('convocations', 'CLA des convocations', true) RETURNING id").Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	emails := map[string]bool{}
	for i := range n {
		email := fmt.Sprintf("membre-%02d@convocations.example.org", i)
		var id int64
		if err := db.NewRaw("INSERT INTO accounts (email, name) VALUES (?, ?) RETURNING id", email, fmt.Sprintf("Membre %d", i)).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO memberships (council_id, account_id, role) VALUES (?, ?, 'member')", councilID, id); err != nil {
			t.Fatal(err)
		}
		emails[email] = true
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	m := &assembly.Meeting{CouncilID: councilID, Title: "Séance d'hiver", StartsAt: start, EndsAt: start.Add(2 * time.Hour), Place: "Salle"}
	if err := assembly.CreateMeeting(ctx, db, m); err != nil {
		t.Fatal(err)
	}
	return emails
}

// exactlyOnce checks that every address got one mail and no one got two.
func exactlyOnce(t *testing.T, got []mailtest.Received, emails map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got {
		for _, to := range r.To {
			seen[to]++
		}
	}
	for e := range emails {
		if seen[e] != 1 {
			t.Errorf("%s got %d convocations, want 1", e, seen[e])
		}
	}
	if len(seen) != len(emails) {
		t.Errorf("%d recipients, want %d", len(seen), len(emails))
	}
}

// The real binary is killed (SIGKILL) while convocations wait for a mail
// server that is down; after a restart, with the server back, every member
// gets the convocation exactly once.
func TestConvocationsSurviveAKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	emails := notifyCouncil(t, db, 12)
	srv := mailtest.Start(t, mailtest.Options{})
	srv.Down()
	env := []string{"DATABASE_URL=" + url, "CLA_NO_DEMO=true", "CLA_LOG_LEVEL=error", "CLA_SMTP_ADDR=" + srv.Addr,
		"CLA_SMTP_FROM=cla@example.org", "CLA_SMTP_TLS=none"}
	p := startCla(t, t.TempDir(), env...)
	// Wait until every convocation was tried once and waits for its retry,
	// none running: then kill.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting, running int
		if err := db.NewRaw(`SELECT count(*) FILTER (WHERE state = 'retryable'), count(*) FILTER (WHERE state = 'running')
			FROM river_job WHERE kind = 'notify.deliver'`).Scan(ctx, &waiting, &running); err != nil {
			t.Fatal(err)
		}
		if waiting == len(emails) && running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d convocations waiting, %d running", waiting, running)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	srv.Up(t)
	startCla(t, t.TempDir(), env...)
	// Retried after the backoff (about 10 s), once the dead instance's
	// leadership has lapsed (River's scheduler runs on the leader).
	deadline = time.Now().Add(90 * time.Second)
	for len(srv.Messages()) < len(emails) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	exactlyOnce(t, srv.Messages(), emails)
	var states []string
	if err := db.NewRaw("SELECT DISTINCT state FROM notifications").Scan(ctx, &states); err != nil || len(states) != 1 || states[0] != "sent" {
		t.Errorf("notification states %v %v", states, err)
	}
}

// Two instances on one database, both running jobs: each convocation is
// sent once.
func TestTwoInstancesSendConvocationsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := mailtest.Start(t, mailtest.Options{})
	cfg := Config{Addr: "127.0.0.1:0", DatabaseURL: url, NoDemo: true, SMTPAddr: srv.Addr, SMTPFrom: "cla@example.org", SMTPTLS: "none"}
	for range 2 {
		c := cfg
		c.DataDir = t.TempDir()
		m := &Main{Config: c, Logger: quiet}
		if err := m.Run(ctx); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
	}
	emails := notifyCouncil(t, db, 30)
	srv.Wait(t, len(emails))
	time.Sleep(2 * time.Second)
	exactlyOnce(t, srv.Messages(), emails)
	for _, r := range srv.Messages() {
		if !strings.Contains(string(r.Data), "Convocation") {
			t.Errorf("not a convocation: %.200s", r.Data)
		}
	}
}
