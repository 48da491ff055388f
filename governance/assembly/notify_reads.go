package assembly

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/auth"
)

// Reads for governance/notify, which writes to members about meetings and
// votes and reads them through these functions rather than with its own SQL.

// MeetingsToConvene lists, across councils, the planned meetings whose
// convocation is due at now: starting after now and within their council's
// convocation_days (DefaultConvocationDays when unset). Cancelled meetings
// are listed too once their convocation period came, so that a cancellation
// missed is caught up.
func MeetingsToConvene(ctx context.Context, db bun.IDB, now time.Time) ([]Meeting, error) {
	var ms []Meeting
	err := db.NewSelect().Model(&ms).
		Join("LEFT JOIN meeting_rules AS r ON r.council_id = meeting.council_id").
		Where("meeting.state IN (?, ?)", MeetingPlanned, MeetingCancelled).
		Where("meeting.starts_at > ?", now).
		Where("meeting.starts_at <= ?::timestamptz + make_interval(days => coalesce(r.convocation_days, ?))", now, DefaultConvocationDays).
		Order("meeting.council_id", "meeting.starts_at").Limit(1000).Scan(ctx)
	return ms, err
}

// MeetingDecisions lists a meeting's decisions in agenda order.
func MeetingDecisions(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]Decision, error) {
	return meetingDecisions(ctx, db, councilID, meetingID)
}

// VotesClosingBetween lists, across councils, the open online votes whose
// window ends in (from, to].
func VotesClosingBetween(ctx context.Context, db bun.IDB, from, to time.Time) ([]Vote, error) {
	var vs []Vote
	err := db.NewSelect().Model(&vs).
		Where("state = ? AND mode = ? AND closes_at > ? AND closes_at <= ?", VoteOpen, ModeOnline, from, to).
		Order("council_id", "id").Limit(1000).Scan(ctx)
	return vs, err
}

// EligibleVoters returns the account ids of who may cast a ballot in an
// online vote: the members marked present at its meeting, or, for a vote
// with a time window, every active member of the council.
func EligibleVoters(ctx context.Context, db bun.IDB, v *Vote) ([]int64, error) {
	if v.ClosesAt != nil {
		return auth.AllActiveMemberIDs(ctx, db, v.CouncilID)
	}
	var present []int64
	if err := db.NewSelect().Model((*Attendance)(nil)).Column("member_id").
		Where("council_id = ? AND meeting_id = ? AND status = ?", v.CouncilID, v.MeetingID, Present).
		Order("member_id").Scan(ctx, &present); err != nil {
		return nil, err
	}
	return auth.ActiveMemberIDs(ctx, db, v.CouncilID, present)
}

// Voted returns the account ids that cast a ballot in a vote. For a secret
// vote this says who took part, never how: the ballots table keeps member_id
// only for "one ballot per member", and a reminder needs exactly that.
func Voted(ctx context.Context, db bun.IDB, councilID, voteID int64) (map[int64]bool, error) {
	var ids []int64
	if err := db.NewSelect().Table("ballots").Column("member_id").
		Where("council_id = ? AND vote_id = ?", councilID, voteID).Scan(ctx, &ids); err != nil {
		return nil, err
	}
	voted := make(map[int64]bool, len(ids))
	for _, id := range ids {
		voted[id] = true
	}
	return voted, nil
}

// NextMeeting returns the council's next planned meeting after now, nil when
// none is planned; one query.
func NextMeeting(ctx context.Context, db bun.IDB, councilID int64, now time.Time) (*Meeting, error) {
	var ms []Meeting
	err := db.NewSelect().Model(&ms).Where("council_id = ? AND state = ? AND starts_at > ?", councilID, MeetingPlanned, now).
		Order("starts_at", "id").Limit(1).Scan(ctx)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return &ms[0], nil
}

// DecisionsSince lists the council's decisions taken after since, oldest
// first, at most limit; one query.
func DecisionsSince(ctx context.Context, db bun.IDB, councilID int64, since time.Time, limit int) ([]Decision, error) {
	var ds []Decision
	err := selectDecisions(db, &ds).Where("d.council_id = ? AND d.decided_at > ?", councilID, since).
		Order("d.decided_at", "d.id").Limit(limit).Scan(ctx)
	return ds, err
}
