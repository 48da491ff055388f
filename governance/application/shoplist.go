package application

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
)

// The two lists below read catalog's shops joined with the latest
// application of each (LATERAL): one statement per page or export, which
// reading the shops through catalog and then the applications by id list
// would make two. They are the only SQL of this package naming shops
// (app/sql_test.go lists this file as an exception for that reason).

// renewal is a convention due for renewal.
type renewal struct {
	Slug      string    `bun:"slug"`
	Name      string    `bun:"name"`
	Commune   string    `bun:"commune"`
	SignedOn  time.Time `bun:"signed_on"`
	RenewalOn time.Time `bun:"renewal_on"`
	Email     string    `bun:"email"`
	Phone     string    `bun:"phone"`
}

// Overdue reports whether the renewal date has passed.
func (r renewal) Overdue(today time.Time) bool { return r.RenewalOn.Before(today) }

// renewals lists the council's conventionné points de vente whose renewal
// falls before today + days (overdue ones included), soonest first.
func renewals(ctx context.Context, db bun.IDB, councilID int64, today time.Time, days int) ([]renewal, error) {
	var out []renewal
	err := db.NewRaw(`SELECT s.slug, s.name, s.commune, s.signed_on, s.renewal_on,
			coalesce(la.email, '') AS email, coalesce(la.phone, '') AS phone
		FROM shops s
		LEFT JOIN LATERAL (SELECT a.email, a.phone FROM shop_applications a
			WHERE a.shop_id = s.id AND a.council_id = s.council_id ORDER BY a.id DESC LIMIT 1) la ON true
		WHERE s.council_id = ? AND s.status = ? AND s.renewal_on IS NOT NULL AND s.signed_on IS NOT NULL
			AND s.renewal_on <= ?::date + ?::int
		ORDER BY s.renewal_on, s.name`, councilID, catalog.ShopConventionne, today.Format("2006-01-02"), days).Scan(ctx, &out)
	return out, err
}

// exportShop is one point de vente as the payment tool imports it.
type exportShop struct {
	Slug      string     `bun:"slug"`
	Name      string     `bun:"name"`
	Kind      string     `bun:"kind"`
	Address   string     `bun:"address"`
	Commune   string     `bun:"commune"`
	Email     string     `bun:"email"`
	Phone     string     `bun:"phone"`
	Website   string     `bun:"website"`
	SIRET     string     `bun:"siret"`
	Status    string     `bun:"status"`
	SignedOn  *time.Time `bun:"signed_on"`
	RenewalOn *time.Time `bun:"renewal_on"`
}

// exportShops lists every point de vente of the council with the contact
// details of its latest application, in one query.
func exportShops(ctx context.Context, db bun.IDB, councilID int64) ([]exportShop, error) {
	var out []exportShop
	err := db.NewRaw(`SELECT s.slug, s.name, s.kind, s.address, s.commune, s.website, s.status, s.signed_on, s.renewal_on,
			coalesce(la.email, '') AS email, coalesce(la.phone, '') AS phone, coalesce(la.siret, '') AS siret
		FROM shops s
		LEFT JOIN LATERAL (SELECT a.email, a.phone, a.siret FROM shop_applications a
			WHERE a.shop_id = s.id AND a.council_id = s.council_id ORDER BY a.id DESC LIMIT 1) la ON true
		WHERE s.council_id = ?
		ORDER BY s.name, s.id`, councilID).Scan(ctx, &out)
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
