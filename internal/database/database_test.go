package database_test

import (
	"context"
	"strings"
	"testing"

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
