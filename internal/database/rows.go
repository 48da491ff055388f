package database

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
)

// RowScanner is what both *sql.Rows (bun's QueryContext) and pgx.Rows (the
// fast path's batches) offer to read rows: a hand scan of a hot read serves
// both paths, each with its own statement beside it.
type RowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// IsNoRows reports whether err says a single-row read found no row, from bun
// (sql.ErrNoRows) or from pgx (pgx.ErrNoRows): domain packages ask this
// instead of importing database/sql.
func IsNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows)
}
