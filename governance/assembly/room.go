package assembly

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
)

// maxInRoomVotes is the most votes a show of hands can count at a meeting:
// the members marked present, and the active proxies their present holders
// carry (a hand raised for two). It is the one bound of every in-room count
// (each count, each sum, each option's mentions), read by the close and by
// the close form.
func maxInRoomVotes(ctx context.Context, db bun.IDB, councilID, meetingID int64) (int, error) {
	present, err := presentCount(ctx, db, councilID, meetingID)
	if err != nil {
		return 0, err
	}
	proxies, err := countedProxies(ctx, db, councilID, meetingID)
	return present + proxies, err
}

// ballotProgress is how many of the members present have cast a ballot in an
// open vote: what the facilitator watches to know when to close. It says
// nothing of what anyone voted.
type ballotProgress struct {
	Voted   int `bun:"voted"`
	Present int `bun:"present"`
}

// Line says the progress in French: "3 des 5 membres présents ont voté".
func (p ballotProgress) Line() string {
	switch {
	case p.Present == 0:
		return "Aucun membre n'est noté présent : faites l'appel."
	case p.Voted == 0:
		return "Aucun des " + strconv.Itoa(p.Present) + " membres présents n'a encore voté."
	case p.Present == 1:
		return "Le seul membre présent a voté."
	case p.Voted == 1:
		return "1 des " + strconv.Itoa(p.Present) + " membres présents a voté."
	}
	return strconv.Itoa(p.Voted) + " des " + strconv.Itoa(p.Present) + " membres présents ont voté."
}

// voteProgress counts, in one query, the members present at the vote's
// meeting and those of them who have a ballot in the vote.
func voteProgress(ctx context.Context, db bun.IDB, councilID int64, v *Vote) (*ballotProgress, error) {
	p := new(ballotProgress)
	err := db.NewRaw(`SELECT count(*) AS present,
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ballots b WHERE b.vote_id = ? AND b.council_id = a.council_id AND b.member_id = a.member_id)) AS voted
		FROM attendances a WHERE a.council_id = ? AND a.meeting_id = ? AND a.status = ?`,
		v.ID, councilID, v.MeetingID, Present).Scan(ctx, p)
	return p, err
}

// checkItemVotable refuses a second vote on a proposal item: the proposal's
// fate was voted (adopted, rejected or adjourned), and another vote belongs
// to another meeting's agenda. A free or debate item may hold several votes
// (several questions under "Questions diverses"). agendaEntry.Votable is the
// same rule for the page, so the form is not offered.
//
// A rectification item is voted once too, and only while the decision it
// names is not rectified yet (by a clerical rectification since).
func checkItemVotable(ctx context.Context, tx bun.IDB, item *AgendaItem) error {
	if item.Kind != AgendaProposal && item.Kind != AgendaRectification {
		return nil
	}
	held, err := tx.NewSelect().Table("votes").Where("agenda_item_id = ? AND council_id = ?", item.ID, item.CouncilID).Exists(ctx)
	if err != nil {
		return err
	}
	if held && item.Kind == AgendaRectification {
		return apperr.New(apperr.Conflict, "Cette rectification a déjà été votée à cette séance : une nouvelle demande passe par l'ordre du jour d'une autre séance.")
	}
	if held {
		return apperr.New(apperr.Conflict, "Cette proposition a déjà été votée à cette séance : un nouveau vote passe par l'ordre du jour d'une autre séance.")
	}
	if item.Kind == AgendaRectification {
		next, err := rectificationOf(ctx, tx, item.CouncilID, *item.RectifiesID)
		if err != nil {
			return err
		}
		if next != nil {
			return apperr.New(apperr.Conflict, "La décision n° %d a été rectifiée entre-temps par la décision n° %d : ce point n'a plus d'objet.", *item.RectifiesID, next.ID)
		}
	}
	return nil
}
