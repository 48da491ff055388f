package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cla/internal/database"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// The instance's commands on a fresh database (no demo): operator create and
// remove, council create with its bad inputs, and admin create once a council
// exists.
func TestOperatorAndCouncilCommandsOnAFreshInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.URL(t)
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cla := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--database-url", dbURL, "--base-url", "https://cla.example.org"), &out, &errOut)
		return out.String(), err
	}
	councils := func() int {
		n, err := db.NewSelect().Table("councils").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if _, err := cla("admin", "create", "--email", "x@example.org", "--name", "X"); err == nil || !strings.Contains(err.Error(), "cla council create") {
		t.Errorf("admin create without council: %v", err)
	}
	out, err := cla("operator", "create", "--email", "Op@Example.org", "--name", "Opératrice")
	if err != nil || !regexp.MustCompile(`https://cla\.example\.org/mot-de-passe/[A-Za-z0-9_-]{43}\n`).MatchString(out) ||
		!strings.Contains(out, "/instance/connexion") {
		t.Fatalf("operator create: %v %q", err, out)
	}
	if _, err := cla("operator", "create", "--email", "op @example.org", "--name", "X"); err == nil || !strings.Contains(err.Error(), "espace") {
		t.Errorf("operator email with a space: %v", err)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--slug", "Conseil-A", "--name", "A", "--host", "a.example.org", "--admin-email", "a@example.org"}, "--slug"},
		{[]string{"--slug", "conseil-é", "--name", "A", "--host", "a.example.org", "--admin-email", "a@example.org"}, "--slug"},
		{[]string{"--slug", "conseil-a", "--name", "A", "--host", "a.example.org:8080", "--admin-email", "a@example.org"}, "port"},
		{[]string{"--slug", "conseil-a", "--name", "A", "--host", "a.example.org", "--admin-email", "a dmin@example.org"}, "--admin-email"},
		{[]string{"--slug", "conseil-a", "--name", "A", "--host", "a.example.org", "--admin-email", "a@example.org", "--timezone", "Mars/Olympus"}, "--timezone"},
		{[]string{"--slug", "conseil-a", "--name", "A", "--host", "a.example.org", "--admin-email", "a@example.org", "--start", "file"}, "--file"},
	} {
		if _, err := cla(append([]string{"council", "create"}, bad.args...)...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("council create %v: %v, want %q", bad.args, err, bad.want)
		}
	}
	if n := councils(); n != 0 {
		t.Fatalf("refused creations made %d councils", n)
	}

	out, err = cla("council", "create", "--slug", "conseil-a", "--name", "Conseil A", "--host", "a.example.org", "--host", "www.a.example.org",
		"--admin-email", "admin-a@example.org", "--start", "model", "--commune", "Dieulefit")
	if err != nil {
		t.Fatalf("council create: %v %q", err, out)
	}
	link := regexp.MustCompile(`https://a\.example\.org(/invitation/[A-Za-z0-9_-]{43})\n`).FindStringSubmatch(out)
	if link == nil || !strings.Contains(out, "conseil par défaut") {
		t.Fatalf("no invitation link on the council's host: %q", out)
	}
	if _, err := cla("council", "create", "--slug", "conseil-a", "--name", "Autre", "--host", "autre.example.org", "--admin-email", "b@example.org"); err == nil ||
		!strings.Contains(err.Error(), "rien n'a été créé") {
		t.Errorf("duplicate slug: %v", err)
	}
	if _, err := cla("council", "create", "--slug", "conseil-b", "--name", "B", "--host", "www.a.example.org", "--admin-email", "b@example.org"); err == nil ||
		!strings.Contains(err.Error(), "Conseil A") {
		t.Errorf("taken host: %v", err)
	}
	if n := councils(); n != 1 {
		t.Fatalf("%d councils after refused duplicates, want 1", n)
	}
	// The first admin's link works on the council's host.
	app := newAppOver(t, db)
	c := webtest.New(t, app)
	c.Host = "a.example.org"
	if resp, body := c.Get(link[1]); resp.StatusCode != 200 || !strings.Contains(body, "Conseil A") {
		t.Errorf("invitation page: %d", resp.StatusCode)
	}

	// admin create picks the only council; with several, a wrong --council lists them.
	if out, err := cla("admin", "create", "--email", "fac@example.org", "--name", "Fac", "--role", "facilitator"); err != nil || !strings.Contains(out, "/mot-de-passe/") {
		t.Errorf("admin create with one council: %v %q", err, out)
	}
	if _, err := cla("council", "create", "--slug", "conseil-b", "--name", "Conseil B", "--host", "b.example.org", "--admin-email", "b@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := cla("admin", "create", "--email", "y@example.org", "--name", "Y", "--council", "nulle-part"); err == nil ||
		!strings.Contains(err.Error(), "conseil-a (Conseil A)") || !strings.Contains(err.Error(), "conseil-b (Conseil B)") {
		t.Errorf("wrong --council: %v", err)
	}
	if out, err := cla("admin", "create", "--email", "y@example.org", "--name", "Y", "--council", "conseil-b"); err != nil || !strings.Contains(out, "/mot-de-passe/") {
		t.Errorf("admin create --council conseil-b: %v", err)
	}

	// From a file: council A's exchange file starts council D; a file that is
	// not an exchange file is refused with its problems and creates nothing.
	resp, exported := c.Get("/api/v1/export")
	if resp.StatusCode != 200 {
		t.Fatalf("export of council A: %d", resp.StatusCode)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "a.json"), filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"format":"cla-exchange","version":99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cla("council", "create", "--slug", "conseil-e", "--name", "E", "--host", "e.example.org", "--admin-email", "e@example.org",
		"--start", "file", "--file", bad); err == nil || !strings.Contains(err.Error(), "refusé") || !strings.Contains(err.Error(), "version") {
		t.Errorf("bad exchange file: %v", err)
	}
	if n := councils(); n != 2 {
		t.Fatalf("%d councils after a refused file, want 2", n)
	}
	if out, err := cla("council", "create", "--slug", "conseil-d", "--name", "Conseil D", "--host", "d.example.org", "--admin-email", "d@example.org",
		"--start", "file", "--file", good); err != nil {
		t.Fatalf("council create from A's file: %v %q", err, out)
	}
	c.Host = "d.example.org"
	if resp, body := c.Get("/boussole"); resp.StatusCode != 200 || !strings.Contains(body, "Conseil A") {
		t.Errorf("council D's boussole does not say it came from A: %d", resp.StatusCode)
	}
	c.Host = "a.example.org"

	out, err = cla("operator", "remove", "--email", "op@example.org")
	if err != nil || !strings.Contains(out, "n'est plus") {
		t.Errorf("operator remove: %v %q", err, out)
	}
	if out, err := cla("operator", "remove", "--email", "op@example.org"); err != nil || !strings.Contains(out, "rien n'a changé") {
		t.Errorf("operator remove twice: %v %q", err, out)
	}
}
