// Package database opens the PostgreSQL connection pool and applies the embedded
// migrations.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/migrate"

	"cla/migrations"
)

// MaxConns caps the pool of one app instance, so that several instances can share
// one PostgreSQL.
const MaxConns = 16

// ApplicationName is what cla's connections show in pg_stat_activity, unless the
// URL sets application_name.
const ApplicationName = "cla"

// Open parses url, connects and checks the server answers. Errors are one line,
// readable by the person who set DATABASE_URL.
func Open(ctx context.Context, url string) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL invalide : %s", oneLine(err))
	}
	// Name our sessions in pg_stat_activity, so operators (and clabench) can count
	// an instance's connections.
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = ApplicationName
	}
	cfg.Tracer = statementTracer{} // a no-op unless a context carries WithStatementHook
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(MaxConns)
	sqldb.SetMaxIdleConns(MaxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("base de données injoignable (%s:%d/%s) : %s", cfg.Host, cfg.Port, cfg.Database, oneLine(err))
	}
	return db, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// migrationLockKey is the advisory lock that serialises migrations across
// instances. An advisory lock (rather than bun's lock table) is released by the
// server if the instance holding it crashes.
const migrationLockKey = 0x636c615f6d6967 // "cla_mig"

// Migrator builds bun's migrator over the embedded SQL files.
func Migrator(db *bun.DB) (*migrate.Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(migrations.FS); err != nil {
		return nil, err
	}
	return migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// withMigrationLock runs fn while holding the cluster-wide migration lock.
func withMigrationLock(ctx context.Context, db *bun.DB, fn func(*migrate.Migrator) error) error {
	m, err := Migrator(db)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		return fmt.Errorf("verrou de migration : %w", err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", migrationLockKey) //nolint:errcheck
	if err := m.Init(ctx); err != nil {
		return err
	}
	return fn(m)
}

// Migrate applies every pending migration, River's (the job queue's tables,
// internal/jobs) then ours, and returns how many it applied. Both run under
// the one advisory lock, so two instances starting together never migrate at
// once.
func Migrate(ctx context.Context, db *bun.DB) (int, error) {
	var applied int
	err := withMigrationLock(ctx, db, func(m *migrate.Migrator) error {
		n, err := migrateRiver(ctx, db)
		if err != nil {
			return fmt.Errorf("tables de River : %w", err)
		}
		group, err := m.Migrate(ctx)
		if err != nil {
			return err
		}
		applied = n + len(group.Migrations)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("migration : %w", err)
	}
	return applied, nil
}

// migrateRiver applies River's own migrations, which ship with the River
// version in go.mod: its schema is River's to evolve, not ours to copy into
// migrations/ (docs/decisions.md). It uses the database/sql driver, the one
// internal/jobs uses.
func migrateRiver(ctx context.Context, db *bun.DB) (int, error) {
	migrator, err := rivermigrate.New(riverdatabasesql.New(db.DB), &rivermigrate.Config{Logger: quietLogger})
	if err != nil {
		return 0, err
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, err
	}
	return len(res.Versions), nil
}

// RiverVersion returns the version of River's schema in the database (0
// before the first migration), for `cla migrate status`.
func RiverVersion(ctx context.Context, db *bun.DB) (int, error) {
	migrator, err := rivermigrate.New(riverdatabasesql.New(db.DB), &rivermigrate.Config{Logger: quietLogger})
	if err != nil {
		return 0, err
	}
	versions, err := migrator.ExistingVersions(ctx)
	if err != nil || len(versions) == 0 {
		return 0, err
	}
	return versions[len(versions)-1].Version, nil
}

// quietLogger drops River's migration chatter (one info line per version);
// Migrate's caller logs the count.
var quietLogger = slog.New(slog.DiscardHandler)

// Rollback undoes the last group of migrations.
func Rollback(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	var undone migrate.MigrationSlice
	err := withMigrationLock(ctx, db, func(m *migrate.Migrator) error {
		group, err := m.Rollback(ctx)
		if err != nil {
			return err
		}
		undone = group.Migrations
		return nil
	})
	return undone, err
}

// Status lists every known migration with whether it is applied.
func Status(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	var all migrate.MigrationSlice
	err := withMigrationLock(ctx, db, func(m *migrate.Migrator) error {
		var err error
		all, err = m.MigrationsWithStatus(ctx)
		return err
	})
	return all, err
}

// Ready reports whether the database answers a trivial query within the context.
func Ready(ctx context.Context, db *bun.DB) error {
	var one int
	return db.NewRaw("SELECT 1").Scan(ctx, &one)
}

// CreateDatabase creates name on the server behind admin if it does not exist.
func CreateDatabase(ctx context.Context, admin *sql.DB, name string) error {
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := admin.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "42P04" { // created meanwhile by another instance
		return nil
	}
	return err
}

// WithConn runs fn on one of db's connections, as pgx's own connection: for
// what database/sql does not offer (LISTEN, batches). The connection goes back
// to the pool afterwards (or is discarded when fn broke it).
func WithConn(ctx context.Context, db *bun.DB, fn func(*pgx.Conn) error) error {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("database: not a pgx connection")
		}
		return fn(sc.Conn())
	})
}

// SendBatch sends the statements of b to PostgreSQL in one round trip, on one
// of db's connections, and lets read take their results in order while it
// holds the connection. For the measured pages whose statements are known in
// advance (docs/perf.md): one round trip instead of one per statement.
func SendBatch(ctx context.Context, db *bun.DB, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	return WithConn(ctx, db, func(pc *pgx.Conn) error {
		br := pc.SendBatch(ctx, b)
		if err := read(br); err != nil {
			_ = br.Close()
			return err
		}
		return br.Close()
	})
}
