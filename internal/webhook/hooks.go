package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/database"
	"cla/internal/jobs"
	"cla/internal/outbound"
)

// Event is the type of a webhook message, as receivers read it in the
// payload's "type" field. The values are a public contract (docs/api.md).
type Event string

// The events facilitators can subscribe an endpoint to (issue 18), and the
// test ping.
const (
	RegisterVersionPublished Event = "register.version_published"
	ShopChanged              Event = "shop.changed"
	ShopBasketChanged        Event = "shop.basket_changed"
	DecisionRecorded         Event = "decision.recorded"
	MeetingChanged           Event = "meeting.changed"
	Ping                     Event = "ping"
)

// Events lists the events an endpoint may subscribe to, in the order the
// form shows them.
var Events = []Event{RegisterVersionPublished, ShopChanged, ShopBasketChanged, DecisionRecorded, MeetingChanged}

// Label is the event in French, for the facilitators' pages.
func (e Event) Label() string {
	switch e {
	case RegisterVersionPublished:
		return "Nouvelle version du registre publiée"
	case ShopChanged:
		return "Statut ou dates de convention d'un point de vente modifiés"
	case ShopBasketChanged:
		return "Panier d'un point de vente réévalué (changement du registre ou correction de rédaction)"
	case DecisionRecorded:
		return "Décision enregistrée"
	case MeetingChanged:
		return "Séance programmée ou modifiée"
	case Ping:
		return "Test"
	}
	return string(e)
}

// Valid reports whether e is one of Events.
func (e Event) Valid() bool {
	for _, x := range Events {
		if x == e {
			return true
		}
	}
	return false
}

// Envelope is the body of every message, as the Standard Webhooks
// specification recommends: the event type, when it happened, and the data —
// the open-data JSON of docs/api.md for that object.
type Envelope struct {
	Type      Event           `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// GraceDefault is how long the previous secret still signs after a rotation:
// a day leaves the receiver's team time to deploy the new one.
const GraceDefault = 24 * time.Hour

// MaxAge is how long a delivery is retried: three days (issue 18), after
// which it is marked failed and shown so in the log.
const MaxAge = 72 * time.Hour

// Endpoint is a receiver a facilitator registered for the council.
type Endpoint struct {
	bun.BaseModel `bun:"table:webhook_endpoints"`

	ID          int64    `bun:"id,pk,autoincrement"`
	CouncilID   int64    `bun:"council_id"`
	URL         string   `bun:"url"`
	Description string   `bun:"description"`
	Events      []string `bun:"events,array"`
	// Secret is kept as it is, not hashed: every delivery computes an HMAC
	// with it (docs/decisions.md).
	Secret         string     `bun:"secret"`
	PreviousSecret *string    `bun:"previous_secret"`
	PreviousUntil  *time.Time `bun:"previous_until"`
	Active         bool       `bun:"active"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
}

// Secrets returns the secrets that sign a message sent at now: the current
// one, and the previous one within its grace period.
func (e *Endpoint) Secrets(now time.Time) []string {
	s := []string{e.Secret}
	if e.PreviousSecret != nil && e.PreviousUntil != nil && now.Before(*e.PreviousUntil) {
		s = append(s, *e.PreviousSecret)
	}
	return s
}

// Delivery states.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

// DeliveryRow is one event for one endpoint, with its last attempt.
type DeliveryRow struct {
	bun.BaseModel `bun:"table:webhook_deliveries"`

	ID             int64      `bun:"id,pk,autoincrement"`
	CouncilID      int64      `bun:"council_id"`
	EndpointID     int64      `bun:"endpoint_id"`
	Event          Event      `bun:"event"`
	EventKey       string     `bun:"event_key"`
	MessageID      string     `bun:"message_id"`
	Payload        string     `bun:"payload"`
	State          string     `bun:"state"`
	Attempts       int        `bun:"attempts"`
	LastStatus     *int       `bun:"last_status"`
	LastAnswer     string     `bun:"last_answer"`
	LastError      string     `bun:"last_error"`
	LastDurationMS *int       `bun:"last_duration_ms"`
	LastAttemptAt  *time.Time `bun:"last_attempt_at"`
	DeliveredAt    *time.Time `bun:"delivered_at"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
}

// Attempt is one try of a delivery, for the log.
type Attempt struct {
	bun.BaseModel `bun:"table:webhook_attempts"`

	ID         int64     `bun:"id,pk,autoincrement"`
	DeliveryID int64     `bun:"delivery_id"`
	At         time.Time `bun:"at"`
	Status     *int      `bun:"status"`
	Answer     string    `bun:"answer"`
	Error      string    `bun:"error"`
	DurationMS int       `bun:"duration_ms"`
}

// DeliverArgs asks for one attempt series of one delivery. Resend marks a
// facilitator's re-send, which sends again even a delivered message (with
// the same webhook-id).
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
	Resend     bool  `json:"resend,omitempty"`
}

// Kind names the job; it never changes.
func (DeliverArgs) Kind() string { return "webhook.deliver" }

// Subscribed reports whether some active endpoint of the council wants ev: a
// caller whose payload costs a query asks first.
func Subscribed(ctx context.Context, db bun.IDB, councilID int64, ev Event) (bool, error) {
	return db.NewSelect().Table("webhook_endpoints").
		Where("council_id = ? AND active AND ? = ANY(events)", councilID, string(ev)).Exists(ctx)
}

// Emit queues event ev for every active endpoint of the council subscribed
// to it: one delivery row and one job each, in db's transaction (the
// change's), so the event exists if and only if the change was committed.
// key identifies the event (e.g. "register.version_published:7"): an event
// already queued for an endpoint under the same key is not queued again.
// data is the open-data JSON of the object; it is only marshalled when some
// endpoint wants the event.
func Emit(ctx context.Context, db bun.IDB, councilID int64, ev Event, key string, data any) error {
	var ids []int64
	err := db.NewSelect().Table("webhook_endpoints").Column("id").
		Where("council_id = ? AND active AND ? = ANY(events)", councilID, string(ev)).
		Order("id").Scan(ctx, &ids)
	if err != nil || len(ids) == 0 {
		return err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webhook: payload of %s: %w", ev, err)
	}
	body, err := json.Marshal(Envelope{Type: ev, Timestamp: time.Now().UTC().Format(time.RFC3339), Data: raw})
	if err != nil {
		return err
	}
	return queue(ctx, db, councilID, ids, ev, key, string(body))
}

func queue(ctx context.Context, db bun.IDB, councilID int64, endpointIDs []int64, ev Event, key, body string) error {
	var many []jobs.Many
	for _, id := range endpointIDs {
		d := &DeliveryRow{CouncilID: councilID, EndpointID: id, Event: ev, EventKey: key, MessageID: NewMessageID(),
			Payload: body, State: StatePending}
		res, err := db.NewInsert().Model(d).On("CONFLICT (endpoint_id, event_key) DO NOTHING").Returning("id").Exec(ctx)
		if err != nil {
			return fmt.Errorf("webhook: queue %s: %w", ev, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // this event was already queued for this endpoint
		}
		many = append(many, jobs.Many{Args: DeliverArgs{DeliveryID: d.ID}})
	}
	_, err := jobs.EnqueueMany(ctx, db, many)
	return err
}

// SendPing queues a test message to one endpoint, whatever its events.
func SendPing(ctx context.Context, db bun.IDB, councilID, endpointID int64) error {
	id := NewMessageID()
	data, _ := json.Marshal(map[string]string{"message": "Message de test envoyé depuis la plateforme du Conseil."})
	body, _ := json.Marshal(Envelope{Type: Ping, Timestamp: time.Now().UTC().Format(time.RFC3339), Data: data})
	return queue(ctx, db, councilID, []int64{endpointID}, Ping, "ping:"+id, string(body))
}

// Resend queues a delivery again with the same webhook-id and payload.
func Resend(ctx context.Context, db bun.IDB, councilID, endpointID, deliveryID int64) error {
	res, err := db.NewUpdate().Table("webhook_deliveries").Set("state = ?", StatePending).
		Where("id = ? AND endpoint_id = ? AND council_id = ?", deliveryID, endpointID, councilID).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	_, err = jobs.Enqueue(ctx, db, DeliverArgs{DeliveryID: deliveryID, Resend: true}, nil)
	return err
}

// ErrNotFound is Resend's error for a delivery of another endpoint or
// council.
var ErrNotFound = errors.New("webhook: no such delivery")

func isNoRows(err error) bool { return database.IsNoRows(err) }

// Worker delivers the messages queued by Emit, one attempt per job run;
// failures are retried by the job runner's backoff for MaxAge.
type Worker struct {
	jobs.WorkerDefaults[DeliverArgs]
	DB     *bun.DB
	Client *outbound.Client
	// Now, when set (tests), replaces the clock that ends the retries.
	Now func() time.Time
}

// Work makes one attempt. It reads the endpoint now (its URL or secret may
// have changed, it may be gone), sends, then records the attempt; a crash
// between sending and recording sends again with the same webhook-id, which
// receivers use to ignore the duplicate.
func (w *Worker) Work(ctx context.Context, job *jobs.Job[DeliverArgs]) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	d := new(DeliveryRow)
	err := w.DB.NewSelect().Model(d).Where("id = ?", job.Args.DeliveryID).Scan(ctx)
	if isNoRows(err) {
		return nil // the endpoint was deleted with its deliveries
	}
	if err != nil {
		return err
	}
	if d.State == StateDelivered && !job.Args.Resend {
		return nil // already delivered (a job run again after a crash)
	}
	ep := new(Endpoint)
	err = w.DB.NewSelect().Model(ep).Where("id = ? AND council_id = ?", d.EndpointID, d.CouncilID).Scan(ctx)
	if isNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !ep.Active {
		return jobs.Cancel(errors.New("webhook: endpoint disabled"))
	}
	res := Deliver(ctx, w.Client, ep.URL, d.MessageID, []byte(d.Payload), ep.Secrets(now()))
	expired := now().Sub(d.CreatedAt) > MaxAge && !job.Args.Resend
	lastTry := job.Attempt >= job.MaxAttempts
	state := StatePending
	switch {
	case res.OK():
		state = StateDelivered
	case res.Gone() || expired || lastTry:
		state = StateFailed
	}
	if err := record(ctx, w.DB, d, ep, res, state); err != nil {
		return err
	}
	switch {
	case res.OK():
		return nil
	case res.Gone():
		return jobs.Cancel(errors.New("webhook: the endpoint answered 410 Gone; disabled"))
	case expired:
		return jobs.Cancel(fmt.Errorf("webhook: undelivered after %s: %s", MaxAge, res.Error))
	}
	return fmt.Errorf("webhook: delivery %d: %s", d.ID, res.Error)
}

// record writes one attempt and the delivery's last state; a 410 Gone
// disables the endpoint.
func record(ctx context.Context, db *bun.DB, d *DeliveryRow, ep *Endpoint, res Delivery, state string) error {
	var status *int
	if res.StatusCode != 0 {
		s := res.StatusCode
		status = &s
	}
	ms := int(res.Duration / time.Millisecond)
	answer := res.Answer
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a := &Attempt{DeliveryID: d.ID, At: res.At, Status: status, Answer: answer, Error: res.Error, DurationMS: ms}
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return err
		}
		q := tx.NewUpdate().Table("webhook_deliveries").
			Set("attempts = attempts + 1").Set("state = ?", state).Set("last_status = ?", status).
			Set("last_answer = ?", answer).Set("last_error = ?", res.Error).Set("last_duration_ms = ?", ms).
			Set("last_attempt_at = ?", res.At).Where("id = ?", d.ID)
		if state == StateDelivered {
			q = q.Set("delivered_at = ?", time.Now())
		}
		if _, err := q.Exec(ctx); err != nil {
			return err
		}
		if res.Gone() {
			_, err := tx.NewUpdate().Table("webhook_endpoints").Set("active = false").Where("id = ?", ep.ID).Exec(ctx)
			return err
		}
		return nil
	})
}

// EventKey builds an event key from its type and the object's identity.
func EventKey(ev Event, parts ...any) string {
	k := string(ev)
	for _, p := range parts {
		switch v := p.(type) {
		case int64:
			k += ":" + strconv.FormatInt(v, 10)
		case int:
			k += ":" + strconv.Itoa(v)
		default:
			k += ":" + fmt.Sprint(v)
		}
	}
	return k
}
