package catalog

import (
	"encoding/json"
	"strings"
)

// Decode parses the version's snapshot.
func (v *Version) Decode() (*Snapshot, error) {
	s := new(Snapshot)
	if err := json.Unmarshal(v.Snapshot, s); err != nil {
		return nil, err
	}
	return s, nil
}

// DiffLine is what changed for one item or shop between two register versions.
type DiffLine struct {
	Object  string // "item" or "shop"
	Slug    string
	Name    string
	Action  string // "ajout", "retrait" or "modification"
	Changes []FieldDiff
}

// FieldDiff is one field's change.
type FieldDiff struct {
	Field string // French: "Statut", "Conditions", "Date de réexamen", "Raison", "Nom", "Catégories vendues"
	From  string
	To    string
}

// What names the line's action in French.
func (d DiffLine) What() string {
	switch d.Action {
	case "ajout":
		return "Ajouté"
	case "retrait":
		return "Retiré"
	}
	return "Modifié"
}

// Diff lists what changed from a to b (a may be nil: everything in b is new),
// one line per item or shop. Items come first, in b's register order, then shops.
func Diff(a, b *Snapshot) []DiffLine {
	if a == nil {
		a = &Snapshot{}
	}
	var out []DiffLine
	oldItems := make(map[string]SnapshotItem, len(a.Items))
	for _, it := range a.Items {
		oldItems[it.Slug] = it
	}
	newItems := make(map[string]bool, len(b.Items))
	for _, it := range b.Items {
		newItems[it.Slug] = true
		line := DiffLine{Object: "item", Slug: it.Slug, Name: it.Name, Action: "modification"}
		o, ok := oldItems[it.Slug]
		if !ok {
			line.Action = "ajout"
			line.Changes = []FieldDiff{{"Statut", "", it.Status.Label()}}
			out = append(out, line)
			continue
		}
		field := func(name, from, to string) {
			if from != to {
				line.Changes = append(line.Changes, FieldDiff{name, from, to})
			}
		}
		field("Statut", o.Status.Label(), it.Status.Label())
		field("Conditions", o.Conditions, it.Conditions)
		field("Date de réexamen", o.ReviewOn, it.ReviewOn)
		field("Raison", o.Reason, it.Reason)
		field("Nom", o.Name, it.Name)
		if len(line.Changes) > 0 {
			out = append(out, line)
		}
	}
	for _, it := range a.Items {
		if !newItems[it.Slug] {
			out = append(out, DiffLine{Object: "item", Slug: it.Slug, Name: it.Name, Action: "retrait",
				Changes: []FieldDiff{{"Statut", it.Status.Label(), ""}}})
		}
	}
	oldShops := make(map[string]SnapshotShop, len(a.Shops))
	for _, s := range a.Shops {
		oldShops[s.Slug] = s
	}
	newShops := make(map[string]bool, len(b.Shops))
	for _, s := range b.Shops {
		newShops[s.Slug] = true
		line := DiffLine{Object: "shop", Slug: s.Slug, Name: s.Name, Action: "modification"}
		o, ok := oldShops[s.Slug]
		if !ok {
			line.Action = "ajout"
			line.Changes = []FieldDiff{{"Statut", "", s.Status.Label()}}
			out = append(out, line)
			continue
		}
		field := func(name, from, to string) {
			if from != to {
				line.Changes = append(line.Changes, FieldDiff{name, from, to})
			}
		}
		field("Statut", o.Status.Label(), s.Status.Label())
		field("Catégories vendues", strings.Join(o.Categories, ", "), strings.Join(s.Categories, ", "))
		field("Nom", o.Name, s.Name)
		if len(line.Changes) > 0 {
			out = append(out, line)
		}
	}
	for _, s := range a.Shops {
		if !newShops[s.Slug] {
			out = append(out, DiffLine{Object: "shop", Slug: s.Slug, Name: s.Name, Action: "retrait",
				Changes: []FieldDiff{{"Statut", s.Status.Label(), ""}}})
		}
	}
	return out
}
