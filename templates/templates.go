// Package templates embeds the HTML templates. Pages are composed from partials
// ({{template "partials/header" .}}); no layout is passed to Render (see DESIGN.md).
package templates

import "embed"

// FS holds every template, named by its path without the .html extension.
//
//go:embed */*.html
var FS embed.FS
