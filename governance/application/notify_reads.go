package application

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
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
	err := selectApplications(db, &out).Where("a.council_id = ? AND a.proposal_id IN (?)", councilID, bun.In(proposalIDs)).
		Order("a.id").Scan(ctx)
	return out, err
}

// Renewal is a convention to renew, with how to reach its shop.
type Renewal struct {
	ShopID    int64     `bun:"id"`
	Slug      string    `bun:"slug"`
	Name      string    `bun:"name"`
	Commune   string    `bun:"commune"`
	RenewalOn time.Time `bun:"renewal_on"`
	Email     string    `bun:"email"` // from the shop's latest application; "" when none
}

// RenewalsDue lists the council's conventionné points de vente whose
// renewal falls between today and today + days, soonest first; one query.
func RenewalsDue(ctx context.Context, db bun.IDB, councilID int64, today time.Time, days int) ([]Renewal, error) {
	var out []Renewal
	err := db.NewRaw(`SELECT s.id, s.slug, s.name, s.commune, s.renewal_on, coalesce(la.email, '') AS email
		FROM shops s
		LEFT JOIN LATERAL (SELECT a.email FROM shop_applications a
			WHERE a.shop_id = s.id AND a.council_id = s.council_id ORDER BY a.id DESC LIMIT 1) la ON true
		WHERE s.council_id = ? AND s.status = ? AND s.renewal_on IS NOT NULL AND s.signed_on IS NOT NULL
			AND s.renewal_on >= ?::date AND s.renewal_on <= ?::date + ?::int
		ORDER BY s.renewal_on, s.name`, councilID, catalog.ShopConventionne, today.Format("2006-01-02"), today.Format("2006-01-02"), days).Scan(ctx, &out)
	return out, err
}

// Incomplete reports whether the council asked the shop to complete its
// application.
func (s ApplicationState) Incomplete() bool { return s == appIncomplete }
