// Package siret checks French establishment numbers (SIRET) wherever one is
// entered: a shop's application, the search of the payment tool's partners.
package siret

import "strings"

// Valid reports whether s is 14 digits with a valid checksum: the Luhn key,
// or for La Poste's establishments (SIREN 356000000) a digit sum that is a
// multiple of 5 (INSEE's published exception).
func Valid(s string) bool {
	if len(s) != 14 {
		return false
	}
	sum, plain := 0, 0
	for i := 0; i < 14; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		plain += d
		// Luhn from the right: every second digit, counting the last as first.
		if (14-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if sum%10 == 0 {
		return true
	}
	return strings.HasPrefix(s, "356000000") && plain%5 == 0
}

// Normalize drops the spaces, dots and dashes people type in a SIRET.
func Normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// LooksLike reports whether s, once normalized, is 14 digits: what a person
// typed as a SIRET (valid or not), rather than a name.
func LooksLike(s string) bool {
	n := Normalize(s)
	return len(n) == 14 && strings.Trim(n, "0123456789") == ""
}
