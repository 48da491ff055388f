package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cla/app/apptest"
	"cla/demo"
	"cla/governance/sortition"
	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
	"cla/internal/audit"
	"cla/internal/council"
	"cla/internal/mail/mailtest"
	"cla/internal/webtest"
)

// writeDraw publishes a draw of the sample population as draw.json.
func writeDraw(t *testing.T, c draw.Commitment, randomness string) (string, *draw.File) {
	t.Helper()
	h, err := c.Hash()
	if err != nil {
		t.Fatal(err)
	}
	rb, err := draw.RandomnessBytes(c.Source, randomness)
	if err != nil {
		t.Fatal(err)
	}
	res, err := draw.Run(&c, rb)
	if err != nil {
		t.Fatal(err)
	}
	f := &draw.File{Format: draw.FormatVersion, Commitment: c, CommitmentSHA256: hex.EncodeToString(h[:]), Randomness: randomness, Result: *res}
	path := filepath.Join(t.TempDir(), "draw.json")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, f
}

func verifyCmd(path string) (string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"sortition", "verify", path}, &out, &errb)
	return out.String(), err
}

// TestSortitionVerify: 12 seats among 200 volunteers with 3 strata; the
// command re-runs the published file and prints the same seats; one byte
// changed in the randomness or in the candidate list is reported.
func TestSortitionVerify(t *testing.T) {
	path, f := writeDraw(t, draw.Sample(200), "3 17 22 41 48 2 9")
	out, err := verifyCmd(path)
	if err != nil || !strings.Contains(out, "OK :") || !strings.Contains(out, "Sièges : "+strings.Join(f.Result.Selected, " ")) {
		t.Fatalf("published draw: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(path)
	for name, edit := range map[string][2]string{
		"randomness":     {`"randomness": "3 17 22 41 48 2 9"`, `"randomness": "3 17 22 41 48 2 8"`},
		"candidate list": {`"id": "V-0042"`, `"id": "V-0043x"`},
	} {
		changed := bytes.Replace(data, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(changed, data) {
			t.Fatalf("%s: %q not in the file", name, edit[0])
		}
		p := filepath.Join(t.TempDir(), "draw.json")
		os.WriteFile(p, changed, 0o600)
		out, err := verifyCmd(p)
		if err == nil || !strings.Contains(out, "DIFFÉRENCE siège") {
			t.Fatalf("%s changed: %v\n%s", name, err, out)
		}
		t.Logf("%s changed:\n%s", name, out)
	}
	if _, err := verifyCmd(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Fatal("a missing file verified")
	}
}

// TestSortitionVerifyDrand: a draw whose randomness is a published
// quicknet round verifies offline; a forged signature is reported.
func TestSortitionVerifyDrand(t *testing.T) {
	c := draw.Sample(200)
	c.Source = draw.Source{Kind: draw.SourceDrand, Chain: drand.Quicknet.Hash, Round: 32281667, Description: "drand quicknet"}
	sig := "b0f5ae301358ff87a9d3dd539ed4a07c0148b1ab4f7b61a8ca43c7e9ca7ca9553e4faae9188deb30b2cd1a7f447e3e5b"
	path, _ := writeDraw(t, c, sig)
	out, err := verifyCmd(path)
	if err != nil || !strings.Contains(out, "tour 32281667") {
		t.Fatalf("drand draw: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(path)
	forged := bytes.Replace(data, []byte(sig), []byte(sig[:len(sig)-1]+"a"), 1)
	p := filepath.Join(t.TempDir(), "draw.json")
	os.WriteFile(p, forged, 0o600)
	out, err = verifyCmd(p)
	if err == nil || !strings.Contains(out, "DIFFÉRENCE hasard") {
		t.Fatalf("forged signature: %v\n%s", err, out)
	}
}

// TestSortitionCandidacyIsConfirmedByMail: with SMTP, the candidacy's
// private link is mailed and only its visit confirms the address (double
// opt-in); the form's answer shows no link.
func TestSortitionCandidacyIsConfirmedByMail(t *testing.T) {
	t.Parallel()
	_, db := newTestApp(t)
	ctx := context.Background()
	co, err := council.BySlug(ctx, db, demo.CouncilSlug)
	if err != nil {
		t.Fatal(err)
	}
	s := draw.Sample(0)
	if _, err := sortition.CreateDraw(ctx, db, audit.Actor{}, co.ID, sortition.DrawInput{Slug: "ouvert", Title: "Ouvert", Seats: 2, Reserves: 1, TermMonths: 12,
		Categories: s.Categories, Source: s.Source, ClosesAt: time.Now().Add(time.Hour)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	a := apptest.New(t, db, (&Config{SMTPAddr: srv.Addr, SMTPFrom: "cla@example.org", BaseURL: "https://cla.example.org"}).App())
	web := webtest.New(t, a)
	web.Get("/tirages/ouvert/candidature")
	resp, body := web.PostForm("/tirages/ouvert/candidature", url.Values{"name": {"Zoé"}, "email": {"Zoe@Example.org"}, "commune": {"Dieulefit"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/tirages/ouvert" {
		t.Fatalf("candidacy: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, body := web.Get("/tirages/ouvert"); !strings.Contains(body, "Un courriel part à zoe@example.org") {
		t.Error("no notice that the mail leaves")
	}
	// The mail is a job queued with the candidacy (the job runner, not
	// started here, sends it: internal/mail's tests cover delivery).
	var text, subject string
	if err := db.NewRaw(`SELECT args->'message'->>'text', args->'message'->>'subject' FROM river_job
		WHERE kind = 'mail.send' AND args->'message'->'to'->>'email' = 'zoe@example.org'`).Scan(ctx, &text, &subject); err != nil {
		t.Fatalf("no confirmation mail queued: %v", err)
	}
	i := strings.Index(text, "https://cla.example.org/tirage-candidature/")
	if i < 0 || subject != "Confirmez votre candidature au tirage au sort" {
		t.Fatalf("mail %q: %q", subject, text)
	}
	link := strings.Fields(text[i+len("https://cla.example.org"):])[0]
	var confirmed int
	db.NewRaw("SELECT count(*) FROM sortition_volunteers WHERE confirmed_at IS NOT NULL AND email = 'zoe@example.org'").Scan(ctx, &confirmed)
	if confirmed != 0 {
		t.Fatal("confirmed before the link was opened")
	}
	if resp, _ := web.Get(link); resp.StatusCode != 200 {
		t.Fatalf("link: %d", resp.StatusCode)
	}
	db.NewRaw("SELECT count(*) FROM sortition_volunteers WHERE confirmed_at IS NOT NULL AND email = 'zoe@example.org'").Scan(ctx, &confirmed)
	if confirmed != 1 {
		t.Fatal("the mailed link did not confirm the candidacy")
	}
}
