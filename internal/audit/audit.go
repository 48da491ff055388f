// Package audit writes and verifies the append-only, hash-chained audit trail.
// Every change to the record is written here, in the transaction of the change.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
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
}

// chainLock serialises appends so that each row chains to the one before it.
const chainLock = 0x636c615f617564 // "cla_aud"

// Record appends e to the trail inside db, which should be the transaction of the
// change being recorded. before and after are marshalled to JSON (nil for none).
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
	if _, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", chainLock); err != nil {
		return fmt.Errorf("audit lock: %w", err)
	}
	var prev []byte
	err = db.NewSelect().Table("audit_log").Column("hash").Order("id DESC").Limit(1).Scan(ctx, &prev)
	if errors.Is(err, sql.ErrNoRows) {
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

func marshal(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
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
	return h.Sum(nil)
}

// BrokenLinkError names the first entry whose content or chaining does not match.
type BrokenLinkError struct {
	ID     int64
	Reason string
}

func (e *BrokenLinkError) Error() string {
	return fmt.Sprintf("audit trail broken at entry %d: %s", e.ID, e.Reason)
}

// Verify recomputes the whole chain in id order and returns how many entries it
// checked, or a *BrokenLinkError for the first entry that does not match.
func Verify(ctx context.Context, db bun.IDB) (int, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, council_id, actor_id, actor_name, action, object_type, object_id,
		summary, before_json, after_json, created_at, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	prev := []byte{}
	n := 0
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.CouncilID, &e.ActorID, &e.ActorName, &e.Action, &e.ObjectType, &e.ObjectID,
			&e.Summary, &e.BeforeJSON, &e.AfterJSON, &e.CreatedAt, &e.PrevHash, &e.Hash); err != nil {
			return n, err
		}
		if string(e.PrevHash) != string(prev) {
			return n, &BrokenLinkError{ID: e.ID, Reason: "does not follow the previous entry (an entry was removed or reordered)"}
		}
		if string(hashOf(&e)) != string(e.Hash) {
			return n, &BrokenLinkError{ID: e.ID, Reason: "its content was changed after it was written"}
		}
		prev = e.Hash
		n++
	}
	return n, rows.Err()
}
