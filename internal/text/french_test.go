package text

import "testing"

func TestDe(t *testing.T) {
	for in, want := range map[string]string{
		"Épicerie le Panier":   "d'Épicerie le Panier",
		"odette@example.org":   "d'odette@example.org",
		"Lucas Morel":          "de Lucas Morel",
		"Hélène":               "d'Hélène",
		"haricots secs":        "de haricots secs",
		"Œufs":                 "d'Œufs",
		"yaourts":              "de yaourts",
		"12 producteurs":       "de 12 producteurs",
		"":                     "",
		"Ulysse et Compagnie":  "d'Ulysse et Compagnie",
		"Marché du Lavoir":     "de Marché du Lavoir",
		"agriculture locale":   "d'agriculture locale",
		"Fournil des Comètes":  "de Fournil des Comètes",
		"île":                  "d'île",
		"huile d'olive":        "d'huile d'olive",
		"Hors catégorie":       "de Hors catégorie",
		"accessibilité : prix": "d'accessibilité : prix",
	} {
		if got := De(in); got != want {
			t.Errorf("De(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Le("la", "accessibilité"); got != "l'accessibilité" {
		t.Errorf("Le = %q", got)
	}
	if got := Le("le", "riz"); got != "le riz" {
		t.Errorf("Le = %q", got)
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 abstention"}, {1, "1 abstention"}, {2, "2 abstentions"}, {6, "6 abstentions"}} {
		if got := Count(c.n, "abstention", "abstentions"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Plural(1, "excusé·e", "excusé·es"); got != "excusé·e" {
		t.Errorf("Plural(1) = %q", got)
	}
	if got := Sentence([]string{"a", "b", "c"}); got != "a, b et c" {
		t.Errorf("Sentence = %q", got)
	}
}
