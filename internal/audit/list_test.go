package audit_test

import (
	"context"
	"slices"
	"testing"

	"cla/internal/audit"
	"cla/internal/testdb"
)

// List pages one council's trail newest first and applies each filter;
// ObjectTypes names the types of that council only.
func TestListFiltersAndPagesOneCouncil(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	var co, other int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('conseil-a', 'Conseil a') RETURNING id").Scan(ctx, &co); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('conseil-b', 'Conseil b') RETURNING id").Scan(ctx, &other); err != nil {
		t.Fatal(err)
	}
	camille, dom := int64(7), int64(8)
	add := func(council int64, actor *int64, typ, id string) {
		t.Helper()
		e := audit.Entry{CouncilID: &council, ActorID: actor, ActorName: "x", Action: typ + ".edit", ObjectType: typ, ObjectID: id, Summary: "s"}
		if err := audit.Record(ctx, db, e, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	add(co, &camille, "register_item", "riz")
	add(co, &dom, "register_item", "pates")
	add(co, &camille, "shop", "1")
	add(other, &camille, "debate", "9")

	ids := func(es []audit.Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ObjectID)
		}
		return out
	}
	all, more, err := audit.List(ctx, db, co, audit.Filter{})
	if err != nil || more || !slices.Equal(ids(all), []string{"1", "pates", "riz"}) {
		t.Fatalf("whole trail: %v more=%v %v", ids(all), more, err)
	}
	page, more, err := audit.List(ctx, db, co, audit.Filter{Limit: 2})
	if err != nil || !more || !slices.Equal(ids(page), []string{"1", "pates"}) {
		t.Fatalf("first page: %v more=%v %v", ids(page), more, err)
	}
	rest, more, err := audit.List(ctx, db, co, audit.Filter{Limit: 2, Before: page[1].ID})
	if err != nil || more || !slices.Equal(ids(rest), []string{"riz"}) {
		t.Fatalf("older page: %v more=%v %v", ids(rest), more, err)
	}
	byActor, _, err := audit.List(ctx, db, co, audit.Filter{ActorID: camille})
	if err != nil || !slices.Equal(ids(byActor), []string{"1", "riz"}) {
		t.Fatalf("by actor: %v %v", ids(byActor), err)
	}
	byObject, _, err := audit.List(ctx, db, co, audit.Filter{ObjectType: "register_item", ObjectID: "riz"})
	if err != nil || !slices.Equal(ids(byObject), []string{"riz"}) {
		t.Fatalf("by object: %v %v", ids(byObject), err)
	}
	types, err := audit.ObjectTypes(ctx, db, co)
	if err != nil || !slices.Equal(types, []string{"register_item", "shop"}) {
		t.Fatalf("object types: %v %v", types, err)
	}
}
