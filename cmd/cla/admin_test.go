package main

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"cla/demo"
	"cla/internal/database"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

func TestAdminCreatePrintsAOneTimeSetPasswordLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.URL(t)
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	bad := run(ctx, []string{"admin", "create", "--database-url", dbURL, "--email", "pas-une-adresse", "--name", "X"}, &out, &errOut)
	if bad == nil || !strings.Contains(bad.Error(), "--email") {
		t.Errorf("invalid email accepted: %v", bad)
	}
	if err := run(ctx, []string{"admin", "create", "--database-url", dbURL, "--base-url", "https://cla.example.org",
		"--email", "Operatrice@Example.org", "--name", "Opératrice"}, &out, &errOut); err != nil {
		t.Fatalf("admin create: %v (%s)", err, errOut.String())
	}
	m := regexp.MustCompile(`https://cla\.example\.org(/mot-de-passe/[A-Za-z0-9_-]{43})`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no link printed: %q", out.String())
	}
	app := newAppOver(t, db)
	c := webtest.New(t, app)
	if resp, body := c.Get(m[1]); resp.StatusCode != 200 || !strings.Contains(body, "Choisir un mot de passe") {
		t.Fatalf("GET link: %d", resp.StatusCode)
	}
	if resp, body := c.PostForm(m[1], url.Values{"password": {"azertyuiop"}}); resp.StatusCode != 422 || !strings.Contains(body, "trop courant") {
		t.Errorf("common password: %d", resp.StatusCode)
	}
	if resp, _ := c.PostForm(m[1], url.Values{"password": {"un jardin partagé à Dieulefit"}}); resp.StatusCode != 303 {
		t.Fatalf("set password: %d", resp.StatusCode)
	}
	if resp, body := c.Get(m[1]); resp.StatusCode != 409 || !strings.Contains(body, "déjà été utilisé") {
		t.Errorf("re-used link: %d", resp.StatusCode)
	}
	c.SignInAs("operatrice@example.org", "un jardin partagé à Dieulefit")
	if resp, body := c.Get("/gestion/membres"); resp.StatusCode != 200 || !strings.Contains(body, "Opératrice") {
		t.Errorf("operator cannot manage members: %d", resp.StatusCode)
	}

	// The trail verifies, then a manual UPDATE of a past entry is found.
	out.Reset()
	if err := run(ctx, []string{"audit", "verify", "--database-url", dbURL}, &out, &errOut); err != nil || !strings.Contains(out.String(), "OK") {
		t.Fatalf("audit verify on a sound trail: %v %q", err, out.String())
	}
	var id int64
	if err := db.NewRaw("SELECT min(id) FROM audit_log").Scan(ctx, &id); err != nil || id == 0 {
		t.Fatalf("no audit entry: %v", err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
		UPDATE audit_log SET summary = summary || ' (falsifié)' WHERE id = `+strconv.FormatInt(id, 10)); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"audit", "verify", "--database-url", dbURL}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "entry "+strconv.FormatInt(id, 10)) {
		t.Errorf("audit verify after tampering with entry %d: %v", id, err)
	}
}
