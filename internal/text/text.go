// Package text normalises the text that enters the platform, once, at the edge
// (internal/web applies it to every request) and again where text is hashed
// (internal/audit), so that what is validated, stored and hashed is the same
// string PostgreSQL keeps byte for byte.
package text

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns s as the platform stores it:
//
//   - valid UTF-8: each invalid byte (a lone surrogate's encoding included) becomes U+FFFD;
//   - line ends are "\n": CR LF and a lone CR become LF (browsers send CR LF from a textarea);
//   - no control character but newline and tab: NUL, the other C0 controls, DEL
//     and the C1 controls are removed (PostgreSQL refuses NUL in text);
//   - no bidirectional embedding, override or isolate control (U+202A–U+202E,
//     U+2066–U+2069): they reorder the text around them on screen and have no
//     use in typed French (the marks U+200E and U+200F stay);
//   - Unicode NFC, so that "é" typed as e + U+0301 equals "é" in searches,
//     uniqueness checks and hashes.
//
// Normalize is idempotent. Clean text, the usual case, is returned as is
// without allocating.
func Normalize(s string) string {
	if IsNormal(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	start := 0 // s[start:i] is kept as it is, copied in one go
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f || c == '\n' || c == '\t':
			i++
		case c < utf8.RuneSelf: // CR, another control, DEL
			b.WriteString(s[start:i])
			if c == '\r' {
				b.WriteByte('\n')
				if i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
			}
			i++
			start = i
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b.WriteString(s[start:i])
				b.WriteString(string(utf8.RuneError))
				start = i + 1
			case dropped(r):
				b.WriteString(s[start:i])
				start = i + size
			}
			i += size
		}
	}
	b.WriteString(s[start:])
	// NFC after the removals: removing a control can bring a combining mark
	// next to the letter it composes with. The quick check spares the
	// allocations of a full pass in the usual case.
	out := b.String()
	if norm.NFC.QuickSpanString(out) == len(out) {
		return out
	}
	return norm.NFC.String(out)
}

// IsNormal reports whether Normalize(s) == s.
func IsNormal(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return slowIsNormal(s, i)
		}
	}
	return true // printable ASCII, newline and tab: already NFC
}

// IsNormalBytes is IsNormal for a byte slice (no copy).
func IsNormalBytes(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c >= utf8.RuneSelf || c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return slowIsNormalBytes(b, i)
		}
	}
	return true
}

// slowIsNormal checks s from its first byte that is not plain ASCII, at
// from; NFC is checked on the whole of s, since a combining mark composes
// with the ASCII letter before it.
func slowIsNormal(s string, from int) bool {
	if !utf8.ValidString(s[from:]) {
		return false
	}
	for _, r := range s[from:] {
		if r == '\r' || dropped(r) {
			return false
		}
	}
	// QuickSpan answers without allocating for almost all text; a "maybe"
	// (some combining marks) takes the full check.
	return norm.NFC.QuickSpanString(s) == len(s) || norm.NFC.IsNormalString(s)
}

func slowIsNormalBytes(b []byte, from int) bool {
	if !utf8.Valid(b[from:]) {
		return false
	}
	for i := from; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == '\r' || dropped(r) {
			return false
		}
		i += size
	}
	return norm.NFC.QuickSpan(b) == len(b) || norm.NFC.IsNormal(b)
}

// dropped reports whether r is removed: a control character other than
// newline and tab (CR is turned into a newline before this is asked), or a
// bidirectional formatting control.
func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
