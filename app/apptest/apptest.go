// Package apptest gives tests the real app (app.New) over their own
// database, shut down (its register cache closed) when the test ends.
package apptest

import (
	"io"
	"log/slog"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app"
)

// Quiet is a logger that discards everything, for apps under test.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// New returns the real app over db, configured by cfg.
func New(t testing.TB, db *bun.DB, cfg app.Config) *fiber.App {
	t.Helper()
	a, err := app.New(db, cfg, Quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown() })
	return a
}
