package assembly

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"cla/internal/auth"
	"cla/internal/web"
)

// quorumRule is the quorum rule in force, as a meeting or a vote stored it
// (the jsonb columns quorum_rule): a copy of the council's MeetingRules that
// later changes to the rules do not reach.
type quorumRule struct {
	Kind              QuorumKind `json:"kind"`
	Count             int        `json:"count"`
	Percent           int        `json:"percent"`
	VoteWithoutQuorum bool       `json:"vote_without_quorum"`
}

func ruleOf(r MeetingRules) *quorumRule {
	return &quorumRule{Kind: r.QuorumKind, Count: r.QuorumCount, Percent: r.QuorumPercent, VoteWithoutQuorum: r.VoteWithoutQuorum}
}

// rules is the stored rule as MeetingRules of the council.
func (r quorumRule) rules(councilID int64) MeetingRules {
	return MeetingRules{CouncilID: councilID, QuorumKind: r.Kind, QuorumCount: r.Count, QuorumPercent: r.Percent, VoteWithoutQuorum: r.VoteWithoutQuorum}
}

// quorumSnapshot is a meeting's stored quorum: the active members, the
// quorum required and the rule, as they stood when the roll was taken (or
// when the meeting closed without a roll). Nil fields: no snapshot yet.
type quorumSnapshot struct {
	Members  *int        `bun:"quorum_members"`
	Required *int        `bun:"quorum_required"`
	Rule     *quorumRule `bun:"quorum_rule,type:jsonb"`
}

// taken reports whether the snapshot was stored.
func (s quorumSnapshot) taken() bool { return s.Members != nil && s.Required != nil && s.Rule != nil }

// liveQuorum is the quorum the council's current rules and membership give:
// what a snapshot stores.
func liveQuorum(ctx context.Context, db bun.IDB, councilID int64) (quorum, error) {
	rules, err := Rules(ctx, db, councilID)
	if err != nil {
		return quorum{}, err
	}
	q := quorum{Rules: rules}
	if q.Members, err = auth.CountActiveMembers(ctx, db, councilID); err != nil {
		return quorum{}, err
	}
	q.Required = rules.Required(q.Members)
	return q, nil
}

// snapshotQuorum stores the meeting's quorum as it stands now (members, quorum
// required, rule), in the transaction that takes the roll or opens a vote;
// onlyIfMissing keeps an earlier snapshot (the close of a meeting whose roll
// was taken). A closed meeting's snapshot never changes.
func snapshotQuorum(ctx context.Context, tx bun.IDB, councilID, meetingID int64, onlyIfMissing bool) error {
	return writeSnapshot(ctx, tx, councilID, meetingID, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		q = q.Where("state <> ?", MeetingClosed)
		if onlyIfMissing {
			q = q.Where("quorum_members IS NULL")
		}
		return q
	})
}

// SnapshotQuorum stores the quorum of a meeting that has none yet, as it
// stands now, whatever the meeting's state: for meetings written outside the
// roll call (the demo's past meetings). An existing snapshot never changes.
func SnapshotQuorum(ctx context.Context, tx bun.IDB, councilID, meetingID int64) error {
	return writeSnapshot(ctx, tx, councilID, meetingID, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Where("quorum_members IS NULL")
	})
}

func writeSnapshot(ctx context.Context, tx bun.IDB, councilID, meetingID int64, where func(*bun.UpdateQuery) *bun.UpdateQuery) error {
	q, err := liveQuorum(ctx, tx, councilID)
	if err != nil {
		return err
	}
	rule, err := json.Marshal(ruleOf(q.Rules))
	if err != nil {
		return err
	}
	upd := tx.NewUpdate().Table("meetings").Set("quorum_members = ?", q.Members).Set("quorum_required = ?", q.Required).
		Set("quorum_rule = ?::jsonb", string(rule)).Where("id = ? AND council_id = ?", meetingID, councilID)
	_, err = where(upd).Exec(ctx)
	return err
}

// snapshotOf reads a meeting's stored quorum (one query).
func snapshotOf(ctx context.Context, db bun.IDB, councilID, meetingID int64) (quorumSnapshot, error) {
	var s quorumSnapshot
	err := db.NewRaw("SELECT quorum_members, quorum_required, quorum_rule FROM meetings WHERE id = ? AND council_id = ?",
		meetingID, councilID).Scan(ctx, &s)
	return s, err
}

// closedRoll is a closed meeting's roll: the members recorded at it, by name,
// whatever their membership has become since (a member who joined later is
// not listed, one who left still is).
func closedRoll(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]rollEntry, error) {
	var recorded []Attendance
	if err := db.NewSelect().Model(&recorded).Column("member_id", "status").
		Where("council_id = ? AND meeting_id = ?", councilID, meetingID).Scan(ctx); err != nil {
		return nil, err
	}
	ids := make([]int64, len(recorded))
	status := make(map[int64]AttendanceStatus, len(recorded))
	for i, a := range recorded {
		ids[i], status[a.MemberID] = a.MemberID, a.Status
	}
	names, err := auth.AccountNames(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	out := make([]rollEntry, len(names))
	for i, n := range names {
		out[i] = rollEntry{MemberID: n.ID, Name: n.Name, Status: status[n.ID]}
	}
	return out, nil
}

// rollOf is the roll of meeting m: the recorded one once it is closed, the
// council's active members with their answers before.
func rollOf(ctx context.Context, db bun.IDB, m *Meeting) ([]rollEntry, error) {
	if m.State == MeetingClosed {
		return closedRoll(ctx, db, m.CouncilID, m.ID)
	}
	return Roll(ctx, db, m.CouncilID, m.ID)
}

// QuorumLine says, for a vote page, the quorum as it stood when the vote
// opened ("" for votes opened before it was stored).
func (v *Vote) QuorumLine() string {
	if v.QuorumMembers == nil || v.QuorumPresent == nil || v.QuorumRequired == nil || v.QuorumRule == nil {
		return ""
	}
	return fmt.Sprintf("À l'ouverture du vote : %d présent·es sur %d membres, quorum requis : %d (%s).",
		*v.QuorumPresent, *v.QuorumMembers, *v.QuorumRequired, v.QuorumRule.rules(v.CouncilID).Describe())
}

// PlannedLabel says, for a meeting held on another day than the one it was
// convened for, that day ("" otherwise).
func (m *Meeting) PlannedLabel() string {
	if m.PlannedStartsAt == nil {
		return ""
	}
	return "convoquée pour le " + web.FrenchDate(*m.PlannedStartsAt) + ""
}
