// Package csvout writes every CSV the platform serves, so that one rule
// protects them all from formula injection: a spreadsheet that opens the file
// must never run a cell as a formula (=HYPERLINK(…), =cmd|…, @SUM(…)).
package csvout

import (
	"encoding/csv"
	"io"
)

// Writer is encoding/csv's writer with every cell passed through Cell.
type Writer struct {
	w *csv.Writer
}

// NewWriter writes to w; crlf ends records with CR LF (RFC 4180) instead of LF.
func NewWriter(w io.Writer, crlf bool) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = crlf
	return &Writer{w: cw}
}

// Write writes one record, each cell neutralised. The record is modified in
// place.
func (w *Writer) Write(record []string) error {
	for i, s := range record {
		record[i] = Cell(s)
	}
	return w.w.Write(record)
}

// Flush writes buffered data; check Error afterwards.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports any error of a previous Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }

// Cell neutralises a cell a spreadsheet could read as a formula, as OWASP
// recommends: one starting with '=', '+', '-', '@', a tab or a carriage
// return gets a leading single quote, which spreadsheets show as text (and
// other consumers see as a first character; docs/api.md). A plain decimal
// number, "-1.5" included, is left as it is: it cannot be a formula, and the
// coordinates west of Greenwich must stay numbers.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if !decimal(s[1:]) {
			return "'" + s
		}
	}
	return s
}

// decimal reports whether s is digits with at most one inner decimal point.
func decimal(s string) bool {
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}
