package notify

import (
	"context"

	"github.com/uptrace/bun"
)

// confirmedRecipients returns the recipient keys of a council's confirmed
// citizen subscribers.
func confirmedRecipients(ctx context.Context, db bun.IDB, councilID int64) (map[string]bool, error) {
	return map[string]bool{}, nil
}

// publicDigests records and queues the week's public digest of every
// confirmed subscriber of a council, when there is something new.
func (s *Service) publicDigests(ctx context.Context, councilID int64, eventKey string) error {
	return nil
}

// deleteSubscriber forgets a subscriber's address (id as in its recipient
// key).
func deleteSubscriber(ctx context.Context, db bun.IDB, councilID int64, id string) error {
	_, err := db.NewDelete().Table("subscribers").Where("council_id = ? AND id = ?::bigint", councilID, id).Exec(ctx)
	return err
}
