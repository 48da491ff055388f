package application

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
	"cla/internal/markdown"
)

// Charter is one version of the council's charte d'engagement, the text a
// shop accepts when it applies. A version never changes: a new text is a new
// version, and each application keeps the version it accepted.
type Charter struct {
	bun.BaseModel `bun:"table:charters,alias:ch"`

	ID         int64     `bun:"id,pk,autoincrement"`
	CouncilID  int64     `bun:"council_id"`
	Version    int       `bun:"version"`
	Title      string    `bun:"title"`
	BodyMD     string    `bun:"body_md"`
	BodyHTML   string    `bun:"body_html"`
	AuthorID   *int64    `bun:"author_id"`
	AuthorName string    `bun:"author_name"`
	CreatedAt  time.Time `bun:"created_at,nullzero,default:current_timestamp"`
}

// Charter limits, the schema's as well.
const (
	maxCharterTitle = 200
	maxCharterBody  = 20000
)

// Validate trims and checks the charter's text.
func (ch *Charter) Validate() error {
	f := apperr.Fields{}
	ch.Title = strings.TrimSpace(ch.Title)
	ch.BodyMD = strings.TrimSpace(ch.BodyMD)
	if n := utf8.RuneCountInString(ch.Title); n == 0 || n > maxCharterTitle {
		f.Add("title", "Le titre est obligatoire (200 caractères au plus).")
	}
	if n := utf8.RuneCountInString(ch.BodyMD); n < 20 || n > maxCharterBody {
		f.Add("body", "Le texte de la charte doit compter entre 20 et 20 000 caractères.")
	}
	return f.Err()
}

// CurrentCharter returns the council's latest charter version, or a NotFound
// error when the council has none yet.
func CurrentCharter(ctx context.Context, db bun.IDB, councilID int64) (*Charter, error) {
	ch := new(Charter)
	err := db.NewSelect().Model(ch).
		Column("id", "council_id", "version", "title", "body_html", "body_md", "author_name", "created_at").
		Where("council_id = ?", councilID).Order("version DESC").Limit(1).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce Conseil n'a pas encore publié de charte d'engagement : les candidatures ouvriront avec elle.")
	}
	return ch, err
}

// publishCharter saves ch as the council's next charter version, with its
// rendered text and an audit entry. Applications already sent keep the version
// they accepted.
func publishCharter(ctx context.Context, db bun.IDB, ch *Charter, actor audit.Actor) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	ch.BodyHTML = markdown.ToHTML(ch.BodyMD)
	ch.AuthorName = actor.Name
	if actor.AccountID != 0 {
		id := actor.AccountID
		ch.AuthorID = &id
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// One version number at a time per council.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", charterLockKey, ch.CouncilID); err != nil {
			return err
		}
		if err := tx.NewRaw("SELECT coalesce(max(version), 0) + 1 FROM charters WHERE council_id = ?", ch.CouncilID).Scan(ctx, &ch.Version); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(ch).ExcludeColumn("created_at").Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert charter: %w", err)
		}
		return audit.Record(ctx, tx, actor.Entry(&ch.CouncilID, "charter.publish", "charter", strconv.FormatInt(ch.ID, 10), fmt.Sprintf("Charte d'engagement, version %d publiée", ch.Version)), nil,
			map[string]any{"version": ch.Version, "title": ch.Title})
	})
}

// charterLockKey is the first half of the advisory lock numbering charters.
const charterLockKey = 0x63686172 // "char"

// defaultRenewalMonths is how long a convention runs before its renewal when
// the council has not set its own period.
const defaultRenewalMonths = 12

// renewalMonths returns how many months after its signature a convention of
// the council is to be renewed.
func renewalMonths(ctx context.Context, db bun.IDB, councilID int64) (int, error) {
	var n int
	err := db.NewSelect().Table("convention_settings").Column("renewal_months").
		Where("council_id = ?", councilID).Scan(ctx, &n)
	if database.IsNoRows(err) {
		return defaultRenewalMonths, nil
	}
	return n, err
}

// RenewalDate is the renewal date of a convention signed on signed, following
// the council's setting.
func RenewalDate(ctx context.Context, db bun.IDB, councilID int64, signed time.Time) (time.Time, error) {
	n, err := renewalMonths(ctx, db, councilID)
	if err != nil {
		return time.Time{}, err
	}
	return signed.AddDate(0, n, 0), nil
}

// setRenewalMonths sets the council's convention period, 1 to 60 months.
func setRenewalMonths(ctx context.Context, db bun.IDB, councilID int64, months int, actor audit.Actor) error {
	if months < 1 || months > 60 {
		return apperr.Fields{"renewal_months": "La durée d'une convention doit être comprise entre 1 et 60 mois."}.Err()
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO convention_settings (council_id, renewal_months) VALUES (?, ?)
			ON CONFLICT (council_id) DO UPDATE SET renewal_months = EXCLUDED.renewal_months, updated_at = now()`,
			councilID, months).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "convention.settings", "council", strconv.FormatInt(councilID, 10), fmt.Sprintf("Durée des conventions : %d mois", months)), nil, map[string]any{"renewal_months": months})
	})
}
