// Package markdown turns user-written markdown into sanitised HTML. It runs when a
// text is saved; pages show the stored HTML and never run it on GET.
package markdown

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

var (
	// goldmark's default renderer already drops raw HTML and dangerous link
	// schemes; bluemonday is the second, independent line of defence.
	md     = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Linkify, extension.Table))
	policy = newPolicy()
)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.RequireNoReferrerOnLinks(false)
	p.AllowAttrs("rel").OnElements("a")
	return p
}

// ToHTML renders src to sanitised HTML. Invalid UTF-8 is replaced, not rejected,
// so that nothing a user typed is lost on save.
func ToHTML(src string) string {
	if !utf8.ValidString(src) {
		src = strings.ToValidUTF8(src, "\uFFFD")
	}
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors; a bytes.Buffer has none.
		return ""
	}
	out := policy.Sanitize(buf.String())
	// Links leave the council's site: never give the target a handle on our window.
	return strings.ReplaceAll(out, `rel="nofollow"`, `rel="nofollow noopener"`)
}
