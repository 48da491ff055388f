// Package event holds the jobs a domain enqueues, inside the transaction of
// its change, to tell governance/notify that something happened: a meeting
// was scheduled, changed or cancelled, a vote opened or closed. It imports
// no domain, so every domain may import it; notify, above the domains, works
// these jobs by reading the domains again and writing to each recipient.
package event

import (
	"context"

	"github.com/uptrace/bun"

	"cla/internal/jobs"
)

// MeetingChanged says a meeting was scheduled, changed (date, place,
// agenda) or cancelled: notify sends the convocation when it is due, a
// change or a cancellation when one already went out.
type MeetingChanged struct {
	CouncilID int64 `json:"council_id"`
	MeetingID int64 `json:"meeting_id"`
}

// Kind names the job.
func (MeetingChanged) Kind() string { return "notify.meeting" }

// VoteOpened says a vote opened: its eligible members are told.
type VoteOpened struct {
	CouncilID int64 `json:"council_id"`
	VoteID    int64 `json:"vote_id"`
}

// Kind names the job.
func (VoteOpened) Kind() string { return "notify.vote_opened" }

// VoteClosed says a vote closed: once the meeting has no open vote left,
// its results and decisions are sent.
type VoteClosed struct {
	CouncilID int64 `json:"council_id"`
	VoteID    int64 `json:"vote_id"`
}

// Kind names the job.
func (VoteClosed) Kind() string { return "notify.vote_closed" }

// Enqueue adds args in tx, the transaction of the change: the notification
// exists if and only if the change was committed.
func Enqueue(ctx context.Context, tx bun.IDB, args jobs.JobArgs) error {
	_, err := jobs.Enqueue(ctx, tx, args, nil)
	return err
}

// ApplicationReceived says a shop's application arrived: the applicant gets
// the receipt with its private follow-up link. Link is the follow-up path
// ("/candidature/<token>"), which nothing else can rebuild (only the token's
// hash is stored).
type ApplicationReceived struct {
	CouncilID     int64  `json:"council_id"`
	ApplicationID int64  `json:"application_id"`
	Link          string `json:"link"`
}

// Kind names the job.
func (ApplicationReceived) Kind() string { return "notify.application_received" }

// ApplicationQuestion says the council asked a shop applicant a question:
// the applicant gets it by mail.
type ApplicationQuestion struct {
	CouncilID     int64 `json:"council_id"`
	ApplicationID int64 `json:"application_id"`
	MessageID     int64 `json:"message_id"`
}

// Kind names the job.
func (ApplicationQuestion) Kind() string { return "notify.application_question" }

// ApplicationRefused says a facilitator refused an application by hand,
// with the reasons given to the shop. (An application decided by a vote on
// its proposal is told with the vote's decision: VoteClosed.)
type ApplicationRefused struct {
	CouncilID     int64  `json:"council_id"`
	ApplicationID int64  `json:"application_id"`
	Reason        string `json:"reason"`
}

// Kind names the job.
func (ApplicationRefused) Kind() string { return "notify.application_refused" }
