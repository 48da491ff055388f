package council

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"cla/internal/database"
)

// The writes of the councils' rows and host names live here, beside their
// model: governance/instance (the operator's pages, `cla council create`)
// and the demo call them inside their own transactions, and hold
// CreateLockKey so that slug and host checks never race.

// CreateLockKey is the advisory lock held while councils are created or
// their host names change: the checks of SlugTaken and HostTaken then hold
// until the transaction ends.
const CreateLockKey = 0x636c615f636f756e // "cla_coun"

// LockCreation takes CreateLockKey until the end of the transaction tx.
func LockCreation(ctx context.Context, tx bun.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", CreateLockKey)
	return err
}

// Insert writes a new council and its host names (already validated). The
// first council of an instance becomes its default council, served on any
// host name no council claims. c gets its id and the schema's defaults.
func Insert(ctx context.Context, tx bun.Tx, c *Council, hosts []string) error {
	if err := tx.NewInsert().Model(c).
		Value("is_default", "NOT EXISTS (SELECT 1 FROM councils WHERE is_default)").
		Returning("*").Scan(ctx, c); err != nil {
		return fmt.Errorf("insert council: %w", err)
	}
	return insertHosts(ctx, tx, c.ID, hosts)
}

// SlugTaken reports whether a council already has slug.
func SlugTaken(ctx context.Context, db bun.IDB, slug string) (bool, error) {
	return db.NewSelect().Model((*Council)(nil)).Where("slug = ?", slug).Exists(ctx)
}

// HostTaken returns the first of hosts (in order) that a council other than
// except holds, with that council's name; "" when none is.
func HostTaken(ctx context.Context, db bun.IDB, hosts []string, except int64) (host, councilName string, err error) {
	if len(hosts) == 0 {
		return "", "", nil
	}
	var row struct {
		Host string `bun:"host"`
		Name string `bun:"name"`
	}
	err = db.NewSelect().TableExpr("council_hosts AS h").Join("JOIN councils AS c ON c.id = h.council_id").
		ColumnExpr("h.host, c.name").Where("h.host IN (?)", bun.List(hosts)).Where("h.council_id <> ?", except).
		OrderExpr("h.host").Limit(1).Scan(ctx, &row)
	if database.IsNoRows(err) {
		return "", "", nil
	}
	return row.Host, row.Name, err
}

// Hosts lists the council's host names in order.
func Hosts(ctx context.Context, db bun.IDB, id int64) ([]string, error) {
	var hosts []string
	err := db.NewSelect().Model((*Host)(nil)).Column("host").Where("council_id = ?", id).Order("host").Scan(ctx, &hosts)
	return hosts, err
}

// ReplaceHosts makes hosts the council's host names (already validated and
// checked with HostTaken).
func ReplaceHosts(ctx context.Context, tx bun.Tx, id int64, hosts []string) error {
	if _, err := tx.NewDelete().Model((*Host)(nil)).Where("council_id = ?", id).Exec(ctx); err != nil {
		return err
	}
	return insertHosts(ctx, tx, id, hosts)
}

func insertHosts(ctx context.Context, tx bun.Tx, id int64, hosts []string) error {
	for _, h := range hosts {
		if _, err := tx.NewInsert().Model(&Host{Host: h, CouncilID: id}).Exec(ctx); err != nil {
			return fmt.Errorf("insert host: %w", err)
		}
	}
	return nil
}

// ForUpdate loads the council and locks its row until the end of tx.
func ForUpdate(ctx context.Context, tx bun.Tx, id int64) (*Council, error) {
	c := new(Council)
	err := tx.NewSelect().Model(c).Where("id = ?", id).For("UPDATE").Scan(ctx)
	return c, err
}

// SetState writes the council's state.
func SetState(ctx context.Context, tx bun.Tx, id int64, state State) error {
	_, err := tx.NewUpdate().Model((*Council)(nil)).Set("state = ?", state).Where("id = ?", id).Exec(ctx)
	return err
}

// Settings are the columns of a council its admin edits (governance/instance).
type Settings struct {
	Name             string
	PresentationMD   string
	PresentationHTML string // sanitised rendering of PresentationMD
	ContactEmail     string
	RegisterPublic   bool
}

// SaveSettings writes s to the council's row, naming its columns.
func SaveSettings(ctx context.Context, tx bun.Tx, id int64, s Settings) error {
	_, err := tx.NewUpdate().Model((*Council)(nil)).
		Set("name = ?", s.Name).Set("presentation_md = ?", s.PresentationMD).Set("presentation_html = ?", s.PresentationHTML).
		Set("contact_email = ?", s.ContactEmail).Set("register_public = ?", s.RegisterPublic).
		Where("id = ?", id).Exec(ctx)
	return err
}

// WithHosts is a council with its host names, as the operator's list shows it.
type WithHosts struct {
	Council
	Hosts string `bun:"hosts"` // comma separated, in order
}

// ListWithHosts lists every council of the instance with its host names, by slug.
func ListWithHosts(ctx context.Context, db bun.IDB) ([]WithHosts, error) {
	var out []WithHosts
	err := db.NewSelect().Model(&out).ModelTableExpr("councils AS council").ColumnExpr("council.*").
		ColumnExpr("coalesce((SELECT string_agg(host, ', ' ORDER BY host) FROM council_hosts WHERE council_id = council.id), '') AS hosts").
		Order("council.slug").Scan(ctx)
	return out, err
}
