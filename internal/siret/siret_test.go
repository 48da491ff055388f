package siret

import "testing"

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"73282932000074": true,  // INSEE's example (Luhn)
		"73282932000075": false, // last digit changed
		"35600000000001": true,  // La Poste: digit sum multiple of 5, Luhn not
		"35600000000002": false,
		"7328293200007":  false, // 13 digits
		"7328293200007a": false,
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
	if n := Normalize(" 732 829 320.00074 "); n != "73282932000074" || !LooksLike("732 829 320 00075") || LooksLike("Fournil") {
		t.Errorf("Normalize/LooksLike: %q", n)
	}
}
