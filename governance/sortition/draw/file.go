package draw

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// File is draw.json, the published record of a draw: the committed
// document, its SHA-256 and publication time, the randomness entered and the
// result. Everything `cla sortition verify` needs, and nothing private.
type File struct {
	Format           int        `json:"format"`
	Commitment       Commitment `json:"commitment"`
	CommitmentSHA256 string     `json:"commitment_sha256"`
	CommittedAt      time.Time  `json:"committed_at"`
	Randomness       string     `json:"randomness"`
	RandomnessAt     time.Time  `json:"randomness_entered_at"`
	Result           Result     `json:"result"`
}

// ReadFile decodes draw.json, refusing unknown fields so that a misspelt
// field is never silently ignored by a verification.
func ReadFile(r io.Reader) (*File, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("draw.json illisible : %w", err)
	}
	return &f, nil
}

// Write encodes f as indented JSON.
func (f *File) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// SourceCheck verifies the randomness entered for a source (for drand, the
// round's signature against the beacon's key); nil accepts any value.
type SourceCheck func(src Source, value string) error

// Verify re-runs the draw recorded in f and lists every difference with
// the recorded result, in French, most fundamental first: a commitment that
// does not hash to the published value, a randomness that does not check,
// then each seat, reserve place and quota count that differs. An empty list
// means the file is exactly reproduced. err is set only when the draw cannot
// be re-run at all.
func Verify(f *File, check SourceCheck) (got *Result, diffs []string, err error) {
	h, err := f.Commitment.Hash()
	if err != nil {
		return nil, nil, err
	}
	if hx := hex.EncodeToString(h[:]); hx != f.CommitmentSHA256 {
		diffs = append(diffs, fmt.Sprintf("engagement : le document publié a pour SHA-256 %s, le fichier annonce %s", hx, f.CommitmentSHA256))
	}
	if check != nil {
		if err := check(f.Commitment.Source, f.Randomness); err != nil {
			diffs = append(diffs, "hasard : "+err.Error())
		}
	}
	rb, err := RandomnessBytes(f.Commitment.Source, f.Randomness)
	if err != nil {
		return nil, diffs, err
	}
	got, err = Run(&f.Commitment, rb)
	if err != nil {
		return nil, diffs, err
	}
	if got.Seed != f.Result.Seed {
		diffs = append(diffs, fmt.Sprintf("graine : recalculée %s, publiée %s", got.Seed, f.Result.Seed))
	}
	diffs = append(diffs, compareList("siège", got.Selected, f.Result.Selected)...)
	diffs = append(diffs, compareList("suppléance", got.Reserve, f.Result.Reserve)...)
	if !slices.Equal(got.Quotas, f.Result.Quotas) {
		for i := range max(len(got.Quotas), len(f.Result.Quotas)) {
			var g, p string
			if i < len(got.Quotas) {
				g = fmt.Sprintf("%s : %s = %d", got.Quotas[i].Category, got.Quotas[i].Value, got.Quotas[i].Count)
			}
			if i < len(f.Result.Quotas) {
				p = fmt.Sprintf("%s : %s = %d", f.Result.Quotas[i].Category, f.Result.Quotas[i].Value, f.Result.Quotas[i].Count)
			}
			if g != p {
				diffs = append(diffs, fmt.Sprintf("quota %d : recalculé « %s », publié « %s »", i+1, g, p))
			}
		}
	}
	return got, diffs, nil
}

func compareList(what string, got, published []string) []string {
	var out []string
	for i := range max(len(got), len(published)) {
		var g, p string
		if i < len(got) {
			g = got[i]
		}
		if i < len(published) {
			p = published[i]
		}
		if g != p {
			out = append(out, fmt.Sprintf("%s %d : recalculé « %s », publié « %s »", what, i+1, g, p))
		}
	}
	return out
}
