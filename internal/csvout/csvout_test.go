package csvout_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"cla/internal/csvout"
)

func TestCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example","x")`: `'=HYPERLINK("http://evil.example","x")`,
		"+33 4 75 46 00 00":                     "'+33 4 75 46 00 00",
		"-2+3+cmd|' /C calc'!A0":                "'-2+3+cmd|' /C calc'!A0",
		"@SUM(A1:A9)":                           "'@SUM(A1:A9)",
		"\t=1":                                  "'\t=1",
		"\r=1":                                  "'\r=1",
		"-":                                     "'-",
		"-1.":                                   "'-1.",
		"-.5":                                   "'-.5",
		"-1e5":                                  "'-1e5",
		"-1.55":                                 "-1.55",
		"-12":                                   "-12",
		"44.52":                                 "44.52",
		"":                                      "",
		"Épicerie = bonheur":                    "Épicerie = bonheur",
		"'déjà cité'":                           "'déjà cité'",
	} {
		if got := csvout.Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterNeutralisesEveryCell(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := csvout.NewWriter(&buf, true)
	_ = w.Write([]string{"name", "phone"})
	_ = w.Write([]string{"=1+1", "-1.5"})
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "name,phone\r\n'=1+1,-1.5\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	rs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || rs[1][0] != "'=1+1" {
		t.Errorf("read back %q %v", rs, err)
	}
}
