package web

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
)

// Fragment builds a piece of HTML in Go. html/template calls an escaper and
// resolves every field through reflection for each action, which makes a list
// of a few hundred cells cost milliseconds; the few lists that long (a
// proposal's results, the register's outline) are written with a Fragment and
// inserted into their page's template as one value (docs/decisions.md).
//
// Safety comes from the types: markup is only taken from constants (Tag's
// parameter has an unexported string type, to which a string variable does not
// convert), and every value goes through Text or Int, which escape it. Text is
// safe in element content and in double-quoted attribute values; attribute
// values that are URLs must be built from known-safe parts (slugs, numbers).
type Fragment struct {
	b strings.Builder
}

// markup is the type of Tag's argument: only untyped string constants convert
// to it implicitly, so no data can reach the page unescaped through Tag.
type markup string

// Tag writes constant markup.
func (f *Fragment) Tag(m markup) *Fragment {
	f.b.WriteString(string(m))
	return f
}

// htmlEscaper escapes as html/template does in text and quoted attribute
// values, so that a fragment reads the same as the template it replaces.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// escaped marks the bytes htmlEscaper replaces.
var escaped = [256]bool{0: true, '"': true, '&': true, '\'': true, '+': true, '<': true, '>': true}

// Text writes s, escaped.
func (f *Fragment) Text(s string) *Fragment {
	for i := 0; i < len(s); i++ {
		if escaped[s[i]] {
			f.b.WriteString(htmlEscaper.Replace(s))
			return f
		}
	}
	f.b.WriteString(s)
	return f
}

// PathSegment writes s as one segment of a URL path, escaped (a slug is
// written as it is).
func (f *Fragment) PathSegment(s string) *Fragment {
	return f.Text(url.PathEscape(s))
}

// Int writes n in decimal.
func (f *Fragment) Int(n int) *Fragment {
	var buf [20]byte
	f.b.Write(strconv.AppendInt(buf[:0], int64(n), 10))
	return f
}

// Trusted writes HTML that was sanitised when it was saved (see
// internal/markdown), as the storedHTML template function does.
func (f *Fragment) Trusted(h template.HTML) *Fragment {
	f.b.WriteString(string(h))
	return f
}

// Grow reserves room for n more bytes.
func (f *Fragment) Grow(n int) { f.b.Grow(n) }

// HTML returns the fragment, for a template to insert as it is.
func (f *Fragment) HTML() template.HTML {
	return template.HTML(f.b.String()) //nolint:gosec // built from constants and escaped values only
}
