package governance

import (
	"regexp"
	"strconv"
)

// A few statements are run both through bun (in transactions, on most pages)
// and through pgx batches, one round trip for a whole page (proposal_page.go).
// They are written once, with pgx's placeholders ($1, $2…); bunSQL turns
// those into bun's positional ones (?0, ?1…).

// rowScanner is what both *sql.Rows and pgx.Rows offer to read rows.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

var pgxPlaceholder = regexp.MustCompile(`\$(\d+)`)

// bunSQL rewrites $n placeholders as bun's ?(n-1). The statements it serves
// hold no $ in literals.
func bunSQL(q string) string {
	return pgxPlaceholder.ReplaceAllStringFunc(q, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		return "?" + strconv.Itoa(n-1)
	})
}
