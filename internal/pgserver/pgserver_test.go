package pgserver

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
)

// A one-shot command run while cla serves uses the running cluster instead
// of failing on PostgreSQL's lock file, and leaves it running when it ends.
func TestAttachUsesTheRunningCluster(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := filepath.Join(t.TempDir(), "pg")
	first, err := Start(ctx, Options{Dir: dir, Fast: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	if _, err := Start(ctx, Options{Dir: dir, Fast: true, Logger: quiet}); err == nil {
		t.Fatal("a second start on a running cluster's folder should fail without Attach")
	}
	second, err := Start(ctx, Options{Dir: dir, Fast: true, Logger: quiet, Attach: true})
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	if second.PID() != 0 {
		t.Errorf("an attached server reports PID %d, want 0 (it did not start postgres)", second.PID())
	}
	second.Stop()
	db, err := sql.Open("pgx", first.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("stopping the attached server stopped the running cluster: %v", err)
	}
}
