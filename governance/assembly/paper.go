package assembly

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
)

// RecordPaperBallot records the ballot of a member present without a phone,
// entered by the facilitator (actor) from the member's paper ballot: the
// ballot is marked "saisi par" the facilitator (via BallotOnPaper,
// cast_by_id), under castRules like any other, and the audit trail names
// both, in the same transaction. What the member voted is not in the trail:
// an anonymous vote stays anonymous.
func RecordPaperBallot(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, voteID, memberID int64, b *Ballot) error {
	r := newCastRequestBy(councilID, voteID, memberID, actor.AccountID, BallotOnPaper, b)
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The driver's transaction itself: castSQL binds $1, which bun's
		// own formatting would not pass on.
		facts, err := runCastOn(ctx, tx.Tx, []*castRequest{r})
		switch {
		case isVoteClosedError(err):
			return errVoteClosed
		case err != nil:
			return err
		case facts[0] == nil:
			return apperr.New(apperr.NotFound, "Vote introuvable.")
		case !facts[0].Written && facts[0].Refusal == "":
			return errCastUnexplained
		case !facts[0].Written:
			return castRefusal(facts[0], r.ballot)
		}
		names, err := auth.AccountNames(ctx, tx, []int64{memberID})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "ballot.paper", "vote", strconv.FormatInt(voteID, 10),
			fmt.Sprintf("Bulletin papier de %s saisi par %s", nameOf(names, memberID), actor.Name)), nil, nil)
	})
}
