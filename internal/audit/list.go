package audit

import (
	"context"

	"github.com/uptrace/bun"
)

// Reads of the trail for the pages that show it (governance/member), which do
// not name audit_log in their own SQL: a renamed column breaks the build here.

// Filter selects entries of one council's trail.
type Filter struct {
	ActorID    int64  // 0: everyone
	ObjectType string // "": every type
	ObjectID   string // "": every object (with ObjectType)
	Before     int64  // entries with a smaller id (older); 0: from the newest
	Limit      int    // page size; out of 1..500: 100
}

// List returns a page of the council's trail, newest first, and whether older
// entries remain, in one query.
func List(ctx context.Context, db bun.IDB, councilID int64, f Filter) ([]Entry, bool, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var out []Entry
	q := db.NewSelect().Model(&out).
		Column("id", "actor_id", "actor_name", "action", "object_type", "object_id", "summary", "before_json", "after_json", "created_at", "subject_name").
		Where("council_id = ?", councilID).Order("id DESC").Limit(f.Limit + 1)
	if f.ActorID != 0 {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
		if f.ObjectID != "" {
			q = q.Where("object_id = ?", f.ObjectID)
		}
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, false, err
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// ObjectTypes lists the object types present in the council's trail, sorted.
func ObjectTypes(ctx context.Context, db bun.IDB, councilID int64) ([]string, error) {
	var out []string
	err := db.NewSelect().Model((*Entry)(nil)).ColumnExpr("DISTINCT object_type").
		Where("council_id = ?", councilID).OrderExpr("object_type").Scan(ctx, &out)
	return out, err
}
