package database

import (
	"regexp"
	"strconv"
)

// A few statements are run both through bun (in transactions, on most pages)
// and through pgx batches, one round trip for a whole page (the proposal
// page). They are written once, with pgx's placeholders ($1, $2…); BunSQL
// turns those into bun's positional ones (?0, ?1…).

// RowScanner is what both *sql.Rows and pgx.Rows offer to read rows, so that
// one scan function serves both paths.
type RowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

var pgxPlaceholder = regexp.MustCompile(`\$(\d+)`)

// BunSQL rewrites $n placeholders as bun's ?(n-1). The statements it serves
// hold no $ in literals.
func BunSQL(q string) string {
	return pgxPlaceholder.ReplaceAllStringFunc(q, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		return "?" + strconv.Itoa(n-1)
	})
}
