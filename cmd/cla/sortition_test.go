package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
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
