// Package idempotency makes a create-form's submission take effect once: a
// double click, or the same form sent again, creates one object. Each
// rendered form carries a random key in a hidden field (Field, the page's
// IdempotencyKey); the handler claims the key in the transaction that
// creates, before creating, and records where the creation led (Done). A
// second submission of the key waits for the first transaction (the key is
// the primary key of form_submissions) and, once it committed, gets a
// Replayed error naming that result: the handler answers as the first did.
// When the first transaction rolled back (a refused form), the key is free
// again. See docs/decisions.md.
package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"regexp"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
)

// Field is the name of the hidden form field carrying the key.
const Field = "_idem"

// NewKey returns a fresh key for one rendered form: 128 random bits.
func NewKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// ErrMissing refuses a create-form sent without a well-formed key (a page
// from before the keys, or a hand-made request): a validation error on
// Field, so that the form is shown again with its input.
var ErrMissing = apperr.Fields{Field: "Ce formulaire n'a pas pu être reconnu (page trop ancienne ?) : vérifiez votre saisie et envoyez-le de nouveau."}.Err()

// Replayed is the error of a submission whose key was already used: Result
// is where the first submission led.
type Replayed struct {
	Result string
}

func (r *Replayed) Error() string { return "idempotency: form already submitted, see " + r.Result }

// ReplayedResult reports whether err says the form was already submitted,
// and where the first submission led.
func ReplayedResult(err error) (string, bool) {
	var r *Replayed
	if errors.As(err, &r) {
		return r.Result, true
	}
	return "", false
}

// Require returns ErrMissing unless key is well formed: handlers of
// create-forms call it, so that a request without the form's key creates
// nothing (code that creates without a form passes no key to Claim).
func Require(key string) error {
	if !keyPattern.MatchString(key) {
		return ErrMissing
	}
	return nil
}

// Claim takes key for a submission in the council, inside the transaction
// that creates, before creating. It returns a *Replayed error when the key
// was already used (after waiting for a submission of it still running), and
// ErrMissing for a malformed key. An empty key (a creation that comes from
// no form: the demo, tests of the domain) claims nothing.
func Claim(ctx context.Context, tx bun.IDB, councilID int64, key string) error {
	if key == "" {
		return nil
	}
	if err := Require(key); err != nil {
		return err
	}
	// Keys live a day: a page kept open longer gets a new one when reloaded.
	if _, err := tx.NewDelete().Table("form_submissions").
		Where("council_id = ? AND created_at < now() - interval '1 day'", councilID).Exec(ctx); err != nil {
		return err
	}
	res, err := tx.NewInsert().Table("form_submissions").Model(&map[string]any{"council_id": councilID, "key": key}).
		On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var result string
	if err := tx.NewSelect().Table("form_submissions").Column("result").
		Where("council_id = ? AND key = ?", councilID, key).Scan(ctx, &result); err != nil {
		return err
	}
	if result == "" {
		return apperr.New(apperr.Conflict, "Ce formulaire a déjà été envoyé.")
	}
	return &Replayed{Result: result}
}

// Done records where the submission of key led (a same-site path), in the
// transaction that claimed it.
func Done(ctx context.Context, tx bun.IDB, councilID int64, key, result string) error {
	if key == "" {
		return nil
	}
	_, err := tx.NewUpdate().Table("form_submissions").Set("result = ?", result).
		Where("council_id = ? AND key = ?", councilID, key).Exec(ctx)
	return err
}
