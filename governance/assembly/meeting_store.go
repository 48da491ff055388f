package assembly

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/notify/event"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/database"
	"cla/internal/web"
)

// CreateMeeting validates and stores a new planned meeting, recorded in the
// audit trail as the system's act (CreateMeetingAs names who).
func CreateMeeting(ctx context.Context, db bun.IDB, m *Meeting) error {
	return CreateMeetingAs(ctx, db, audit.Actor{}, m)
}

// CreateMeetingAs validates and stores a new planned meeting scheduled by actor.
func CreateMeetingAs(ctx context.Context, db bun.IDB, actor audit.Actor, m *Meeting) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.State = MeetingPlanned
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
			return err
		}
		if err := event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: m.CouncilID, MeetingID: m.ID}); err != nil {
			return err
		}
		if err := recordMeeting(ctx, tx, actor, m.CouncilID, m.ID, auditMeetingCreate, "Séance programmée : "+m.Title, m); err != nil {
			return err
		}
		return emitMeeting(ctx, tx, m.CouncilID, m.ID)
	})
}

// updateMeeting changes a planned or running meeting's date, place and note, and
// bumps its iCalendar SEQUENCE so that calendars take the change.
func updateMeeting(ctx context.Context, db bun.IDB, actor audit.Actor, m *Meeting) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model(m).Column("title", "starts_at", "ends_at", "place", "note").
			Set("sequence = sequence + 1").Set("updated_at = now()").
			Where("id = ? AND council_id = ? AND state NOT IN (?, ?)", m.ID, m.CouncilID, MeetingClosed, MeetingCancelled).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errMeetingClosed
		}
		if err := event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: m.CouncilID, MeetingID: m.ID}); err != nil {
			return err
		}
		if err := recordMeeting(ctx, tx, actor, m.CouncilID, m.ID, auditMeetingUpdate, "Séance modifiée : "+m.Title, m); err != nil {
			return err
		}
		return emitMeeting(ctx, tx, m.CouncilID, m.ID)
	})
}

var errMeetingClosed = apperr.New(apperr.Conflict, "Une séance close ne change plus.")

// Meetings lists the council's meetings, the most recent first.
func Meetings(ctx context.Context, db bun.IDB, councilID int64) ([]Meeting, error) {
	var ms []Meeting
	err := db.NewSelect().Model(&ms).Where("council_id = ?", councilID).Order("starts_at DESC").Limit(500).Scan(ctx)
	return ms, err
}

// GetMeeting loads one of the council's meetings.
func GetMeeting(ctx context.Context, db bun.IDB, councilID, id int64) (*Meeting, error) {
	m := new(Meeting)
	err := db.NewSelect().Model(m).Where("id = ? AND council_id = ?", id, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Séance introuvable.")
	}
	return m, err
}

// lockMeeting loads a meeting FOR UPDATE inside a transaction.
func lockMeeting(ctx context.Context, tx bun.Tx, councilID, id int64) (*Meeting, error) {
	m := new(Meeting)
	err := tx.NewSelect().Model(m).Where("id = ? AND council_id = ?", id, councilID).For("UPDATE").Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Séance introuvable.")
	}
	return m, err
}

// SetMeetingState moves a meeting along prévue → en cours → close, as the
// system (SetMeetingStateAs names who); a meeting opened on another day than
// its date is recorded on the day it is opened.
func SetMeetingState(ctx context.Context, db *bun.DB, councilID, id int64, to MeetingState) error {
	return SetMeetingStateAs(ctx, db, audit.Actor{}, councilID, id, StateChange{To: to, OtherDay: true})
}

// StateChange is a move of a meeting's state. OtherDay confirms opening a
// meeting on another day than the one it was convened for.
type StateChange struct {
	To       MeetingState
	OtherDay bool
}

// ErrOtherDay refuses to open, unconfirmed, a meeting on another day than its
// date: the facilitator confirms, and the meeting (and its decisions) are
// then dated the day it is really held.
var ErrOtherDay = apperr.New(apperr.Conflict, "Cette séance est prévue un autre jour : confirmez qu'elle se tient aujourd'hui.")

// SetMeetingStateAs moves a meeting along prévue → en cours → close.
// Closing a meeting closes nothing else: votes still open must be closed
// first. The minutes draft is written when the meeting closes. Opening a
// meeting on another day (Paris time) than its date needs ch.OtherDay; it
// then keeps its planned date in planned_starts_at and starts now, for the
// same duration. Each move is in the audit trail.
func SetMeetingStateAs(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, id int64, ch StateChange) error {
	to := ch.To
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := lockMeeting(ctx, tx, councilID, id)
		if err != nil {
			return err
		}
		record := func(summary string) error {
			return recordMeeting(ctx, tx, actor, councilID, id, auditMeetingState, summary, map[string]any{"from": m.State, "to": to})
		}
		switch {
		case m.State == MeetingPlanned && to == MeetingCancelled:
			if _, err = tx.NewUpdate().Model(m).Set("state = ?", to).Set("updated_at = now()").Set("sequence = sequence + 1").
				Where("id = ? AND council_id = ?", id, councilID).Exec(ctx); err != nil {
				return err
			}
			if err := record("Séance annulée : " + m.Title); err != nil {
				return err
			}
			return event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: councilID, MeetingID: id})
		case m.State == MeetingPlanned && to == MeetingOpen:
			now := time.Now()
			co, err := council.ByID(ctx, tx, councilID)
			if err != nil {
				return err
			}
			if sameDay(m.StartsAt, now, co.Location()) {
				_, err = tx.NewUpdate().Model(m).Set("state = ?", to).Set("opened_at = now()").Set("updated_at = now()").
					Where("id = ? AND council_id = ?", id, councilID).Exec(ctx)
				if err != nil {
					return err
				}
				return record("Séance ouverte : " + m.Title)
			}
			if !ch.OtherDay {
				return ErrOtherDay
			}
			// Held today rather than on its date: it starts now, for the
			// planned duration, and calendars hear of the change.
			start := now.Truncate(time.Minute)
			if _, err = tx.NewUpdate().Model(m).Set("state = ?", to).Set("opened_at = now()").Set("updated_at = now()").
				Set("planned_starts_at = coalesce(planned_starts_at, starts_at)").Set("starts_at = ?", start).
				Set("ends_at = ?", start.Add(m.EndsAt.Sub(m.StartsAt))).Set("sequence = sequence + 1").
				Where("id = ? AND council_id = ?", id, councilID).Exec(ctx); err != nil {
				return err
			}
			if err := event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: councilID, MeetingID: id}); err != nil {
				return err
			}
			return record("Séance ouverte le " + web.FrenchDate(start) + ", prévue le " + web.FrenchDate(m.StartsAt) + " : " + m.Title)
		case m.State == MeetingOpen && to == MeetingClosed:
			var open []VoteState
			if err := tx.NewSelect().Table("votes").Column("state").Where("meeting_id = ? AND council_id = ? AND state IN (?)", id, councilID,
				bun.List([]VoteState{VoteOpen, VoteCounted})).Scan(ctx, &open); err != nil {
				return err
			}
			switch {
			case slices.Contains(open, VoteOpen):
				return apperr.New(apperr.Conflict, "Un vote est encore ouvert : clôturez-le avant de clore la séance.")
			case len(open) > 0:
				// Counts are checked with the room present: not after it left.
				return apperr.New(apperr.Conflict, "Le décompte d'un vote à main levée attend sa vérification : publiez son résultat avant de clore la séance.")
			}
			// A meeting closed without a roll keeps the quorum it closed with.
			if err := snapshotQuorum(ctx, tx, councilID, id, true); err != nil {
				return err
			}
			if _, err = tx.NewUpdate().Model(m).Set("state = ?", to).Set("closed_at = now()").Set("updated_at = now()").
				Set("sequence = sequence + 1").Where("id = ? AND council_id = ?", id, councilID).Exec(ctx); err != nil {
				return err
			}
			if err := record("Séance close : " + m.Title); err != nil {
				return err
			}
			if err := WriteDraftMinutes(ctx, tx, councilID, id, false); err != nil {
				return err
			}
			return recordMeeting(ctx, tx, actor, councilID, id, auditMinutesDraft, "Brouillon du compte rendu rédigé : "+m.Title, nil)
		}
		return apperr.New(apperr.Conflict, "Passage impossible de « %s » à « %s ».", m.State.Label(), to.Label())
	})
}

// sameDay reports whether a and b fall on the same day in loc (the
// council's time zone).
func sameDay(a, b time.Time, loc *time.Location) bool {
	ya, ma, da := a.In(loc).Date()
	yb, mb, db := b.In(loc).Date()
	return ya == yb && ma == mb && da == db
}

// Agenda returns a meeting's agenda in order.
func Agenda(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]AgendaItem, error) {
	var items []AgendaItem
	err := db.NewSelect().Model(&items).ColumnExpr("agenda_item.*, coalesce(d.slug, '') AS debate_slug").
		Join("LEFT JOIN debates AS d ON d.id = agenda_item.debate_id AND d.council_id = agenda_item.council_id").
		Where("agenda_item.council_id = ? AND agenda_item.meeting_id = ?", councilID, meetingID).Order("agenda_item.position").Scan(ctx)
	return items, err
}

// AddAgendaItem appends an item at the end of a meeting's agenda. A proposal
// or debate item takes its title from the proposal or debate when none is given.
// An open or adjourned proposal becomes "inscrite à l'ordre du jour" in the same
// transaction (one already inscrite stays so).
func AddAgendaItem(ctx context.Context, db *bun.DB, actor audit.Actor, it *AgendaItem) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The meeting first, in the council (another council's is not found,
		// whatever its state), then its state, then the item.
		m, err := lockMeeting(ctx, tx, it.CouncilID, it.MeetingID)
		if err != nil {
			return err
		}
		if m.State == MeetingClosed {
			return apperr.New(apperr.Conflict, "L'ordre du jour d'une séance close ne change plus.")
		}
		if it.Title == "" {
			switch it.Kind {
			case AgendaProposal:
				if it.ProposalID != nil {
					err = tx.NewSelect().Table("proposals").Column("title").
						Where("id = ? AND council_id = ?", *it.ProposalID, it.CouncilID).Scan(ctx, &it.Title)
				}
			case AgendaDebate:
				if it.DebateID != nil {
					err = tx.NewSelect().Table("debates").Column("title").
						Where("id = ? AND council_id = ?", *it.DebateID, it.CouncilID).Scan(ctx, &it.Title)
				}
			}
			if database.IsNoRows(err) {
				return apperr.Fields{"target": "Proposition ou débat introuvable."}.Err()
			} else if err != nil {
				return err
			}
		}
		if err := it.Validate(); err != nil {
			return err
		}
		if err := tx.NewSelect().Table("agenda_items").ColumnExpr("coalesce(max(position), 0) + 1").
			Where("meeting_id = ? AND council_id = ?", it.MeetingID, it.CouncilID).Scan(ctx, &it.Position); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(it).Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("agenda item: %w", err)
		}
		if err := event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: it.CouncilID, MeetingID: it.MeetingID}); err != nil {
			return err
		}
		if err := recordMeeting(ctx, tx, actor, it.CouncilID, it.MeetingID, auditAgendaAdd, "Point ajouté à l'ordre du jour : "+it.Title, it); err != nil {
			return err
		}
		if it.Kind == AgendaProposal {
			p, err := proposal.GetProposal(ctx, tx, it.CouncilID, *it.ProposalID)
			if err != nil {
				return err
			}
			if p.State != proposal.ProposalScheduled {
				return proposal.TransitionProposal(ctx, tx, it.CouncilID, p.ID, actor, proposal.ProposalScheduled, "Inscrite à l'ordre du jour : "+m.Title)
			}
		}
		return nil
	})
}

// moveAgendaItem moves an item up (delta -1) or down (+1) the agenda.
func moveAgendaItem(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID, itemID int64, delta int) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := lockMeeting(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		if m.State == MeetingClosed {
			return apperr.New(apperr.Conflict, "L'ordre du jour d'une séance close ne change plus.")
		}
		items, err := Agenda(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		for i := range items {
			if items[i].ID != itemID {
				continue
			}
			j := i + delta
			if j < 0 || j >= len(items) {
				return nil
			}
			a, b := items[i], items[j]
			for _, x := range []struct {
				id  int64
				pos int
			}{{a.ID, b.Position}, {b.ID, a.Position}} {
				if _, err := tx.NewUpdate().Table("agenda_items").Set("position = ?", x.pos).
					Where("id = ? AND council_id = ? AND meeting_id = ?", x.id, councilID, meetingID).Exec(ctx); err != nil {
					return err
				}
			}
			if err := recordMeeting(ctx, tx, actor, councilID, meetingID, auditAgendaMove, fmt.Sprintf("Point déplacé à la position %d : %s", b.Position, a.Title),
				map[string]any{"item": a.ID, "position": b.Position}); err != nil {
				return err
			}
			return event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: councilID, MeetingID: meetingID})
		}
		return apperr.New(apperr.NotFound, "Point de l'ordre du jour introuvable.")
	})
}

// removeAgendaItem takes an item off the agenda of a meeting not yet closed, as
// long as no vote was held on it; the following items move up.
// A proposal still "inscrite" goes back to "ouverte".
func removeAgendaItem(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID, itemID int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := lockMeeting(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		if m.State == MeetingClosed {
			return apperr.New(apperr.Conflict, "L'ordre du jour d'une séance close ne change plus.")
		}
		voted, err := tx.NewSelect().Table("votes").Where("agenda_item_id = ? AND council_id = ?", itemID, councilID).Exists(ctx)
		if err != nil {
			return err
		}
		if voted {
			return apperr.New(apperr.Conflict, "Un vote a eu lieu sur ce point : il reste à l'ordre du jour.")
		}
		var row struct {
			Position   int    `bun:"position"`
			ProposalID *int64 `bun:"proposal_id"`
			Title      string `bun:"title"`
		}
		err = tx.NewRaw("DELETE FROM agenda_items WHERE id = ? AND council_id = ? AND meeting_id = ? RETURNING position, proposal_id, title",
			itemID, councilID, meetingID).Scan(ctx, &row)
		pos := row.Position
		if database.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Point de l'ordre du jour introuvable.")
		} else if err != nil {
			return err
		}
		if _, err = tx.NewUpdate().Table("agenda_items").Set("position = position - 1").
			Where("meeting_id = ? AND council_id = ? AND position > ?", meetingID, councilID, pos).Exec(ctx); err != nil {
			return err
		}
		if err := event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: councilID, MeetingID: meetingID}); err != nil {
			return err
		}
		if err := recordMeeting(ctx, tx, actor, councilID, meetingID, auditAgendaRemove, "Point retiré de l'ordre du jour : "+row.Title,
			map[string]any{"item": itemID}); err != nil {
			return err
		}
		if row.ProposalID != nil {
			p, err := proposal.GetProposal(ctx, tx, councilID, *row.ProposalID)
			if err != nil {
				return err
			}
			if p.State == proposal.ProposalScheduled {
				return proposal.TransitionProposal(ctx, tx, councilID, p.ID, actor, proposal.ProposalOpen, "Retirée de l'ordre du jour : "+m.Title)
			}
		}
		return nil
	})
}

// Rules returns the council's meeting rules (the defaults when none are set).
func Rules(ctx context.Context, db bun.IDB, councilID int64) (MeetingRules, error) {
	r := MeetingRules{}
	err := db.NewSelect().Model(&r).Where("council_id = ?", councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return defaultRules(councilID), nil
	}
	return r, err
}

// SaveRules stores the council's meeting rules.
func SaveRules(ctx context.Context, db bun.IDB, r *MeetingRules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.UpdatedAt = time.Now()
	_, err := db.NewInsert().Model(r).
		On("CONFLICT (council_id) DO UPDATE").
		Set("quorum_kind = EXCLUDED.quorum_kind, quorum_count = EXCLUDED.quorum_count").
		Set("quorum_percent = EXCLUDED.quorum_percent, vote_without_quorum = EXCLUDED.vote_without_quorum").
		Set("convocation_days = EXCLUDED.convocation_days").
		Set("proxies_per_holder = EXCLUDED.proxies_per_holder, proxies_in_quorum = EXCLUDED.proxies_in_quorum").
		Set("updated_at = EXCLUDED.updated_at").Exec(ctx)
	return err
}

// rollEntry is one active member of the council with their answer at a meeting.
type rollEntry struct {
	MemberID int64            `bun:"member_id"`
	Name     string           `bun:"name"`
	Role     string           `bun:"role"`
	Status   AttendanceStatus `bun:"status"`
}

// Roll lists the council's active members with their attendance at a meeting
// ("" when not recorded yet), by name.
func Roll(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]rollEntry, error) {
	members, err := auth.ActiveMembersByName(ctx, db, councilID)
	if err != nil {
		return nil, err
	}
	var recorded []Attendance
	if err := db.NewSelect().Model(&recorded).Column("member_id", "status").
		Where("council_id = ? AND meeting_id = ?", councilID, meetingID).Scan(ctx); err != nil {
		return nil, err
	}
	status := make(map[int64]AttendanceStatus, len(recorded))
	for _, a := range recorded {
		status[a.MemberID] = a.Status
	}
	out := make([]rollEntry, len(members))
	for i, m := range members {
		out[i] = rollEntry{MemberID: m.AccountID, Name: m.Name, Role: string(m.Role), Status: status[m.AccountID]}
	}
	return out, nil
}

// RecordAttendance takes the roll as the system (RecordAttendanceAs names
// who).
func RecordAttendance(ctx context.Context, db *bun.DB, councilID, meetingID int64, answers map[int64]AttendanceStatus) error {
	return RecordAttendanceAs(ctx, db, audit.Actor{}, councilID, meetingID, answers)
}

// RecordAttendanceAs takes the roll: each member's answer. Only the council's
// active members can be recorded. The roll, with the quorum it is read
// against, is in the audit trail.
func RecordAttendanceAs(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID int64, answers map[int64]AttendanceStatus) error {
	for _, s := range answers {
		if !s.Valid() {
			return apperr.Fields{"status": "Réponse inconnue à l'appel."}.Err()
		}
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := lockMeeting(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		if m.State == MeetingClosed {
			return apperr.New(apperr.Conflict, "L'appel d'une séance close ne change plus.")
		}
		if len(answers) == 0 {
			return nil
		}
		ids := make([]int64, 0, len(answers))
		for id := range answers {
			ids = append(ids, id)
		}
		members, err := auth.ActiveMemberIDs(ctx, tx, councilID, ids)
		if err != nil {
			return err
		}
		if len(members) != len(ids) {
			return apperr.Fields{"member": "Seuls les membres du Conseil répondent à l'appel."}.Err()
		}
		rows := make([]Attendance, 0, len(ids))
		for _, id := range members {
			rows = append(rows, Attendance{CouncilID: councilID, MeetingID: meetingID, MemberID: id, Status: answers[id]})
		}
		if _, err = tx.NewInsert().Model(&rows).On("CONFLICT (meeting_id, member_id) DO UPDATE").
			Set("status = EXCLUDED.status, recorded_at = now()").Exec(ctx); err != nil {
			return err
		}
		var present []int64
		for _, id := range members {
			if answers[id] == Present {
				present = append(present, id)
			}
		}
		// A member who came in person takes their proxy back, before the
		// quorum is read.
		if err := fallProxies(ctx, tx, councilID, meetingID, present); err != nil {
			return err
		}
		// The members, quorum and rule the roll is read against, from now on.
		if err := snapshotQuorum(ctx, tx, councilID, meetingID, false); err != nil {
			return err
		}
		q, err := quorumOf(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		return recordMeeting(ctx, tx, actor, councilID, meetingID, auditMeetingRoll,
			fmt.Sprintf("Appel : %d présent·es, %d excusé·es, %d absent·es ; quorum requis : %d sur %d membres", q.Present, q.Excused, q.Absent, q.Required, q.Members),
			map[string]any{"answers": answers, "present": q.Present, "required": q.Required, "members": q.Members})
	})
}

// quorumOf computes a meeting's quorum from the roll and, once the roll was
// taken, the members, quorum and rule stored with it (snapshotQuorum); before
// that, from the council's current rules and membership.
func quorumOf(ctx context.Context, db bun.IDB, councilID, meetingID int64) (quorum, error) {
	snap, err := snapshotOf(ctx, db, councilID, meetingID)
	if err != nil {
		return quorum{}, err
	}
	var q quorum
	if snap.taken() {
		q = quorum{Members: *snap.Members, Required: *snap.Required, Rules: snap.Rule.rules(councilID)}
	} else if q, err = liveQuorum(ctx, db, councilID); err != nil {
		return quorum{}, err
	}
	err = db.NewRaw(`SELECT
		count(*) FILTER (WHERE status = ?) AS present,
		count(*) FILTER (WHERE status = ?) AS excused,
		count(*) FILTER (WHERE status = ?) AS absent
		FROM attendances WHERE council_id = ? AND meeting_id = ?`, Present, Excused, Absent, councilID, meetingID).
		Scan(ctx, &q.Present, &q.Excused, &q.Absent)
	if err != nil {
		return q, err
	}
	if q.Proxies, err = countedProxies(ctx, db, councilID, meetingID); err != nil {
		return q, err
	}
	return q, nil
}
