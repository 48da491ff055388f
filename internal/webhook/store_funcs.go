package webhook

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// PendingCount is how many of an endpoint's deliveries are in one state.
type PendingCount struct {
	EndpointID int64  `bun:"endpoint_id"`
	State      string `bun:"state"`
	N          int    `bun:"n"`
}

// PendingCounts counts the council's deliveries that are not delivered, per
// endpoint and state (the integrations list).
func PendingCounts(ctx context.Context, db bun.IDB, councilID int64) ([]PendingCount, error) {
	var counts []PendingCount
	err := db.NewSelect().Table("webhook_deliveries").ColumnExpr("endpoint_id, state, count(*) AS n").
		Where("council_id = ? AND state <> ?", councilID, StateDelivered).Group("endpoint_id", "state").
		Scan(ctx, &counts)
	return counts, err
}

// RotateSecret gives the endpoint a new secret; the previous one still signs
// until the grace deadline, so receivers can switch without losing events.
func RotateSecret(ctx context.Context, db bun.IDB, councilID, endpointID int64, secret string, until time.Time) error {
	_, err := db.NewUpdate().Table("webhook_endpoints").Set("previous_secret = secret").Set("previous_until = ?", until).
		Set("secret = ?", secret).Where("id = ? AND council_id = ?", endpointID, councilID).Exec(ctx)
	return err
}

// DeleteEndpoint removes one of the council's endpoints (its pending jobs then
// stop when they find it gone).
func DeleteEndpoint(ctx context.Context, db bun.IDB, councilID, endpointID int64) error {
	_, err := db.NewDelete().Table("webhook_endpoints").Where("id = ? AND council_id = ?", endpointID, councilID).Exec(ctx)
	return err
}
