// Package markdown turns user-written markdown into sanitised HTML. It runs when a
// text is saved; pages show the stored HTML and never run it on GET.
//
// Two independent layers: goldmark without the "unsafe" option drops raw HTML and
// dangerous link destinations; then a strict bluemonday allow-list keeps only
// plain formatting elements, only href/title on links (http, https, mailto or
// relative), no images, no style, no event handler, and adds
// rel="nofollow noopener" to every link.
package markdown

import (
	"bytes"
	"html"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

var (
	md        = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Linkify, extension.Table))
	policy    = newPolicy()
	stripTags = bluemonday.StrictPolicy()
)

// AllowedElements are the only elements ToHTML can output.
var AllowedElements = []string{
	"p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
	"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
	"table", "thead", "tbody", "tr", "th", "td",
}

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(AllowedElements...)
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("align").Matching(bluemonday.CellAlign).OnElements("th", "td")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	return p
}

// Clean makes user input safe to store: invalid UTF-8 is replaced (nothing a
// user typed is lost on save), NUL and other C0 controls except tab and line
// breaks are dropped, and line endings are normalised to "\n".
func Clean(src string) string {
	if !utf8.ValidString(src) {
		src = strings.ToValidUTF8(src, "\uFFFD")
	}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case r < 0x20 || r == 0x7f:
			return -1
		case r == Mark || r == EndMark:
			// Reserved for search highlights.
			return -1
		}
		return r
	}, src)
}

// Mark and EndMark are private-use characters that search uses to delimit
// highlights; Clean removes them from anything users write.
const (
	Mark    = '\uE000'
	EndMark = '\uE001'
)

// ToHTML renders src to sanitised HTML, after Clean.
func ToHTML(src string) string {
	src = Clean(src)
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors; a bytes.Buffer has none.
		return ""
	}
	out := policy.Sanitize(buf.String())
	// Links leave the council's site: never give the target a handle on our
	// window. bluemonday writes exactly rel="nofollow" on every <a>; text that
	// merely looks like it is escaped (&#34;) and cannot match.
	return strings.ReplaceAll(out, `rel="nofollow"`, `rel="nofollow noopener"`)
}

// Sanitize makes HTML from outside (an exchange file) as safe as what ToHTML
// produces, with the same policy; HTML that ToHTML produced comes out the same.
func Sanitize(untrusted string) string {
	out := policy.Sanitize(Clean(untrusted))
	return strings.ReplaceAll(out, `rel="nofollow"`, `rel="nofollow noopener"`)
}

// ToText returns the plain text of sanitised HTML produced by ToHTML, with
// blocks separated by spaces: what search indexes and shows in snippets.
func ToText(sanitised string) string {
	spaced := strings.ReplaceAll(sanitised, "<", " <")
	return strings.Join(strings.Fields(html.UnescapeString(stripTags.Sanitize(spaced))), " ")
}
