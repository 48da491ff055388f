package gtin

import (
	"testing"

	"cla/internal/apperr"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		kind Kind
		key  string
		msg  string // "" when valid; a prefix of the French message otherwise
	}{
		// Published examples (GS1, Wikipedia) and real products.
		{"4006381333931", GTIN13, "04006381333931", ""},
		{"3017620422003", GTIN13, "03017620422003", ""},
		{"5901234123457", GTIN13, "05901234123457", ""},
		{"036000291452", GTIN12, "00036000291452", ""},
		{"96385074", GTIN8, "00000096385074", ""},
		{"73513537", GTIN8, "00000073513537", ""},
		{"10614141000415", GTIN14, "10614141000415", ""},
		{"00614141000418", GTIN14, "00614141000418", ""},
		{" 4 006381 333931 ", GTIN13, "04006381333931", ""},
		{"400-6381-333931", GTIN13, "04006381333931", ""},
		// One product, two lengths: one key.
		{"0012345678905", GTIN13, "00012345678905", ""},
		{"012345678905", GTIN12, "00012345678905", ""},
		// PLU codes.
		{"4011", PLU, "plu:4011", ""},
		{"3000", PLU, "plu:3000", ""},
		{"94011", PLU, "plu:94011", ""},
		{"83001", PLU, "plu:83001", ""},
		{"84999", PLU, "plu:84999", ""},

		{"4006381333932", "", "", "La clé de contrôle (le dernier chiffre) de ce code EAN-13"},
		{"4006381333913", "", "", "La clé de contrôle"}, // two digits swapped
		{"036000291453", "", "", "La clé de contrôle (le dernier chiffre) de ce code UPC-A"},
		{"96385075", "", "", "La clé de contrôle (le dernier chiffre) de ce code EAN-8"},
		{"10614141000416", "", "", "La clé de contrôle (le dernier chiffre) de ce code GTIN-14"},
		{"", "", "", msgEmpty},
		{"   ", "", "", msgEmpty},
		{"40063813339A1", "", "", msgDigits},
		{"４００６３８１３３３９３１", "", "", msgDigits}, // fullwidth digits are not what tills send
		{"123", "", "", msgLength},
		{"123456", "", "", msgLength},
		{"12345678901", "", "", msgLength},
		{"123456789012345", "", "", msgLength},
		{"00000000", "", "", msgZero},
		{"0000000000000", "", "", msgZero},
		{"2999", "", "", msgPLU},
		{"5000", "", "", msgPLU},
		{"0123", "", "", msgPLU},
		{"92999", "", "", msgPLU},
		{"95000", "", "", msgPLU},
		{"12345", "", "", msgPLU},
		{"85000", "", "", msgPLU},
	} {
		code, err := Parse(c.in)
		if c.msg == "" {
			if err != nil || code.Kind != c.kind || code.Key() != c.key {
				t.Errorf("Parse(%q) = %+v (key %s), %v; want %s %s", c.in, code, code.Key(), err, c.kind, c.key)
			}
			if !Valid(c.in) {
				t.Errorf("Valid(%q) = false", c.in)
			}
			continue
		}
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", c.in, code)
			continue
		}
		if apperr.CodeOf(err) != apperr.Invalid || len(apperr.MessageOf(err)) < len(c.msg) || apperr.MessageOf(err)[:len(c.msg)] != c.msg {
			t.Errorf("Parse(%q) = %v, want %q…", c.in, err, c.msg)
		}
		if Valid(c.in) {
			t.Errorf("Valid(%q) = true", c.in)
		}
	}
}

// TestCheckDigitCatchesEverySingleError: the GS1 check digit detects every
// single-digit error and every swap of adjacent digits that differ by other
// than 5.
func TestCheckDigitCatchesEverySingleError(t *testing.T) {
	t.Parallel()
	const good = "4006381333931"
	for i := 0; i < len(good); i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == good[i] {
				continue
			}
			bad := good[:i] + string(d) + good[i+1:]
			if Valid(bad) {
				t.Errorf("%s (digit %d changed) is accepted", bad, i)
			}
		}
		if i+1 < len(good) && good[i] != good[i+1] && absDiff(good[i], good[i+1]) != 5 {
			bad := good[:i] + string(good[i+1]) + string(good[i]) + good[i+2:]
			if Valid(bad) {
				t.Errorf("%s (digits %d and %d swapped) is accepted", bad, i, i+1)
			}
		}
	}
	if d, ok := CheckDigit("400638133393"); !ok || d != '1' {
		t.Errorf("CheckDigit = %c, %v", d, ok)
	}
	if _, ok := CheckDigit("40063x"); ok {
		t.Error("CheckDigit accepted a letter")
	}
}

func absDiff(a, b byte) byte {
	if a > b {
		return a - b
	}
	return b - a
}

func TestCodeProperties(t *testing.T) {
	t.Parallel()
	must := func(s string) Code {
		c, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		return c
	}
	if !must("94011").Organic() || must("4011").Organic() || must("83001").Organic() {
		t.Error("Organic: 9xxxx only")
	}
	for s, want := range map[string]bool{
		"2012345000018": true,  // weighed item, price inside
		"0212345000014": true,  // 02: variable measure
		"0412345000018": true,  // 04: inside a company
		"212345678909":  true,  // UPC number system 2 (02 in the 13-digit form)
		"02345673":      true,  // EAN-8 starting with 0
		"4006381333931": false, // a product's worldwide number
		"036000291452":  false,
		"96385074":      false,
	} {
		if got := must(s).RestrictedCirculation(); got != want {
			t.Errorf("RestrictedCirculation(%s) = %v, want %v", s, got, want)
		}
	}
	if GTIN12.Label() != "UPC-A" || PLU.Label() != "PLU" {
		t.Error("labels")
	}
}
