package catalog_test

import (
	"strings"
	"testing"

	"cla/catalog"
	"cla/internal/apperr"
)

func TestItemValidate(t *testing.T) {
	parent := int64(1)
	cases := []struct {
		name  string
		item  catalog.Item
		field string // "" means valid
	}{
		{"valid category", catalog.Item{Kind: catalog.Category, ParentID: &parent, Name: "Pain", Status: catalog.Conventionne}, ""},
		{"valid family", catalog.Item{Kind: catalog.Family, Name: "Boissons", Status: catalog.Conventionne}, ""},
		{"empty name", catalog.Item{Kind: catalog.Category, ParentID: &parent, Name: "   ", Status: catalog.Conventionne}, "name"},
		{"long name", catalog.Item{Kind: catalog.Category, ParentID: &parent, Name: strings.Repeat("é", 201), Status: catalog.Conventionne}, "name"},
		{"family with parent", catalog.Item{Kind: catalog.Family, ParentID: &parent, Name: "X", Status: catalog.Conventionne}, "parent"},
		{"product without parent", catalog.Item{Kind: catalog.Product, Name: "X", Status: catalog.Conventionne}, "parent"},
		{"unknown status", catalog.Item{Kind: catalog.Category, ParentID: &parent, Name: "X", Status: "peut-etre"}, "status"},
		{"conditions missing", catalog.Item{Kind: catalog.Category, ParentID: &parent, Name: "X", Status: catalog.SousConditions}, "conditions"},
		{"reason missing", catalog.Item{Kind: catalog.Category, ParentID: &parent, Name: "X", Status: catalog.NonConventionne, Reason: " "}, "reason"},
		{"unknown kind", catalog.Item{Kind: "aisle", Name: "X", Status: catalog.Conventionne}, "kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.item.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			fields := apperr.FieldsOf(err)
			if fields[tc.field] == "" {
				t.Fatalf("want a message for %q, got %v", tc.field, fields)
			}
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("want code invalid, got %s", apperr.CodeOf(err))
			}
		})
	}
}

func TestSlugFoldsAccentsAndPunctuation(t *testing.T) {
	for in, want := range map[string]string{
		"Œufs de caille":              "oeufs-de-caille",
		"Épicerie « Là-haut », Nyons": "epicerie-la-haut-nyons",
		"  !!  ":                      "element",
		strings.Repeat("ab ", 60):     strings.TrimRight(strings.Repeat("ab-", 34)[:100], "-"),
	} {
		if got := catalog.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
