package debate

import (
	"context"
	"net/url"
	"time"

	"github.com/uptrace/bun"
)

// Activity is a debate that received new arguments in a period, for the
// weekly digests (governance/notify).
type Activity struct {
	Slug      string `bun:"slug"`
	Title     string `bun:"title"`
	Arguments int    `bun:"arguments"` // visible arguments and replies written in the period
}

// Path is the debate's page.
func (a Activity) Path() string { return "/debats/" + url.PathEscape(a.Slug) }

// ActiveSince lists the council's debates with visible arguments written
// after since, the most discussed first, at most limit; one query.
func ActiveSince(ctx context.Context, db bun.IDB, councilID int64, since time.Time, limit int) ([]Activity, error) {
	var out []Activity
	err := db.NewRaw(`SELECT d.slug, d.title, count(*)::int AS arguments
		FROM arguments a JOIN debates d ON d.id = a.debate_id AND d.council_id = a.council_id
		WHERE a.council_id = ? AND a.created_at > ? AND a.hidden_at IS NULL
		GROUP BY d.id ORDER BY arguments DESC, d.title LIMIT ?`, councilID, since, limit).Scan(ctx, &out)
	return out, err
}

// Requested is a requested debate (débat souhaité), for the digests.
type Requested struct {
	Slug  string `bun:"slug"`
	Title string `bun:"title"`
}

// Path is the debate's page.
func (r Requested) Path() string { return "/debats/" + url.PathEscape(r.Slug) }

// RequestedSince lists the council's debates requested (still souhaité)
// after since, oldest first, at most limit; one query.
func RequestedSince(ctx context.Context, db bun.IDB, councilID int64, since time.Time, limit int) ([]Requested, error) {
	var out []Requested
	err := db.NewSelect().Model((*Debate)(nil)).Column("slug", "title").
		Where("council_id = ? AND state = ? AND created_at > ?", councilID, DebateRequested, since).
		Order("created_at", "id").Limit(limit).Scan(ctx, &out)
	return out, err
}

// OpenedSince lists the council's debates opened after since (new debates
// for the citizens' digest), oldest first, at most limit; one query.
func OpenedSince(ctx context.Context, db bun.IDB, councilID int64, since time.Time, limit int) ([]Requested, error) {
	var out []Requested
	err := db.NewSelect().Model((*Debate)(nil)).Column("slug", "title").
		Where("council_id = ? AND state <> ? AND opened_at > ?", councilID, DebateRequested, since).
		Order("opened_at", "id").Limit(limit).Scan(ctx, &out)
	return out, err
}
