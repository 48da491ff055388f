package pagecache

import (
	"bytes"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// minGzipSize is the smallest body worth a compressed copy: below it the
// saving is a few hundred bytes, less than the headers.
const minGzipSize = 1024

// compressible lists the content types whose cached entries keep a gzip copy
// (text compresses five to ten times; images and PDFs do not).
var compressible = []string{"text/", "application/json", "application/atom+xml", "application/xml", "image/svg+xml"}

// compress gives e its gzip copy and that copy's validator, once, when the
// entry is stored: every later hit from a browser (all send Accept-Encoding:
// gzip) then sends a small part of the bytes, compressing nothing. A
// 500-argument debate is ~340 KiB of HTML and ~19 KB gzipped, which is what
// a citizen on a cheap phone and a slow network waits for.
func (e *Entry) compress() {
	if e.gzip != nil || len(e.Body) < minGzipSize || !compressibleType(e.ContentType) {
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(e.Body) / 4)
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return
	}
	if _, err := zw.Write(e.Body); err != nil {
		return
	}
	if err := zw.Close(); err != nil {
		return
	}
	if buf.Len() >= len(e.Body) {
		return
	}
	e.gzip = bytes.Clone(buf.Bytes())
	// A representation of its own needs a strong validator of its own
	// (RFC 9110, 8.8.3): the same page's two encodings differ in bytes.
	e.gzipETag = strings.TrimSuffix(e.ETag, `"`) + `-gz"`
}

func compressibleType(contentType string) bool {
	for _, prefix := range compressible {
		if strings.HasPrefix(contentType, prefix) {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip: listed
// (or "*") with a non-zero weight.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			// Named explicitly: its own weight decides, whatever "*" says.
			return !zeroWeight(params)
		case "*":
			star = !zeroWeight(params)
		}
	}
	return star
}

// zeroWeight reports whether the parameters of an Accept-Encoding element
// are "q=0" (refused), in any of its spellings (q=0, q=0.0, q=0.000).
func zeroWeight(params string) bool {
	for _, p := range strings.Split(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		value = strings.TrimSpace(value)
		return strings.Trim(value, "0.") == "" && value != ""
	}
	return false
}
