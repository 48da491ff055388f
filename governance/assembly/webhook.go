package assembly

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/webhook"
)

// DecisionData is a decision as webhooks send it (docs/api.md, "Webhooks").
type DecisionData struct {
	ID              int64  `json:"id"`
	Ref             string `json:"ref"`
	Title           string `json:"title"`
	Outcome         string `json:"outcome"`
	OutcomeLabel    string `json:"outcome_label"`
	DecidedAt       string `json:"decided_at"`
	EffectiveOn     string `json:"effective_on"`
	RegisterVersion *int   `json:"register_version"`
	MotivationHTML  string `json:"motivation_html"`
	URL             string `json:"url"`
}

// MeetingData is a meeting as webhooks send it.
type MeetingData struct {
	ID         int64  `json:"id"`
	UID        string `json:"uid"`
	Sequence   int    `json:"sequence"`
	Title      string `json:"title"`
	State      string `json:"state"`
	StateLabel string `json:"state_label"`
	StartsAt   string `json:"starts_at"`
	EndsAt     string `json:"ends_at"`
	Place      string `json:"place"`
	URL        string `json:"url"`
}

// emitDecision queues the decision.recorded webhooks, in the decision's
// transaction.
func emitDecision(ctx context.Context, tx bun.IDB, d *Decision) error {
	data := DecisionData{ID: d.ID, Ref: d.Ref(), Title: d.Title, Outcome: string(d.Outcome), OutcomeLabel: d.Outcome.Label(),
		DecidedAt: d.DecidedAt.UTC().Format(time.RFC3339), RegisterVersion: d.RegisterVersion,
		MotivationHTML: d.MotivationHTML, URL: d.Path()}
	if d.EffectiveOn != nil {
		data.EffectiveOn = d.EffectiveOn.Format(time.DateOnly)
	}
	return webhook.Emit(ctx, tx, d.CouncilID, webhook.DecisionRecorded, webhook.EventKey(webhook.DecisionRecorded, d.ID), data)
}

// emitMeeting queues the meeting.changed webhooks of a meeting just created
// or changed, read again in the change's transaction; each change bumps the
// meeting's sequence, which makes it a new event.
func emitMeeting(ctx context.Context, tx bun.IDB, councilID, id int64) error {
	if want, err := webhook.Subscribed(ctx, tx, councilID, webhook.MeetingChanged); err != nil || !want {
		return err
	}
	m, err := GetMeeting(ctx, tx, councilID, id)
	if err != nil {
		return err
	}
	data := MeetingData{ID: m.ID, UID: m.UID, Sequence: m.Sequence, Title: m.Title, State: string(m.State),
		StateLabel: m.State.Label(), StartsAt: m.StartsAt.UTC().Format(time.RFC3339), EndsAt: m.EndsAt.UTC().Format(time.RFC3339),
		Place: m.Place, URL: MeetingPath(m.ID)}
	return webhook.Emit(ctx, tx, councilID, webhook.MeetingChanged, webhook.EventKey(webhook.MeetingChanged, m.ID, m.Sequence), data)
}
