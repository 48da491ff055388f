package proposal

import (
	"context"

	"github.com/uptrace/bun"
)

// Unexported names the external tests (package proposal_test) use.

var ErrProposalNotFound = errProposalNotFound

// LoadProposalPage is loadProposalPage for the benchmark.
func LoadProposalPage(ctx context.Context, db *bun.DB, councilID, id int64) (int, error) {
	pg, err := loadProposalPage(ctx, db, councilID, id)
	if err != nil {
		return 0, err
	}
	return len(pg.Scores), nil
}
