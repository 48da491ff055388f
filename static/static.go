// Package static embeds the CSS and images (and any vendored JavaScript, under js/, once a page needs one) served under /static/.
package static

import "embed"

// FS holds the static assets.
//
//go:embed css img
var FS embed.FS
