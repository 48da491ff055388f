// Package static embeds the CSS and images and the vendored JavaScript (js/: progressive enhancement only) served under /static/.
package static

import "embed"

// FS holds the static assets.
//
//go:embed css img js
var FS embed.FS
