package demo

import (
	"context"
	"testing"

	"cla/governance/debate"
	"cla/internal/testdb"
)

func TestDemoOpensFishAndRiceWithArgumentsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"produits-de-la-peche", "riz-de-camargue"} {
		d, err := debate.DebateBySlug(ctx, db, co.ID, slug)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != debate.DebateOpen || d.SynthesisHTML == "" {
			t.Errorf("%s: state %s, synthesis %q", slug, d.State, d.SynthesisHTML)
		}
		args, err := debate.DebateArguments(ctx, db, co.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		n, replies := 0, 0
		for _, a := range args {
			n++
			replies += len(a.Replies)
			if !a.IsDemo || a.BodyHTML == "" {
				t.Errorf("%s: argument %d not a rendered demo argument", slug, a.ID)
			}
		}
		if n != 4 || replies != 1 {
			t.Errorf("%s: %d arguments and %d replies after loading twice, want 4 and 1", slug, n, replies)
		}
		items, err := debate.DebateItems(ctx, db, co.ID, d.ID)
		if err != nil || len(items) != 1 || items[0].Slug != slug {
			t.Errorf("%s: linked items %+v %v", slug, items, err)
		}
		props, err := debate.DebateProposals(ctx, db, co.ID, d.ID)
		if err != nil || len(props) != 1 {
			t.Errorf("%s: linked proposals %+v %v", slug, props, err)
		}
	}
	backlog, err := debate.Backlog(ctx, db, co.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(backlog) != len(demoDebates)-2 {
		t.Errorf("backlog has %d requested debates, want %d", len(backlog), len(demoDebates)-2)
	}
}
