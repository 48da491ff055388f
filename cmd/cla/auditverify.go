package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"cla/internal/audit"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// loadHeads reads the published heads to compare the trail with: documents
// of GET /api/v1/audit/head from files or URLs, and id:hash pairs.
func loadHeads(ctx context.Context, docs, pairs []string) ([]audit.Expected, error) {
	var out []audit.Expected
	for _, src := range docs {
		data, err := readHeadDocument(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("--head %s : %w", src, err)
		}
		hs, err := audit.ParsePublished(data, src)
		if err != nil {
			return nil, fmt.Errorf("--head : %w", err)
		}
		out = append(out, hs...)
	}
	for _, p := range pairs {
		id, h, ok := strings.Cut(p, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		b, herr := hex.DecodeString(h)
		if !ok || err != nil || n < 1 || herr != nil || len(b) != 32 {
			return nil, fmt.Errorf("--expect-head %q invalide : attendu <id>:<empreinte hexadécimale de 64 caractères>, par exemple 812:9f86d0…", p)
		}
		out = append(out, audit.Expected{ID: n, Hash: b, Source: "head given with --expect-head"})
	}
	return out, nil
}

// readHeadDocument reads a file, or fetches an http(s) URL.
func readHeadDocument(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return os.ReadFile(src)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// auditVerify checks the trail against the expected heads and writes, in
// plain words, what is wrong and what to do. It returns an error (exit
// status 1) when the trail is broken.
func auditVerify(ctx context.Context, m *Main, expected []audit.Expected, w io.Writer) error {
	r, err := audit.Check(ctx, m.DB, expected)
	if err != nil {
		return err
	}
	span := "the trail is empty"
	if r.Last != nil {
		span = fmt.Sprintf("entries %d to %d, the last written %s", r.First.ID, r.Last.ID, utc(r.Last.CreatedAt))
	}
	if len(r.Problems) == 0 {
		fmt.Fprintf(w, "audit trail OK: %d entries verified (%s)\n", r.Entries, span)
		if len(expected) > 0 {
			fmt.Fprintf(w, "It matches the %d published heads given.\n", len(expected))
		} else {
			fmt.Fprintln(w, "No published head given: deleting the last entries leaves a sound chain and cannot be seen without one. "+
				"Compare with --head https://<your site>/api/v1/audit/head, or better a copy saved earlier (docs/operations.md).")
		}
		return nil
	}
	fmt.Fprintf(w, "AUDIT TRAIL BROKEN: %d problem(s) found in %d entries (%s).\n\n", len(r.Problems), r.Entries, span)
	var earliest time.Time
	ids := make([]string, 0, len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "- %s\n", describeProblem(p, r))
		ids = append(ids, "entry "+strconv.FormatInt(p.ID, 10))
		if !p.CreatedAt.IsZero() && (earliest.IsZero() || p.CreatedAt.Before(earliest)) {
			earliest = p.CreatedAt
		}
	}
	before := "the earliest problem"
	if !earliest.IsZero() {
		before = "the earliest problem (" + utc(earliest) + ")"
	}
	fmt.Fprintf(w, `
What to do:
  1. Change nothing in this database, and save a copy of it now (pg_dump -Fc, docs/operations.md) for the investigation.
  2. Restore the last backup taken before %s into a separate database, run "cla audit verify" on it,
     and compare the entries named above with it: that shows what was changed, added or removed.
  3. Compare with the heads published at /api/v1/audit/head and the copies others keep (--head <file or URL>):
     the first day whose head no longer matches dates the rewrite.
  4. Find out who could write to the database directly: the application itself cannot change or delete an entry
     (a trigger refuses), so this was done in PostgreSQL, outside cla.
`, before)
	if len(expected) == 0 {
		fmt.Fprintln(w, "  Deleted last entries cannot be seen without a published head: run again with --head.")
	}
	return errors.New("the audit trail is broken (" + strings.Join(ids, ", ") + "): see the report above")
}

// describeProblem says what one break means.
func describeProblem(p *audit.BrokenLinkError, r *audit.Report) string {
	entry := fmt.Sprintf("entry %d", p.ID)
	if !p.CreatedAt.IsZero() {
		entry += fmt.Sprintf(" (%s, %s)", p.Action, utc(p.CreatedAt))
	}
	switch p.Kind {
	case audit.Changed:
		return entry + ": its content was changed after it was written (its stored hash no longer matches)."
	case audit.Unlinked:
		if p.PrevID == 0 {
			return entry + ": it is the first entry stored but follows another one: the beginning of the trail was deleted."
		}
		return fmt.Sprintf("%s: does not follow entry %d, stored just before it: entries between %d and %d were deleted, "+
			"inserted or reordered, or entry %d was rewritten with a recomputed hash.", entry, p.PrevID, p.PrevID, p.ID, p.PrevID)
	case audit.HeadMismatch:
		return entry + ": differs from the " + p.Source + ": it, or an entry before it, was rewritten and the chain recomputed."
	case audit.Truncated:
		last := "the trail is empty"
		if r.Last != nil {
			last = fmt.Sprintf("the last entry stored is %d", r.Last.ID)
		}
		return fmt.Sprintf("%s, named by the %s, is missing and %s: the end of the trail was deleted.", entry, p.Source, last)
	default: // audit.HeadMissing
		return entry + ", named by the " + p.Source + ", is missing: it was deleted."
	}
}

func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }
