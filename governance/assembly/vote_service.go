package assembly

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/governance/boussole"
	"cla/governance/notify/event"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/database"
)

// OpenVote opens a vote on an item of a running meeting. The quorum must be
// reached unless the council allows votes without it. A vote on a proposal moves
// the proposal to "en vote" in the same transaction.
func OpenVote(ctx context.Context, db *bun.DB, actor audit.Actor, v *Vote) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The meeting first, scoped by council (another council's is not
		// found, whatever its state), then its state, then the form.
		m, err := lockMeeting(ctx, tx, v.CouncilID, v.MeetingID)
		if err != nil {
			return err
		}
		if m.State != MeetingOpen {
			return apperr.New(apperr.Conflict, "Un vote ne s'ouvre que pendant la séance (séance « %s »).", m.State.Label())
		}
		if err := v.Validate(); err != nil {
			return err
		}
		item := new(AgendaItem)
		if err := tx.NewSelect().Model(item).Where("id = ? AND meeting_id = ? AND council_id = ?", v.AgendaItemID, v.MeetingID, v.CouncilID).Scan(ctx); err != nil {
			if database.IsNoRows(err) {
				return apperr.Fields{"agenda_item": "Ce point n'est pas à l'ordre du jour de la séance."}.Err()
			}
			return err
		}
		// The members, quorum and rule in force now, stored with the meeting
		// and with the vote.
		if err := snapshotQuorum(ctx, tx, v.CouncilID, v.MeetingID, false); err != nil {
			return err
		}
		if err := checkItemVotable(ctx, tx, item); err != nil {
			return err
		}
		if item.Kind == AgendaRectification && v.Method == MethodJudgment {
			return apperr.Fields{"method": "Une décision rectificative se vote à la majorité ou par consentement : adoptée, elle remplace la décision ; rejetée, la décision reste en vigueur."}.Err()
		}
		q, err := quorumOf(ctx, tx, v.CouncilID, v.MeetingID)
		if err != nil {
			return err
		}
		v.QuorumMembers, v.QuorumPresent, v.QuorumRequired, v.QuorumRule = &q.Members, &q.Present, &q.Required, ruleOf(q.Rules)
		if !q.VoteAllowed() {
			return errNoQuorum(q, "le vote ne peut pas s'ouvrir")
		}
		if v.ClosesAt != nil && !v.ClosesAt.After(time.Now()) {
			return apperr.Fields{"closes_at": "La fin du vote doit être à venir."}.Err()
		}
		v.State, v.OpenedAt, v.Outcome = VoteOpen, time.Now(), ""
		if _, err := tx.NewInsert().Model(v).Returning("id, opened_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert vote: %w", err)
		}
		for i := range v.Options {
			v.Options[i].CouncilID, v.Options[i].VoteID, v.Options[i].Position = v.CouncilID, v.ID, i+1
		}
		if len(v.Options) > 0 {
			if _, err := tx.NewInsert().Model(&v.Options).Exec(ctx); err != nil {
				return fmt.Errorf("insert options: %w", err)
			}
		}
		if item.Kind == AgendaProposal && item.ProposalID != nil {
			if err := proposal.TransitionProposal(ctx, tx, v.CouncilID, *item.ProposalID, actor, proposal.ProposalVoting, "Vote ouvert en séance : "+v.Question); err != nil {
				return err
			}
		}
		if v.Mode == ModeOnline {
			if err := event.Enqueue(ctx, tx, event.VoteOpened{CouncilID: v.CouncilID, VoteID: v.ID}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, actor.Entry(&v.CouncilID, "vote.open", "vote", strconv.FormatInt(v.ID, 10), "Vote ouvert : "+v.Question), nil, v)
	})
}

// GetVote loads one of the council's votes with its options.
func GetVote(ctx context.Context, db bun.IDB, councilID, id int64) (*Vote, error) {
	v := new(Vote)
	err := db.NewSelect().Model(v).Where("id = ? AND council_id = ?", id, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Vote introuvable.")
	}
	if err != nil {
		return nil, err
	}
	if v.Method != MethodJudgment {
		return v, nil // only majority-judgment votes have options (Vote.Validate)
	}
	err = db.NewSelect().Model(&v.Options).Where("vote_id = ? AND council_id = ?", id, councilID).Order("position").Scan(ctx)
	return v, err
}

// MeetingVotes lists the votes of a meeting with their options (two queries).
func MeetingVotes(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]Vote, error) {
	var vs []Vote
	if err := db.NewSelect().Model(&vs).Where("council_id = ? AND meeting_id = ?", councilID, meetingID).Order("id").Scan(ctx); err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return vs, nil
	}
	ids := make([]int64, len(vs))
	for i := range vs {
		ids[i] = vs[i].ID
	}
	var opts []VoteOption
	if err := db.NewSelect().Model(&opts).Where("council_id = ? AND vote_id IN (?)", councilID, bun.List(ids)).Order("vote_id", "position").Scan(ctx); err != nil {
		return nil, err
	}
	for _, o := range opts {
		for i := range vs {
			if vs[i].ID == o.VoteID {
				vs[i].Options = append(vs[i].Options, o)
			}
		}
	}
	return vs, nil
}

// lockVote loads a vote and its options, the vote row locked FOR UPDATE for the
// close: a statement writing ballots takes the row FOR SHARE (trigger ballots_votes_open),
// so it either commits before the close and is counted, or waits and is refused.
func lockVote(ctx context.Context, tx bun.Tx, councilID, id int64) (*Vote, error) {
	v := new(Vote)
	err := tx.NewSelect().Model(v).Where("id = ? AND council_id = ?", id, councilID).For("UPDATE").Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Vote introuvable.")
	}
	if err != nil {
		return nil, err
	}
	if v.Method != MethodJudgment {
		return v, nil // only majority-judgment votes have options (Vote.Validate)
	}
	err = tx.NewSelect().Model(&v.Options).Where("vote_id = ? AND council_id = ?", id, councilID).Order("position").Scan(ctx)
	return v, err
}

// MyBallot returns a member's ballot in a vote, or nil.
func MyBallot(ctx context.Context, db bun.IDB, councilID, voteID, memberID int64) (*Ballot, error) {
	b := new(Ballot)
	err := db.NewSelect().Model(b).Where("vote_id = ? AND council_id = ? AND member_id = ?", voteID, councilID, memberID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, nil
	}
	return b, err
}

// NominalBallot is a ballot with its voter's name, shown after the close of a
// nominal vote only.
type NominalBallot struct {
	Name string `bun:"name"`
	// Via says who entered the ballot when not the member (ByName).
	Via    BallotVia
	ByName string
	Choice Choice  `bun:"choice"`
	Reason string  `bun:"reason"`
	Grades []int16 `bun:"grades,array"`
}

// GradeLabels are the ballot's grades in French, by option.
func (b NominalBallot) GradeLabels() []string {
	out := make([]string, len(b.Grades))
	for i, g := range b.Grades {
		out[i] = boussole.Grade(g).Label()
	}
	return out
}

// NominalBallots lists who voted what in a closed nominal vote; nothing for an
// anonymous or open vote.
func NominalBallots(ctx context.Context, db bun.IDB, v *Vote) ([]NominalBallot, error) {
	if v.Anonymous() || !v.Closed() {
		return nil, nil
	}
	var ballots []struct {
		MemberID int64     `bun:"member_id"`
		Choice   Choice    `bun:"choice"`
		Reason   string    `bun:"reason"`
		Grades   []int16   `bun:"grades,array"`
		Via      BallotVia `bun:"via"`
		By       int64     `bun:"by"`
	}
	if err := db.NewRaw(`SELECT member_id, choice, reason, grades, via, coalesce(cast_by_id, 0) AS by FROM ballots WHERE vote_id = ? AND council_id = ?`,
		v.ID, v.CouncilID).Scan(ctx, &ballots); err != nil {
		return nil, err
	}
	ids := make([]int64, len(ballots))
	byMember := make(map[int64]int, len(ballots))
	var casters []int64
	for i, b := range ballots {
		ids[i], byMember[b.MemberID] = b.MemberID, i
		if b.By != 0 {
			casters = append(casters, b.By)
		}
	}
	// The voters' names come from auth, in its order: by name, then id.
	names, err := auth.AccountNames(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	byNames, err := auth.AccountNames(ctx, db, casters)
	if err != nil {
		return nil, err
	}
	out := make([]NominalBallot, 0, len(names))
	for _, n := range names {
		b := ballots[byMember[n.ID]]
		nb := NominalBallot{Name: n.Name, Choice: b.Choice, Reason: b.Reason, Grades: b.Grades, Via: b.Via}
		if b.By != 0 {
			nb.ByName = nameOf(byNames, b.By)
		}
		out = append(out, nb)
	}
	return out, nil
}

// RoomCounts are the counts of a show of hands, entered by the facilitator.
type RoomCounts struct {
	For, Against, Abstain int
	Objections            int
	ObjectionReasons      []string
	Profiles              []MeritProfile // majority judgment: per option, by position
}

// presentCount is the number of members marked present at a meeting.
func presentCount(ctx context.Context, db bun.IDB, councilID, meetingID int64) (int, error) {
	var n int
	err := db.NewSelect().Table("attendances").ColumnExpr("count(*)").
		Where("meeting_id = ? AND council_id = ? AND status = ?", meetingID, councilID, Present).Scan(ctx, &n)
	return n, err
}

// CloseInput is what the facilitator gives when closing a vote.
type CloseInput struct {
	Room       *RoomCounts // for an in-room vote
	Adjourn    bool        // record the proposal as adjourned whatever the tally
	Motivation string      // the decision's motivation (markdown)
}

// CloseVote closes a vote. An online vote is counted from its stored ballots
// and published at once: in one transaction it locks the vote, stores the
// tally with the outcome and, for a vote on a proposal, records the decision
// and applies an adopted change to the register. All or nothing.
//
// An in-room vote is not published by its close: the counts of the show of
// hands are checked first. The close stores them (bounded by the members
// present and their proxies) and leaves the vote "à vérifier", without an
// outcome or a decision (the returned decision is nil): the facilitator may
// correct them with a reason (CorrectCounts), then publishes (PublishVote),
// which does the rest of an online close. in.Adjourn and in.Motivation are
// then read by PublishVote.
func CloseVote(ctx context.Context, db *bun.DB, councilID, voteID int64, actor audit.Actor, in CloseInput) (*Vote, *Decision, error) {
	var v *Vote
	var d *Decision
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if v, err = lockVote(ctx, tx, councilID, voteID); err != nil {
			return err
		}
		switch v.State {
		case VoteCounted:
			return errVoteAlreadyCounted
		case VoteClosed:
			return errVoteAlreadyClosed
		}
		if v.InRoom() {
			tally, err := countRoom(ctx, tx, v, in.Room)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(tally)
			if err != nil {
				return err
			}
			if _, err := tx.NewRaw(`UPDATE votes SET state = ?, tally = ?, ballot_count = ? WHERE id = ? AND council_id = ?`,
				VoteCounted, string(raw), tally.Ballots, voteID, councilID).Exec(ctx); err != nil {
				return fmt.Errorf("count vote: %w", err)
			}
			v.State, v.Tally, v.BallotCount = VoteCounted, tally, &tally.Ballots
			return audit.Record(ctx, tx, actor.Entry(&councilID, "vote.count", "vote", strconv.FormatInt(v.ID, 10),
				"Décompte saisi, à vérifier avant publication : "+v.Question), nil, tally)
		}
		tally := &VoteTally{}
		if tally.Present, err = presentCount(ctx, tx, councilID, v.MeetingID); err != nil {
			return err
		}
		var ballots []Ballot
		if err := tx.NewSelect().Model(&ballots).Where("vote_id = ? AND council_id = ?", voteID, councilID).Order("id").Scan(ctx); err != nil {
			return err
		}
		for i := range ballots {
			tally.Add(v, &ballots[i])
		}
		d, err = publishVote(ctx, tx, v, tally, len(ballots), actor, in)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return v, d, nil
}

// countRoom checks the counts of a show of hands against the members present
// now and the proxies they carry, and returns the tally they make.
func countRoom(ctx context.Context, tx bun.Tx, v *Vote, rc *RoomCounts) (*VoteTally, error) {
	if rc == nil {
		return nil, apperr.Fields{"counts": "Saisissez le décompte du vote à main levée."}.Err()
	}
	tally := &VoteTally{InRoom: true}
	var err error
	if tally.Present, err = presentCount(ctx, tx, v.CouncilID, v.MeetingID); err != nil {
		return nil, err
	}
	bound, err := maxInRoomVotes(ctx, tx, v.CouncilID, v.MeetingID)
	if err != nil {
		return nil, err
	}
	if err := roomTally(v, rc, tally, bound); err != nil {
		return nil, err
	}
	return tally, nil
}

// publishVote closes a counted vote (n ballots or hands) and publishes its
// result, inside the caller's transaction holding the vote's lock: the
// outcome, the audit entry, the decision of a vote on a proposal (with its
// register change) and the notification.
func publishVote(ctx context.Context, tx bun.Tx, v *Vote, tally *VoteTally, n int, actor audit.Actor, in CloseInput) (*Decision, error) {
	outcome, winner := tally.Decide(v)
	raw, err := json.Marshal(tally)
	if err != nil {
		return nil, err
	}
	if err := tx.NewRaw(`UPDATE votes SET state = ?, closed_at = greatest(clock_timestamp(), opened_at), tally = ?, ballot_count = ?,
		outcome = ?, winner_option = ? WHERE id = ? AND council_id = ? RETURNING closed_at`,
		VoteClosed, string(raw), n, outcome, winner, v.ID, v.CouncilID).Scan(ctx, &v.ClosedAt); err != nil {
		return nil, fmt.Errorf("close vote: %w", err)
	}
	v.State, v.Tally, v.BallotCount, v.Outcome, v.WinnerOption = VoteClosed, tally, &n, outcome, winner
	if err := audit.Record(ctx, tx, actor.Entry(&v.CouncilID, "vote.close", "vote", strconv.FormatInt(v.ID, 10), fmt.Sprintf("Vote clos (%s) : %s", v.OutcomeLabel(), v.Question)), nil, tally); err != nil {
		return nil, err
	}
	d, err := decideOnClose(ctx, tx, v, actor, in)
	if err != nil {
		return nil, err
	}
	return d, event.Enqueue(ctx, tx, event.VoteClosed{CouncilID: v.CouncilID, VoteID: v.ID})
}

// PublishVote publishes the checked counts of an in-room vote: the outcome,
// the decision and the register change, as an online vote's close does.
func PublishVote(ctx context.Context, db *bun.DB, councilID, voteID int64, actor audit.Actor, in CloseInput) (*Vote, *Decision, error) {
	var v *Vote
	var d *Decision
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if v, err = lockVote(ctx, tx, councilID, voteID); err != nil {
			return err
		}
		switch v.State {
		case VoteOpen:
			return apperr.New(apperr.Conflict, "Le décompte de ce vote n'est pas encore saisi : clôturez-le d'abord.")
		case VoteClosed:
			return errVoteAlreadyClosed
		}
		d, err = publishVote(ctx, tx, v, v.Tally, v.Tally.Ballots, actor, in)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return v, d, nil
}

// CorrectCounts replaces the counts of an in-room vote before its result is
// published, with the reason the room gave: the vote keeps the correction
// (the counts it replaced, who, when, why) in its tally, and the audit trail
// the tallies before and after. The new counts have the bounds of the first.
func CorrectCounts(ctx context.Context, db *bun.DB, councilID, voteID int64, actor audit.Actor, rc *RoomCounts, reason string) (*Vote, error) {
	var v *Vote
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if v, err = lockVote(ctx, tx, councilID, voteID); err != nil {
			return err
		}
		switch v.State {
		case VoteOpen:
			return apperr.New(apperr.Conflict, "Le décompte de ce vote n'est pas encore saisi : il n'y a rien à corriger.")
		case VoteClosed:
			return apperr.New(apperr.Conflict, "Le résultat de ce vote est publié : il ne se corrige plus. Une décision rectificative passe par l'ordre du jour d'une séance.")
		}
		reason = strings.TrimSpace(reason)
		f := apperr.Fields{}
		switch n := utf8.RuneCountInString(reason); {
		case n == 0:
			f.Add("correction_reason", "Dites pourquoi le décompte est corrigé : le motif est publié avec le résultat.")
		case n > 500:
			f.Add("correction_reason", "Le motif compte 500 caractères au plus.")
		}
		tally, err := countRoom(ctx, tx, v, rc)
		if fe := apperr.FieldsOf(err); fe != nil {
			for k, m := range fe {
				f[k] = m
			}
		} else if err != nil {
			return err
		}
		if len(f) > 0 {
			return f.Err()
		}
		before := v.Tally
		if countsLine(v, tally) == countsLine(v, before) {
			return apperr.Fields{"counts": "Ce décompte est celui déjà saisi : rien à corriger."}.Err()
		}
		tally.Corrections = append(append([]CountCorrection(nil), before.Corrections...),
			CountCorrection{At: time.Now(), By: actor.Name, Reason: reason, Before: countsLine(v, before)})
		raw, err := json.Marshal(tally)
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE votes SET tally = ?, ballot_count = ? WHERE id = ? AND council_id = ? AND state = ?`,
			string(raw), tally.Ballots, voteID, councilID, VoteCounted).Exec(ctx); err != nil {
			return fmt.Errorf("correct vote: %w", err)
		}
		v.Tally, v.BallotCount = tally, &tally.Ballots
		return audit.Record(ctx, tx, actor.Entry(&councilID, "vote.correct", "vote", strconv.FormatInt(v.ID, 10),
			fmt.Sprintf("Décompte corrigé avant publication (%s → %s) : %s", countsLine(v, before), countsLine(v, tally), reason)), before, tally)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// errVoteAlreadyCounted refuses a second close of an in-room vote (two
// facilitators, or the same form sent twice): its counts are there to check.
var errVoteAlreadyCounted = apperr.New(apperr.Conflict, "Le décompte de ce vote est déjà saisi : vérifiez-le ci-dessous, corrigez-le s'il le faut, puis publiez le résultat.")

// RoomCountField is the form field (and validation key) of an in-room
// majority-judgment count: option position, grade.
func RoomCountField(position int, g boussole.Grade) string {
	return "o" + strconv.Itoa(position) + "g" + strconv.Itoa(int(g))
}

// roomTally checks the counts of a show of hands and fills the tally. Every
// count lies between 0 and limit (maxInRoomVotes: the members present, and
// the proxies they carry), and so does each sum: each count is checked before
// anything is added, so no sum can overflow, whatever the caller passed.
// Messages are keyed by form field.
func roomTally(v *Vote, rc *RoomCounts, t *VoteTally, limit int) error {
	f := apperr.Fields{}
	bound := func(field string, n int) bool {
		switch {
		case n < 0:
			f.Add(field, "Un décompte est un nombre positif ou nul.")
		case n > limit && limit == 0:
			f.Add(field, "Aucun membre n'est noté présent : faites l'appel avant de saisir le décompte.")
		case n > limit:
			f.Add(field, fmt.Sprintf("Au plus %d : le nombre de membres présents.", limit))
		default:
			return true
		}
		return false
	}
	switch v.Method {
	case MethodMajority:
		ok := bound("pour", rc.For)
		ok = bound("contre", rc.Against) && ok
		ok = bound("abstention", rc.Abstain) && ok
		if ok && rc.For+rc.Against+rc.Abstain > limit {
			f.Add("counts", fmt.Sprintf("Pour, contre et abstentions font %d voix pour %d membres présents.", rc.For+rc.Against+rc.Abstain, limit))
		}
		t.For, t.Against, t.Abstain = rc.For, rc.Against, rc.Abstain
		t.Ballots = rc.For + rc.Against + rc.Abstain
	case MethodConsent:
		if bound("objections", rc.Objections) && rc.Objections > 0 && len(rc.ObjectionReasons) == 0 {
			f.Add("reasons", "Une objection doit être motivée : notez sa raison.")
		}
		t.Objections, t.ObjectionReasons = rc.Objections, rc.ObjectionReasons
		t.Consent = max(limit-rc.Objections, 0)
		t.Ballots = t.Consent + t.Objections
	case MethodJudgment:
		if len(rc.Profiles) != len(v.Options) {
			return apperr.Fields{"counts": "Saisissez le profil de mérite de chaque option."}.Err()
		}
		t.Profiles = rc.Profiles
		for i, p := range rc.Profiles {
			ok := true
			for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
				ok = bound(RoomCountField(i+1, g), p.Counts[g]) && ok
			}
			if p.Counts[boussole.NoOpinion] != 0 {
				ok = false
				f.Add("counts", "Chaque mention va de « À rejeter » à « Excellent ».")
			}
			if !ok {
				continue
			}
			if n := p.Total(); n > limit {
				f.Add("o"+strconv.Itoa(i+1), fmt.Sprintf("« %s » reçoit %d mentions pour %d membres présents.", v.Options[i].Label, n, limit))
			} else if n > t.Ballots {
				t.Ballots = n
			}
		}
	}
	return f.Err()
}
