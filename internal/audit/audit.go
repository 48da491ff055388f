// Package audit writes and verifies the append-only, hash-chained audit trail.
// Every change to the record is written here, in the transaction of the change.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/database"
	"cla/internal/text"
)

// Entry is one line of the audit trail.
type Entry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID         int64     `bun:"id,pk"`
	CouncilID  *int64    `bun:"council_id"`
	ActorID    *int64    `bun:"actor_id"`
	ActorName  string    `bun:"actor_name"`
	Action     string    `bun:"action"`      // e.g. "register_item.wording", "member.disable"
	ObjectType string    `bun:"object_type"` // e.g. "register_item"
	ObjectID   string    `bun:"object_id"`
	Summary    string    `bun:"summary"`     // French, one line, for the UI
	BeforeJSON string    `bun:"before_json"` // JSON of the state before ("" for a creation)
	AfterJSON  string    `bun:"after_json"`  // JSON of the state after ("" for a deletion)
	CreatedAt  time.Time `bun:"created_at"`
	PrevHash   []byte    `bun:"prev_hash"`
	Hash       []byte    `bun:"hash"`

	// SubjectName is the person the action is about (the author of a hidden
	// argument, the member whose role changed), as named when the entry was
	// written: the trail records what happened then, so a later rename does
	// not rewrite it ("" when the action is about no one, or about its actor).
	SubjectName string `bun:"subject_name"`
}

// chainLock serialises appends so that each row chains to the one before it.
const chainLock = 0x636c615f617564 // "cla_aud"

// Record appends e to the trail inside db, which should be the transaction of the
// change being recorded. before and after are marshalled to JSON (nil for none).
//
// Every text field is text.Normalize'd before it is hashed: PostgreSQL refuses
// NUL and invalid UTF-8 in text, so a hash over other bytes than those stored
// could never be verified. Input normalised at the edge is unchanged by this;
// it protects entries made from anywhere else (commands, jobs, demo data).
func Record(ctx context.Context, db bun.IDB, e Entry, before, after any) error {
	if pool, ok := db.(*bun.DB); ok {
		// The chain lock is held until commit: outside a transaction it would be
		// released before the insert.
		return pool.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return Record(ctx, tx, e, before, after)
		})
	}
	var err error
	if e.BeforeJSON, err = marshal(before); err != nil {
		return err
	}
	if e.AfterJSON, err = marshal(after); err != nil {
		return err
	}
	normalize(&e)
	if _, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", chainLock); err != nil {
		return fmt.Errorf("audit lock: %w", err)
	}
	var prev []byte
	err = db.NewSelect().Table("audit_log").Column("hash").Order("id DESC").Limit(1).Scan(ctx, &prev)
	if database.IsNoRows(err) {
		prev, err = []byte{}, nil
	}
	if err != nil {
		return fmt.Errorf("audit chain head: %w", err)
	}
	if err := db.NewRaw("SELECT nextval('audit_log_id_seq')").Scan(ctx, &e.ID); err != nil {
		return err
	}
	// Microseconds: what timestamptz keeps, so the hash can be recomputed.
	e.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	e.PrevHash = prev
	e.Hash = hashOf(&e)
	_, err = db.NewInsert().Model(&e).Exec(ctx)
	return err
}

// marshal encodes v as JSON. encoding/json already writes invalid UTF-8 as
// U+FFFD and control characters as \u escapes (plain ASCII, which a text
// column keeps); normalize handles the rest (NFC, bidi controls) and keeps
// the JSON valid, since it never touches a quote or a backslash.
func marshal(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// normalize puts every text field of e in the form PostgreSQL stores.
func normalize(e *Entry) {
	for _, s := range []*string{&e.ActorName, &e.Action, &e.ObjectType, &e.ObjectID, &e.Summary, &e.BeforeJSON, &e.AfterJSON, &e.SubjectName} {
		*s = text.Normalize(*s)
	}
}

func hashOf(e *Entry) []byte {
	h := sha256.New()
	field := func(s string) {
		// Length-prefixed, so that no two different entries hash the same input.
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	optional := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	h.Write(e.PrevHash)
	field(strconv.FormatInt(e.ID, 10))
	field(optional(e.CouncilID))
	field(optional(e.ActorID))
	field(e.ActorName)
	field(e.Action)
	field(e.ObjectType)
	field(e.ObjectID)
	field(e.Summary)
	field(e.BeforeJSON)
	field(e.AfterJSON)
	field(e.CreatedAt.UTC().Format(time.RFC3339Nano))
	// Added by migration 0030: hashed only when set, so that every entry
	// written before it (all with an empty subject) keeps its hash.
	if e.SubjectName != "" {
		field(e.SubjectName)
	}
	return h.Sum(nil)
}

// ProblemKind says how the chain is broken at an entry.
type ProblemKind string

// The kinds of break Check finds.
const (
	// Changed: the entry's content no longer matches its own hash, so it was
	// edited after it was written.
	Changed ProblemKind = "changed"
	// Unlinked: the entry does not point to the one stored before it, so
	// entries were deleted, inserted or reordered between the two, or the
	// one before was rewritten with a recomputed hash.
	Unlinked ProblemKind = "unlinked"
	// HeadMismatch: an entry named by a published head is there but its hash
	// differs, so it or an entry before it was rewritten and the chain
	// recomputed from there.
	HeadMismatch ProblemKind = "head_mismatch"
	// HeadMissing: a published head names an entry that is no longer there.
	HeadMissing ProblemKind = "head_missing"
	// Truncated: a published head names an entry after the last one stored,
	// so the end of the trail was deleted.
	Truncated ProblemKind = "truncated"
)

// BrokenLinkError is one break in the chain.
type BrokenLinkError struct {
	ID     int64       // the entry concerned (for a head: the published entry)
	Kind   ProblemKind //
	PrevID int64       // Unlinked: the entry stored just before (0: none, ID is the first)
	Source string      // head problems: where the head comes from, e.g. "head at the end of 2026-07-14"
	Reason string      // one line, for logs
	// The entry as stored, when it is there (zero otherwise).
	CreatedAt time.Time
	Action    string
}

func (e *BrokenLinkError) Error() string {
	return fmt.Sprintf("audit trail broken at entry %d: %s", e.ID, e.Reason)
}

// Head identifies the end of the chain at one moment: its last entry. Anyone
// who keeps a copy can later prove that the trail up to it was not changed,
// nor its end deleted (Check).
type Head struct {
	ID        int64     `json:"id"`
	Hash      string    `json:"hash"` // hex SHA-256 of the entry, which covers all entries before it
	CreatedAt time.Time `json:"created_at"`
}

// DayHead is the head at the end of one day (UTC).
type DayHead struct {
	Day string `json:"day"` // YYYY-MM-DD
	Head
}

// Published is the document of GET /api/v1/audit/head (docs/api.md): the
// head now and at the end of each of the last PublishedDays days.
type Published struct {
	Head *Head     `json:"head"` // null while the trail is empty
	Days []DayHead `json:"days"` // newest first; days before the first entry are left out
}

// PublishedDays is how many past days Publish lists.
const PublishedDays = 31

// Publish returns the chain head now and at the end of each of the
// PublishedDays days before now's (UTC) day.
func Publish(ctx context.Context, db bun.IDB, now time.Time) (*Published, error) {
	p := &Published{Days: []DayHead{}}
	var rows []struct {
		ID        int64     `bun:"id"`
		Hash      []byte    `bun:"hash"`
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := db.NewSelect().Table("audit_log").Column("id", "hash", "created_at").Order("id DESC").Limit(1).
		Scan(ctx, &rows); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return p, nil
	}
	p.Head = &Head{ID: rows[0].ID, Hash: hex.EncodeToString(rows[0].Hash), CreatedAt: rows[0].CreatedAt.UTC()}
	// One probe of audit_log_created per day: the last entry before each
	// midnight (ids and times grow together, both taken under chainLock).
	var days []struct {
		DayEnd    time.Time `bun:"day_end"`
		ID        int64     `bun:"id"`
		Hash      []byte    `bun:"hash"`
		CreatedAt time.Time `bun:"created_at"`
	}
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if err := db.NewRaw(`SELECT d.day_end, e.id, e.hash, e.created_at
		FROM generate_series(?::timestamptz, ?::timestamptz, interval '1 day') AS d (day_end)
		CROSS JOIN LATERAL (SELECT id, hash, created_at FROM audit_log WHERE created_at < d.day_end
			ORDER BY created_at DESC, id DESC LIMIT 1) AS e
		ORDER BY d.day_end DESC`, today.AddDate(0, 0, 1-PublishedDays), today).Scan(ctx, &days); err != nil {
		return nil, err
	}
	for _, r := range days {
		p.Days = append(p.Days, DayHead{Day: r.DayEnd.UTC().AddDate(0, 0, -1).Format(time.DateOnly),
			Head: Head{ID: r.ID, Hash: hex.EncodeToString(r.Hash), CreatedAt: r.CreatedAt.UTC()}})
	}
	return p, nil
}

// Expected is a head kept outside the database, to check the trail against.
type Expected struct {
	ID     int64
	Hash   []byte
	Source string // for messages: "head of 2026-07-14", "--expect-head"…
}

// ParsePublished reads the heads of a document served by GET
// /api/v1/audit/head (or a single {"id": …, "hash": …} object), with source
// naming where it comes from.
func ParsePublished(data []byte, source string) ([]Expected, error) {
	var doc struct {
		Published
		ID   int64  `json:"id"`
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a published audit head (JSON): %w", source, err)
	}
	var out []Expected
	add := func(id int64, h, what string) error {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sha256.Size || id < 1 {
			return fmt.Errorf("%s: %s: want a positive id and a 64-digit hex hash, got %d and %q", source, what, id, h)
		}
		out = append(out, Expected{ID: id, Hash: b, Source: what + " (" + source + ")"})
		return nil
	}
	if doc.ID != 0 || doc.Hash != "" {
		if err := add(doc.ID, doc.Hash, "head"); err != nil {
			return nil, err
		}
	}
	if doc.Head != nil {
		when := "head published at " + doc.Head.CreatedAt.UTC().Format(time.DateTime) + " UTC"
		if err := add(doc.Head.ID, doc.Head.Hash, when); err != nil {
			return nil, err
		}
	}
	for _, d := range doc.Days {
		if err := add(d.ID, d.Hash, "head at the end of "+d.Day); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no audit head in it", source)
	}
	return out, nil
}

// Report is what Check found.
type Report struct {
	Entries  int                // entries read
	First    *Entry             // the first entry stored (nil: none); hashes and JSON left out
	Last     *Entry             // the last one
	Problems []*BrokenLinkError // every break, in id order, then the heads' problems
}

// Check recomputes the whole chain in id order and compares it with the
// expected heads. It reports every break, not only the first: each entry is
// checked against its own hash and against the hash stored in the entry
// before it, so an edited entry does not hide a later one. It returns an
// error only when the database cannot be read.
func Check(ctx context.Context, db bun.IDB, expected []Expected) (*Report, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, council_id, actor_id, actor_name, action, object_type, object_id,
		summary, before_json, after_json, created_at, prev_hash, hash, subject_name FROM audit_log ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := map[int64][]Expected{}
	for _, x := range expected {
		want[x.ID] = append(want[x.ID], x)
	}
	seen := map[int64]bool{}
	r := &Report{}
	var prev []byte
	var prevID int64
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.CouncilID, &e.ActorID, &e.ActorName, &e.Action, &e.ObjectType, &e.ObjectID,
			&e.Summary, &e.BeforeJSON, &e.AfterJSON, &e.CreatedAt, &e.PrevHash, &e.Hash, &e.SubjectName); err != nil {
			return nil, err
		}
		problemsBefore := len(r.Problems)
		switch {
		case r.Entries == 0 && len(e.PrevHash) != 0:
			r.Problems = append(r.Problems, &BrokenLinkError{ID: e.ID, Kind: Unlinked,
				Reason: "the first entry stored follows another one: the beginning of the trail was deleted"})
		case r.Entries > 0 && string(e.PrevHash) != string(prev):
			r.Problems = append(r.Problems, &BrokenLinkError{ID: e.ID, Kind: Unlinked, PrevID: prevID,
				Reason: fmt.Sprintf("does not follow entry %d, stored before it: entries between them were removed, "+
					"inserted or reordered, or entry %d was rewritten", prevID, prevID)})
		}
		if string(hashOf(&e)) != string(e.Hash) {
			r.Problems = append(r.Problems, &BrokenLinkError{ID: e.ID, Kind: Changed,
				Reason: "its content was changed after it was written"})
		}
		var differ []string
		for _, x := range want[e.ID] {
			if string(x.Hash) != string(e.Hash) {
				differ = append(differ, x.Source)
			}
		}
		if len(differ) > 0 {
			src := strings.Join(differ, "; ")
			r.Problems = append(r.Problems, &BrokenLinkError{ID: e.ID, Kind: HeadMismatch, Source: src,
				Reason: "differs from the " + src + ": it or an entry before it was rewritten"})
		}
		for _, p := range r.Problems[problemsBefore:] {
			p.CreatedAt, p.Action = e.CreatedAt.UTC(), e.Action
		}
		seen[e.ID] = true
		// Continue from the stored hash, not the recomputed one: a later
		// break is then found on its own.
		prev, prevID = e.Hash, e.ID
		r.Entries++
		e.BeforeJSON, e.AfterJSON, e.PrevHash, e.Hash = "", "", nil, nil
		if r.First == nil {
			first := e
			r.First = &first
		}
		r.Last = &e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var heads []*BrokenLinkError
	for id, xs := range want {
		if seen[id] {
			continue
		}
		srcs := make([]string, len(xs))
		for i, x := range xs {
			srcs[i] = x.Source
		}
		src := strings.Join(srcs, "; ")
		p := &BrokenLinkError{ID: id, Kind: HeadMissing, Source: src,
			Reason: "named by the " + src + ", is missing: it was deleted"}
		if r.Last == nil || id > r.Last.ID {
			p.Kind, p.Reason = Truncated, "named by the "+src+", is missing and after the last entry stored: the end of the trail was deleted"
		}
		heads = append(heads, p)
	}
	sort.Slice(heads, func(i, j int) bool { return heads[i].ID < heads[j].ID })
	r.Problems = append(r.Problems, heads...)
	return r, nil
}

// Verify recomputes the whole chain and returns how many entries it read and,
// when it is broken, an error joining a *BrokenLinkError per break (errors.As
// finds the first).
func Verify(ctx context.Context, db bun.IDB) (int, error) {
	r, err := Check(ctx, db, nil)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(r.Problems))
	for i, p := range r.Problems {
		errs[i] = p
	}
	return r.Entries, errors.Join(errs...)
}
