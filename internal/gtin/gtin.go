// Package gtin recognises the product codes a till scans or a cashier types:
//
//   - GTINs, the numbers under barcodes: GTIN-8 (EAN-8), GTIN-12 (UPC-A),
//     GTIN-13 (EAN-13) and GTIN-14, whose last digit is a check digit (GS1's
//     modulo 10: from the right, digits weighted 3, 1, 3, 1…);
//   - PLU codes, the stickers on loose fruit and vegetables (IFPS): 4 digits
//     from 3000 to 4999; 5 digits for the organic version (9 followed by the
//     4-digit code) or the newer 83000–84999 series.
//
// GS1 compares GTINs of different lengths as GTIN-14 (left-padded with
// zeros): the EAN-13 0012345678905 and the UPC-A 012345678905 are one
// product. Key gives that form, so that a shop cannot list one product twice.
package gtin

import (
	"strings"

	"cla/internal/apperr"
)

// Kind is the kind of a code.
type Kind string

// The kinds of code.
const (
	GTIN8  Kind = "gtin8"
	GTIN12 Kind = "gtin12"
	GTIN13 Kind = "gtin13"
	GTIN14 Kind = "gtin14"
	PLU    Kind = "plu"
)

// Label is the kind's usual name, in French texts.
func (k Kind) Label() string {
	switch k {
	case GTIN8:
		return "EAN-8"
	case GTIN12:
		return "UPC-A"
	case GTIN13:
		return "EAN-13"
	case GTIN14:
		return "GTIN-14"
	case PLU:
		return "PLU"
	}
	return string(k)
}

// Code is a recognised product code.
type Code struct {
	Kind   Kind
	Digits string
}

func (c Code) String() string { return c.Digits }

// Key identifies the product: a GTIN as 14 digits (GS1's comparison form), a
// PLU as "plu:" and its digits (a PLU and a GTIN never collide).
func (c Code) Key() string {
	if c.Kind == PLU {
		return "plu:" + c.Digits
	}
	return strings.Repeat("0", 14-len(c.Digits)) + c.Digits
}

// Organic reports whether a PLU code marks organic produce (prefix 9).
func (c Code) Organic() bool { return c.Kind == PLU && len(c.Digits) == 5 && c.Digits[0] == '9' }

// RestrictedCirculation reports whether a GTIN is a number for use inside a
// shop or a company, not a product's worldwide identity: GS1 prefixes 02, 04
// and 20–29 (weighed items with their price or weight inside, store codes),
// and EAN-8 codes starting with 0 or 2. Two shops' identical such codes need
// not be the same product.
func (c Code) RestrictedCirculation() bool {
	switch c.Kind {
	case GTIN8:
		return c.Digits[0] == '0' || c.Digits[0] == '2'
	case GTIN12, GTIN13:
		k := c.Key()[1:] // the 13-digit form
		return k[0] == '2' || k[:2] == "02" || k[:2] == "04"
	}
	return false
}

// CheckDigit returns the GS1 check digit of body (the code without its last
// digit), or false if body holds anything but digits.
func CheckDigit(body string) (byte, bool) {
	sum := 0
	for i := 0; i < len(body); i++ {
		c := body[len(body)-1-i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int(c - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10), true
}

// The French messages of Parse.
const (
	msgEmpty  = "Indiquez le code : les chiffres sous le code-barres, ou le code PLU de l'étiquette."
	msgDigits = "Un code ne contient que des chiffres (les espaces et tirets sont ignorés)."
	msgLength = "Un code-barres GTIN/EAN compte 8, 12, 13 ou 14 chiffres ; un code PLU de fruits et légumes, 4 ou 5."
	msgZero   = "Ce code ne désigne aucun produit (il ne compte que des zéros)."
	msgPLU    = "Un code PLU compte 4 chiffres de 3000 à 4999, ou 5 chiffres : 9 suivi du code à 4 chiffres (bio), ou de 83000 à 84999."
)

// Parse recognises s (spaces, non-breaking spaces and hyphens ignored) as a
// GTIN with a correct check digit or a PLU code. Its error is an
// *apperr.Error with code Invalid and a French message for the form field.
func Parse(s string) (Code, error) {
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' || r == '\u202f' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if d == "" {
		return Code{}, apperr.New(apperr.Invalid, msgEmpty)
	}
	if strings.Trim(d, "0123456789") != "" {
		return Code{}, apperr.New(apperr.Invalid, msgDigits)
	}
	var k Kind
	switch len(d) {
	case 4, 5:
		if !validPLU(d) {
			return Code{}, apperr.New(apperr.Invalid, msgPLU)
		}
		return Code{Kind: PLU, Digits: d}, nil
	case 8:
		k = GTIN8
	case 12:
		k = GTIN12
	case 13:
		k = GTIN13
	case 14:
		k = GTIN14
	default:
		return Code{}, apperr.New(apperr.Invalid, msgLength)
	}
	if strings.Trim(d[:len(d)-1], "0") == "" {
		return Code{}, apperr.New(apperr.Invalid, msgZero)
	}
	if want, _ := CheckDigit(d[:len(d)-1]); d[len(d)-1] != want {
		return Code{}, apperr.New(apperr.Invalid,
			"La clé de contrôle (le dernier chiffre) de ce code %s ne correspond pas aux autres chiffres : vérifiez-les.", k.Label())
	}
	return Code{Kind: k, Digits: d}, nil
}

// Valid reports whether s is a GTIN with a correct check digit or a PLU code.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// validPLU checks the IFPS ranges: 3000–4999, 93000–94999, 83000–84999.
func validPLU(d string) bool {
	if len(d) == 5 {
		if d[0] != '9' && d[0] != '8' {
			return false
		}
		d = d[1:]
	}
	return d[0] == '3' || d[0] == '4'
}
