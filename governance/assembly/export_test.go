package assembly

import (
	"context"

	"github.com/uptrace/bun"

	"cla/internal/batch"
)

// Unexported names the external tests (package assembly_test) use.

type CastRequest = castRequest

var Profile = profile

// BatchOf is the writer's batching group, for tests that watch or hold its
// batches.
func BatchOf(w *BallotWriter) *batch.Group[*castRequest, struct{}] { return &w.group }

// CastFacts casts one ballot through the statement, as CastBallot does, and
// returns the code of the rule that refused it ("" when written), whether it
// was written, and the error the member hears.
func CastFacts(ctx context.Context, db *bun.DB, councilID, voteID, memberID int64, b *Ballot) (refusal string, written bool, err error) {
	return CastFactsAs(ctx, db, councilID, voteID, memberID, 0, BallotInPerson, b)
}

// CastFactsAs is CastFacts for a ballot cast by byID for the member, as via
// says (BallotWriter.CastAs).
func CastFactsAs(ctx context.Context, db *bun.DB, councilID, voteID, memberID, byID int64, via BallotVia, b *Ballot) (refusal string, written bool, err error) {
	r := newCastRequestBy(councilID, voteID, memberID, byID, via, b)
	facts, err := runCast(ctx, db, []*castRequest{r})
	if err != nil {
		return "", false, err
	}
	if facts[0] == nil {
		return "", false, castBatch(ctx, db, []*castRequest{r})[0].Err
	}
	f := facts[0]
	if f.Written {
		return f.Refusal, true, nil
	}
	return f.Refusal, false, castRefusal(f, b)
}

// CastRuleCodes are the codes of castRules, in order.
func CastRuleCodes() []string {
	var codes []string
	for _, r := range castRules {
		codes = append(codes, r.code)
	}
	return codes
}

// TallyLine is tallyLine.
var TallyLine = tallyLine

// Quorum is a meeting's quorum (quorumOf).
type Quorum = quorum

// QuorumOf is quorumOf.
var QuorumOf = quorumOf
