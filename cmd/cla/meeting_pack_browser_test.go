package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"cla/demo"
	"cla/governance/assembly"
	"cla/internal/browsertest"
	"cla/internal/testdb"
)

// The meeting pack prints in headless Chromium as one A4 document: the agenda,
// then each proposal on its own page with its radar and score profile, without
// the site's navigation.
func TestMeetingPackPrintsToPDF(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := assembly.Meetings(ctx, db, co.ID)
	if err != nil || len(ms) == 0 {
		t.Fatal(err)
	}
	next := ms[0]
	base := listen(t, newAppOver(t, db))
	b := browsertest.Start(t)
	p := b.NewStrictPage(t)
	status, err := p.Navigate(base + assembly.MeetingPath(next.ID) + "/dossier")
	if err != nil || status != 200 {
		t.Fatalf("pack: %d %v", status, err)
	}
	if problems := p.Problems(); len(problems) > 0 {
		t.Fatalf("browser problems: %v", problems)
	}
	pdf, err := p.PDF()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dossier.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("pdfinfo", file).Output()
	if err != nil {
		t.Fatalf("pdfinfo (poppler-utils): %v", err)
	}
	pages := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(string(info))
	size := regexp.MustCompile(`(?m)^Page size:\s+([\d.]+) x ([\d.]+)`).FindStringSubmatch(string(info))
	n := 0
	if pages != nil {
		n, _ = strconv.Atoi(pages[1])
	}
	if n < 2 {
		t.Errorf("pack prints on %d page(s), want the agenda and one page per proposal", n)
	}
	// A4 is 595.28 x 841.89 points; Chromium rounds to its pixel grid.
	if size == nil || !nearPoints(size[1], 595.28) || !nearPoints(size[2], 841.89) {
		t.Errorf("page size %v, want A4", size)
	}
	text, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(text), "Dossier de séance") || !strings.Contains(string(text), "Profil des scores") {
		t.Errorf("pack text misses its parts:\n%.2000s", text)
	}
	if strings.Contains(string(text), "Aller au contenu") || strings.Contains(string(text), "Points de vente") {
		t.Errorf("pack prints the site's navigation:\n%.1000s", text)
	}
	if keep := os.Getenv("CLA_PACK_DIR"); keep != "" {
		_ = os.WriteFile(filepath.Join(keep, "dossier.pdf"), pdf, 0o600)
	}
}

func nearPoints(s string, want float64) bool {
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f > want-1.5 && f < want+1.5
}
