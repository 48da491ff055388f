package member

import (
	"context"

	"github.com/uptrace/bun"

	"cla/internal/audit"
)

// auditFilter selects audit entries of one council.
type auditFilter struct {
	ActorID    int64  // 0: everyone
	ObjectType string // "": every type
	ObjectID   string // "": every object (with ObjectType)
	Before     int64  // entries with a smaller id (older); 0: from the newest
	Limit      int
}

// auditEntries returns a page of the council's audit trail, newest first, and
// whether older entries remain.
func auditEntries(ctx context.Context, db bun.IDB, councilID int64, f auditFilter) ([]audit.Entry, bool, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var out []audit.Entry
	q := db.NewSelect().Model(&out).
		Column("id", "actor_id", "actor_name", "action", "object_type", "object_id", "summary", "before_json", "after_json", "created_at").
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

// auditObjectTypes lists the object types present in the council's trail.
func auditObjectTypes(ctx context.Context, db bun.IDB, councilID int64) ([]string, error) {
	var out []string
	err := db.NewSelect().Table("audit_log").ColumnExpr("DISTINCT object_type").
		Where("council_id = ?", councilID).OrderExpr("object_type").Scan(ctx, &out)
	return out, err
}
