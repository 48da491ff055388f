// Package migrations embeds the SQL schema migrations. A merged migration never
// changes: a later change is a new file.
package migrations

import "embed"

// FS holds the NNNN_name.tx.up.sql / .tx.down.sql files.
//
//go:embed *.sql
var FS embed.FS
