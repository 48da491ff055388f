package odoo

// The links between the council's points de vente and their partners in the
// payment tool's Odoo, and the push state of each (issue 18, point 4). The
// table odoo_links belongs to this package: the catalog enqueues pushes
// through EnqueuePush, the connector (governance/lokavaluto) reads and
// records through the functions below.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/database"
	"cla/internal/jobs"
)

// Link is a point de vente linked to its Odoo partner, with the state of its
// last push.
type Link struct {
	bun.BaseModel `bun:"table:odoo_links"`

	ShopID      int64     `bun:"shop_id,pk"`
	CouncilID   int64     `bun:"council_id"`
	PartnerID   int       `bun:"partner_id"`
	PartnerName string    `bun:"partner_name"`
	LinkedAt    time.Time `bun:"linked_at,nullzero,default:current_timestamp"`
	// PushedAt is the last push that left Odoo holding the shop's values
	// (a write, or a check that found nothing to change); PushedValues what
	// Odoo held then.
	PushedAt     *time.Time      `bun:"pushed_at"`
	PushedValues json.RawMessage `bun:"pushed_values,type:jsonb"`
	// Error is the last failed attempt's account in French ("" after a
	// success); Failures counts the failed attempts since the last success.
	Error    string     `bun:"error"`
	FailedAt *time.Time `bun:"failed_at"`
	Failures int        `bun:"failures"`
}

// Links returns the council's links, by shop id.
func Links(ctx context.Context, db bun.IDB, councilID int64) (map[int64]Link, error) {
	var ls []Link
	if err := db.NewSelect().Model(&ls).Where("council_id = ?", councilID).Scan(ctx); err != nil {
		return nil, err
	}
	out := make(map[int64]Link, len(ls))
	for _, l := range ls {
		out[l.ShopID] = l
	}
	return out, nil
}

// SaveLink links a shop to a partner (or moves its link to another), in the
// facilitator's transaction. A partner already linked to another shop of the
// council is refused with a French message.
func SaveLink(ctx context.Context, tx bun.IDB, councilID, shopID int64, partnerID int, partnerName string) error {
	var other int64
	err := tx.NewSelect().Table("odoo_links").Column("shop_id").
		Where("council_id = ? AND partner_id = ? AND shop_id <> ?", councilID, partnerID, shopID).Scan(ctx, &other)
	if err == nil {
		return apperr.Fields{"partner": "Ce partenaire Odoo est déjà lié à un autre point de vente."}.Err()
	}
	if !database.IsNoRows(err) {
		return err
	}
	if len([]rune(partnerName)) > 300 {
		partnerName = string([]rune(partnerName)[:300])
	}
	_, err = tx.NewInsert().Model(&Link{ShopID: shopID, CouncilID: councilID, PartnerID: partnerID, PartnerName: partnerName}).
		On("CONFLICT (shop_id) DO UPDATE").
		Set("partner_id = EXCLUDED.partner_id, partner_name = EXCLUDED.partner_name, linked_at = now()").
		Set("pushed_at = NULL, pushed_values = NULL, error = '', failed_at = NULL, failures = 0").Exec(ctx)
	return err
}

// DeleteLink removes a shop's link; it reports whether there was one.
func DeleteLink(ctx context.Context, tx bun.IDB, councilID, shopID int64) (bool, error) {
	res, err := tx.NewDelete().Table("odoo_links").Where("council_id = ? AND shop_id = ?", councilID, shopID).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RecordPushed records that Odoo holds values for the shop's partner.
func RecordPushed(ctx context.Context, db bun.IDB, councilID, shopID int64, values map[string]any) error {
	raw, err := json.Marshal(values)
	if err != nil {
		return err
	}
	_, err = db.NewUpdate().Table("odoo_links").
		Set("pushed_at = now(), pushed_values = ?, error = '', failed_at = NULL, failures = 0", string(raw)).
		Where("council_id = ? AND shop_id = ?", councilID, shopID).Exec(ctx)
	return err
}

// RecordFailure records a failed push of the shop's partner, with its
// French account (Describe).
func RecordFailure(ctx context.Context, db bun.IDB, councilID, shopID int64, message string) error {
	if message == "" {
		message = "Échec sans message."
	}
	if r := []rune(message); len(r) > 1000 {
		message = string(r[:1000])
	}
	_, err := db.NewUpdate().Table("odoo_links").
		Set("error = ?, failed_at = now(), failures = failures + 1", message).
		Where("council_id = ? AND shop_id = ?", councilID, shopID).Exec(ctx)
	return err
}

// PushArgs asks for the council's linked points de vente to be pushed to
// Odoo (CouncilID 0: every council's, the nightly sweep). It is enqueued in
// the transaction of a decision that touches a shop, by the facilitators'
// « push now », and nightly. Pushes are not made unique: one running while a
// decision commits must not absorb the push that decision needs, and an extra
// push costs one search_read (nothing is written when Odoo already holds the
// values).
type PushArgs struct {
	CouncilID int64 `json:"council_id"`
}

// Kind names the job; it never changes.
func (PushArgs) Kind() string { return "odoo.push" }

// EnqueuePush queues a push of the council's linked shops in db's
// transaction, when the council has linked any: a council that does not use
// the connector gets no job.
func EnqueuePush(ctx context.Context, db bun.IDB, councilID int64) error {
	linked, err := db.NewSelect().Table("odoo_links").Where("council_id = ?", councilID).Exists(ctx)
	if err != nil || !linked {
		return err
	}
	_, err = jobs.Enqueue(ctx, db, PushArgs{CouncilID: councilID}, nil)
	return err
}

// LinkedCouncils returns the councils that have linked shops, for the
// nightly sweep.
func LinkedCouncils(ctx context.Context, db bun.IDB) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Table("odoo_links").ColumnExpr("DISTINCT council_id").Order("council_id").Scan(ctx, &ids)
	return ids, err
}
