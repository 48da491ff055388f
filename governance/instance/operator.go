package instance

import (
	"context"
	"errors"
	"strconv"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
)

// operatorRow marks an account as an operator of the instance.
type operatorRow struct {
	bun.BaseModel `bun:"table:operators"`

	AccountID int64 `bun:"account_id,pk"`
}

// systemActor is the command line, as the audit trail names it.
var systemActor = audit.Actor{Name: "système (cla operator)"}

// CreateOperator makes the account of email (created with name when new) an
// operator of the instance and returns a single-use link token to set its
// password (valid 3 days, usable on every host name: /mot-de-passe/<token>).
// Running it again gives a new link.
func CreateOperator(ctx context.Context, db *bun.DB, email, name string) (string, error) {
	email = auth.NormalizeEmail(email)
	if msg := checkEmail(email, true); msg != "" {
		return "", errors.New("--email : " + msg)
	}
	var accountID int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a, err := auth.AccountByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		if a == nil {
			a = &auth.Account{Email: email, Name: auth.CleanName(name)}
			if msg := auth.CheckName(a.Name); msg != "" {
				return errors.New("--name : " + msg)
			}
			if err := auth.CreateAccount(ctx, tx, a); err != nil {
				return err
			}
		}
		accountID = a.ID
		res, err := tx.NewInsert().Model(&operatorRow{AccountID: a.ID}).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return audit.Record(ctx, tx, systemActor.Entry(nil, "operator.create", "account", strconv.FormatInt(a.ID, 10),
			"Opérateur·ice de l'instance : "+a.Name), nil, map[string]any{"email": a.Email})
	})
	if err != nil {
		return "", err
	}
	return auth.CreatePasswordLink(ctx, db, nil, systemActor, accountID)
}

// RemoveOperator takes the operator role from the account of email; its
// memberships in councils stay. It reports whether it was an operator.
func RemoveOperator(ctx context.Context, db *bun.DB, email string) (bool, error) {
	email = auth.NormalizeEmail(email)
	a, err := auth.AccountByEmail(ctx, db, email)
	if err != nil {
		return false, err
	}
	if a == nil {
		return false, apperr.New(apperr.NotFound, "Aucun compte n'a l'adresse %s.", email)
	}
	removed := false
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*operatorRow)(nil)).Where("account_id = ?", a.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		removed = true
		// Its sessions end: an operator's session may be open on /instance.
		if err := auth.DeleteSessionsOf(ctx, tx, a.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, systemActor.Entry(nil, "operator.remove", "account", strconv.FormatInt(a.ID, 10),
			"N'est plus opérateur·ice de l'instance : "+a.Name), map[string]any{"email": a.Email}, nil)
	})
	return removed, err
}

// IsOperator reports whether the account is an operator of the instance.
func IsOperator(ctx context.Context, db bun.IDB, accountID int64) (bool, error) {
	return db.NewSelect().Model((*operatorRow)(nil)).Where("account_id = ?", accountID).Exists(ctx)
}
