package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/jobs"
)

// Message is one event of EmitMany: its key (as Emit's) and the open-data
// JSON of its object.
type Message struct {
	Key  string
	Data any
}

// EmitMany queues several events of one type — one shop.basket_changed per
// shop a decision moved, up to hundreds — for every active endpoint of the
// council subscribed to ev, in db's transaction, as Emit does for one: one
// statement inserts every delivery, one batch enqueues their jobs, whatever
// their number. An event already queued for an endpoint under the same key
// is not queued again.
func EmitMany(ctx context.Context, db bun.IDB, councilID int64, ev Event, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var ids []int64
	err := db.NewSelect().Table("webhook_endpoints").Column("id").
		Where("council_id = ? AND active AND ? = ANY(events)", councilID, string(ev)).
		Order("id").Scan(ctx, &ids)
	if err != nil || len(ids) == 0 {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	rows := make([]DeliveryRow, 0, len(ids)*len(msgs))
	for _, m := range msgs {
		raw, err := json.Marshal(m.Data)
		if err != nil {
			return fmt.Errorf("webhook: payload of %s: %w", ev, err)
		}
		body, err := json.Marshal(Envelope{Type: ev, Timestamp: now, Data: raw})
		if err != nil {
			return err
		}
		for _, id := range ids {
			rows = append(rows, DeliveryRow{CouncilID: councilID, EndpointID: id, Event: ev, EventKey: m.Key,
				MessageID: NewMessageID(), Payload: string(body), State: StatePending})
		}
	}
	// Only the rows inserted come back (a conflict returns none), so the
	// ids are read as such, not mapped back onto rows.
	var queued []int64
	if _, err := db.NewInsert().Model(&rows).On("CONFLICT (endpoint_id, event_key) DO NOTHING").
		Returning("id").Exec(ctx, &queued); err != nil {
		return fmt.Errorf("webhook: queue %d %s: %w", len(rows), ev, err)
	}
	many := make([]jobs.Many, 0, len(queued))
	for _, id := range queued {
		many = append(many, jobs.Many{Args: DeliverArgs{DeliveryID: id}})
	}
	_, err = jobs.EnqueueMany(ctx, db, many)
	return err
}
