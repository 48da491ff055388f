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

// DiffLine is one difference between two register versions.
type DiffLine struct {
	Object string // "item" or "shop"
	Slug   string
	Name   string
	Change string // "ajout", "retrait", "statut", "conditions", "échéance", "raison", "nom", "catégories"
	From   string
	To     string
}

// What names the line's change in French.
func (d DiffLine) What() string {
	switch d.Change {
	case "ajout":
		return "Ajouté"
	case "retrait":
		return "Retiré"
	case "statut":
		return "Statut"
	case "conditions":
		return "Conditions"
	case "échéance":
		return "Date de réexamen"
	case "raison":
		return "Raison"
	case "nom":
		return "Nom"
	case "catégories":
		return "Catégories vendues"
	}
	return d.Change
}

// Diff lists what changed from a to b (a may be nil: everything in b is new).
// Items come first, in b's register order, then shops.
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
		o, ok := oldItems[it.Slug]
		line := func(change, from, to string) {
			out = append(out, DiffLine{Object: "item", Slug: it.Slug, Name: it.Name, Change: change, From: from, To: to})
		}
		if !ok {
			line("ajout", "", it.Status.Label())
			continue
		}
		if o.Status != it.Status {
			line("statut", o.Status.Label(), it.Status.Label())
		}
		if o.Conditions != it.Conditions {
			line("conditions", o.Conditions, it.Conditions)
		}
		if o.ReviewOn != it.ReviewOn {
			line("échéance", o.ReviewOn, it.ReviewOn)
		}
		if o.Reason != it.Reason {
			line("raison", o.Reason, it.Reason)
		}
		if o.Name != it.Name {
			line("nom", o.Name, it.Name)
		}
	}
	for _, it := range a.Items {
		if !newItems[it.Slug] {
			out = append(out, DiffLine{Object: "item", Slug: it.Slug, Name: it.Name, Change: "retrait", From: it.Status.Label()})
		}
	}
	oldShops := make(map[string]SnapshotShop, len(a.Shops))
	for _, s := range a.Shops {
		oldShops[s.Slug] = s
	}
	newShops := make(map[string]bool, len(b.Shops))
	for _, s := range b.Shops {
		newShops[s.Slug] = true
		o, ok := oldShops[s.Slug]
		line := func(change, from, to string) {
			out = append(out, DiffLine{Object: "shop", Slug: s.Slug, Name: s.Name, Change: change, From: from, To: to})
		}
		if !ok {
			line("ajout", "", s.Status.Label())
			continue
		}
		if o.Status != s.Status {
			line("statut", o.Status.Label(), s.Status.Label())
		}
		if from, to := strings.Join(o.Categories, ", "), strings.Join(s.Categories, ", "); from != to {
			line("catégories", from, to)
		}
		if o.Name != s.Name {
			line("nom", o.Name, s.Name)
		}
	}
	for _, s := range a.Shops {
		if !newShops[s.Slug] {
			out = append(out, DiffLine{Object: "shop", Slug: s.Slug, Name: s.Name, Change: "retrait", From: s.Status.Label()})
		}
	}
	return out
}
