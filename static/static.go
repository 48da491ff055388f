// Package static embeds the CSS, JavaScript and images served under /static/.
package static

import "embed"

// FS holds the static assets.
//
//go:embed css js img
var FS embed.FS
