package web

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/idempotency"
)

// CreateOnce runs create, which creates an object from a create-form and
// returns the path its answer redirects to, so that the form takes effect
// once however many times it is sent (a double click, the back button): in
// one transaction it claims the form's idempotency key, then creates, then
// records the path. A submission of a key already used creates nothing and
// gets the first one's path. A form without its key is refused
// (idempotency.ErrMissing). See internal/idempotency and docs/decisions.md.
func CreateOnce(c *fiber.Ctx, db *bun.DB, create func(ctx context.Context, tx bun.Tx) (string, error)) (string, error) {
	key := Form(c, idempotency.Field)
	if err := idempotency.Require(key); err != nil {
		return "", err
	}
	councilID := Council(c).ID
	var path string
	err := db.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := idempotency.Claim(ctx, tx, councilID, key); err != nil {
			return err
		}
		var err error
		if path, err = create(ctx, tx); err != nil {
			return err
		}
		return idempotency.Done(ctx, tx, councilID, key, path)
	})
	if first, ok := idempotency.ReplayedResult(err); ok {
		return first, nil
	}
	return path, err
}
