package assembly

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/text"
)

// The audit actions of a meeting's steps, each recorded in the transaction of
// the step (#19: a meeting's whole course is in the trail).
const (
	auditMeetingCreate  = "meeting.create"
	auditMeetingUpdate  = "meeting.update"
	auditMeetingState   = "meeting.state" // opened, closed or cancelled
	auditMeetingRoll    = "meeting.roll"
	auditAgendaAdd      = "agenda.add"
	auditAgendaMove     = "agenda.move"
	auditAgendaRemove   = "agenda.remove"
	auditMinutesDraft   = "minutes.draft" // written at the close, or regenerated
	auditMinutesEdit    = "minutes.edit"
	auditMinutesApprove = "minutes.approve"
)

// recordMeeting appends a step of meeting meetingID to the audit trail, in tx.
func recordMeeting(ctx context.Context, tx bun.IDB, actor audit.Actor, councilID, meetingID int64, action, summary string, after any) error {
	return audit.Record(ctx, tx, actor.Entry(&councilID, action, "meeting", strconv.FormatInt(meetingID, 10), summary), nil, after)
}

// errNoQuorum refuses what needs the quorum (a vote, approving minutes),
// saying what is missing: "Le quorum n'est pas atteint (2 présent·es pour 4
// requis·es) : <what>."
func errNoQuorum(q quorum, what string) error {
	return apperr.New(apperr.Conflict, "Le quorum n'est pas atteint (%s pour %s) : %s.",
		text.Count(q.Present, "présent·e", "présent·es"), text.Count(q.Required, "requis·e", "requis·es"), what)
}
