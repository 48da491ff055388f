package catalog_test

import (
	"reflect"
	"testing"

	"cla/catalog"
)

func TestDiffListsExactlyWhatChanged(t *testing.T) {
	a := &catalog.Snapshot{
		Items: []catalog.SnapshotItem{
			{Slug: "riz", Name: "Riz de Camargue", Status: catalog.DebatSouhaite},
			{Slug: "pain", Name: "Pain", Status: catalog.Conventionne},
			{Slug: "kombucha", Name: "Kombucha", Status: catalog.DebatSouhaite},
		},
		Shops: []catalog.SnapshotShop{
			{Slug: "lavoir", Name: "Marché du Lavoir", Status: catalog.ShopConventionne, Categories: []string{"pain"}},
			{Slug: "fournil", Name: "Fournil", Status: catalog.ShopConventionne},
		},
	}
	b := &catalog.Snapshot{
		Items: []catalog.SnapshotItem{
			{Slug: "riz", Name: "Riz de Camargue", Status: catalog.SousConditions, Conditions: "Bio uniquement", ReviewOn: "2026-03-01"},
			{Slug: "pain", Name: "Pain", Status: catalog.Conventionne},
			{Slug: "tofu", Name: "Tofu", Status: catalog.Conventionne},
		},
		Shops: []catalog.SnapshotShop{
			{Slug: "lavoir", Name: "Marché du Lavoir", Status: catalog.ShopConventionne, Categories: []string{"pain", "riz"}},
			{Slug: "fournil", Name: "Fournil des Comètes", Status: catalog.ShopSuspendu},
		},
	}
	want := []catalog.DiffLine{
		{Object: "item", Slug: "riz", Name: "Riz de Camargue", Action: "modification", Changes: []catalog.FieldDiff{
			{"Statut", catalog.DebatSouhaite.Label(), catalog.SousConditions.Label()},
			{"Conditions", "", "Bio uniquement"},
			{"Date de réexamen", "", "2026-03-01"},
		}},
		{Object: "item", Slug: "tofu", Name: "Tofu", Action: "ajout", Changes: []catalog.FieldDiff{{"Statut", "", catalog.Conventionne.Label()}}},
		{Object: "item", Slug: "kombucha", Name: "Kombucha", Action: "retrait", Changes: []catalog.FieldDiff{{"Statut", catalog.DebatSouhaite.Label(), ""}}},
		{Object: "shop", Slug: "lavoir", Name: "Marché du Lavoir", Action: "modification", Changes: []catalog.FieldDiff{{"Catégories vendues", "pain", "pain, riz"}}},
		{Object: "shop", Slug: "fournil", Name: "Fournil des Comètes", Action: "modification", Changes: []catalog.FieldDiff{
			{"Statut", catalog.ShopConventionne.Label(), catalog.ShopSuspendu.Label()},
			{"Nom", "Fournil", "Fournil des Comètes"},
		}},
	}
	if got := catalog.Diff(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("Diff:\n got %+v\nwant %+v", got, want)
	}
	if got := catalog.Diff(b, b); len(got) != 0 {
		t.Errorf("a version compared with itself: %+v", got)
	}
	if got := catalog.Diff(nil, b); len(got) != 5 || got[0].Action != "ajout" {
		t.Errorf("from nothing, everything is added: %+v", got)
	}
}
