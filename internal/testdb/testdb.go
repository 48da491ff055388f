// Package testdb gives every test its own PostgreSQL database, cloned from a
// migrated template, so tests run against the real database and in parallel.
//
// It uses TEST_DATABASE_URL (a role allowed to create databases) when set, and
// otherwise starts a private, fast, throw-away PostgreSQL for the test process.
// A missing database is a failure, never a skip.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"cla/internal/database"
	"cla/internal/pgserver"
)

var (
	once     sync.Once
	setupErr error
	server   *pgserver.Server
	tmpDir   string
	adminURL string
	admin    *sql.DB
	template string
	counter  atomic.Int64
)

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adminURL = os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		var err error
		if tmpDir, err = os.MkdirTemp("", "cla-testdb-"); err != nil {
			setupErr = err
			return
		}
		server, err = pgserver.Start(ctx, pgserver.Options{Dir: tmpDir + "/pg", Fast: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			setupErr = fmt.Errorf("private PostgreSQL for tests: %w", err)
			return
		}
		adminURL = server.URL("postgres")
	}
	adminDB, err := database.Open(ctx, adminURL)
	if err != nil {
		setupErr = err
		return
	}
	admin = adminDB.DB
	// Several test processes (one per package) may share TEST_DATABASE_URL.
	template = fmt.Sprintf("cla_tpl_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+ident(template)); err != nil {
		setupErr = fmt.Errorf("create template database: %w", err)
		return
	}
	tpl, err := database.Open(ctx, urlFor(template))
	if err != nil {
		setupErr = err
		return
	}
	defer tpl.Close()
	if _, err := database.Migrate(ctx, tpl); err != nil {
		setupErr = fmt.Errorf("migrate template database: %w", err)
	}
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func urlFor(db string) string {
	u, err := url.Parse(adminURL)
	if err != nil {
		panic(err) // adminURL was already opened successfully
	}
	u.Path = "/" + db
	return u.String()
}

// URL creates a fresh migrated database for this test and returns its URL. The
// database is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("test database: %v", setupErr)
	}
	name := fmt.Sprintf("%s_%d", template, counter.Add(1))
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", ident(name), ident(template))); err != nil {
		t.Fatalf("clone test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return urlFor(name)
}

// New returns a connection pool to a fresh migrated database for this test.
func New(t testing.TB) *bun.DB {
	t.Helper()
	db, err := database.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	// Registered after URL's cleanup, so it runs first: close, then drop.
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Main runs the package's tests, then drops the template and stops the private
// PostgreSQL. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if admin != nil {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + ident(template) + " WITH (FORCE)")
		_ = admin.Close()
	}
	server.Stop()
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}
