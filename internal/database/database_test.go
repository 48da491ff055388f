package database_test

import (
	"context"
	"strings"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"cla/internal/database"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestOpenNamesItsConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	if err := db.NewRaw("SELECT current_setting('application_name')").Scan(ctx, &name); err != nil || name != database.ApplicationName {
		t.Errorf("application_name = %q (%v), want %q", name, err, database.ApplicationName)
	}
	// An application_name in the URL wins.
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	named, err := database.Open(ctx, url+sep+"application_name=cla-worker")
	if err != nil {
		t.Fatal(err)
	}
	defer named.Close()
	if err := named.NewRaw("SELECT current_setting('application_name')").Scan(ctx, &name); err != nil || name != "cla-worker" {
		t.Errorf("application_name from the URL = %q (%v)", name, err)
	}
}

func TestOpenRejectsBadURLsInOneLine(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"postgres://%%bad", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"} {
		_, err := database.Open(context.Background(), url)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Open(%q): %v", url, err)
		}
	}
}

// River's tables (internal/jobs) come with the migrations, in every database
// testdb clones; migrating again applies nothing.
func TestMigrateInstallsRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	v, err := database.RiverVersion(ctx, db)
	if err != nil || v < 6 {
		t.Fatalf("River schema version %d (%v), want the version of the River in go.mod", v, err)
	}
	var tables int
	if err := db.NewRaw("SELECT count(*) FROM pg_tables WHERE tablename IN ('river_job', 'river_leader', 'river_queue')").Scan(ctx, &tables); err != nil || tables != 3 {
		t.Errorf("River tables: %d (%v)", tables, err)
	}
	if n, err := database.Migrate(ctx, db); err != nil || n != 0 {
		t.Errorf("second Migrate applied %d (%v), want 0", n, err)
	}
	// Without River's schema, River's versions count among those applied.
	m, err := rivermigrate.New(riverdatabasesql.New(db.DB), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		t.Fatal(err)
	}
	if n, err := database.Migrate(ctx, db); err != nil || n < 6 {
		t.Errorf("Migrate after dropping River's tables applied %d (%v)", n, err)
	}
}
