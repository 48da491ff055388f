package application

import (
	"context"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/database"
)

// Reads for governance/notify, which mails shop applicants and reminds of
// renewals, and reads applications through these functions.

// Question returns one of the council's questions to an application, or
// NotFound (an internal comment is never one).
func Question(ctx context.Context, db bun.IDB, councilID, applicationID, messageID int64) (*ApplicationMessage, error) {
	m := new(ApplicationMessage)
	err := db.NewSelect().Model(m).Column("id", "kind", "body", "author_name", "created_at").
		Where("council_id = ? AND application_id = ? AND id = ? AND kind = ?", councilID, applicationID, messageID, MsgQuestion).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Question introuvable.")
	}
	return m, err
}

// ByProposals returns the council's applications turned into one of the
// proposals, with their effective state; one query.
func ByProposals(ctx context.Context, db bun.IDB, councilID int64, proposalIDs []int64) ([]Application, error) {
	if len(proposalIDs) == 0 {
		return nil, nil
	}
	var out []Application
	err := selectApplications(db, &out).Where("a.council_id = ? AND a.proposal_id IN (?)", councilID, bun.List(proposalIDs)).
		Order("a.id").Scan(ctx)
	return out, err
}

// Incomplete reports whether the council asked the shop to complete its
// application.
func (s ApplicationState) Incomplete() bool { return s == appIncomplete }
