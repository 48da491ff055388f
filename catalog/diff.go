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
	items := diffEntries("item", a.Items, b.Items,
		func(it SnapshotItem) (string, string, Status) { return it.Slug, it.Name, it.Status },
		func(o, n SnapshotItem, field func(name, from, to string)) {
			field("Conditions", o.Conditions, n.Conditions)
			field("Date de réexamen", o.ReviewOn, n.ReviewOn)
			field("Raison", o.Reason, n.Reason)
		})
	shops := diffEntries("shop", a.Shops, b.Shops,
		func(s SnapshotShop) (string, string, ShopStatus) { return s.Slug, s.Name, s.Status },
		func(o, n SnapshotShop, field func(name, from, to string)) {
			field("Catégories vendues", strings.Join(o.Categories, ", "), strings.Join(n.Categories, ", "))
		})
	return append(items, shops...)
}

// diffEntries compares two lists of one kind of entry, keyed by slug: additions
// and changes in after's order, then removals. Status and name are compared for
// every kind; more compares the kind's own fields.
func diffEntries[T any, S interface{ Label() string }](object string, before, after []T,
	key func(T) (slug, name string, status S), more func(o, n T, field func(name, from, to string))) []DiffLine {
	var out []DiffLine
	old := make(map[string]T, len(before))
	for _, e := range before {
		slug, _, _ := key(e)
		old[slug] = e
	}
	kept := make(map[string]bool, len(after))
	for _, e := range after {
		slug, name, status := key(e)
		kept[slug] = true
		line := DiffLine{Object: object, Slug: slug, Name: name, Action: "modification"}
		o, ok := old[slug]
		if !ok {
			line.Action = "ajout"
			line.Changes = []FieldDiff{{"Statut", "", status.Label()}}
			out = append(out, line)
			continue
		}
		field := func(name, from, to string) {
			if from != to {
				line.Changes = append(line.Changes, FieldDiff{name, from, to})
			}
		}
		_, oldName, oldStatus := key(o)
		field("Statut", oldStatus.Label(), status.Label())
		more(o, e, field)
		field("Nom", oldName, name)
		if len(line.Changes) > 0 {
			out = append(out, line)
		}
	}
	for _, e := range before {
		if slug, name, status := key(e); !kept[slug] {
			out = append(out, DiffLine{Object: object, Slug: slug, Name: name, Action: "retrait",
				Changes: []FieldDiff{{"Statut", status.Label(), ""}}})
		}
	}
	return out
}
