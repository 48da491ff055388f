package demo

import (
	"context"
	"fmt"
	"sync"

	"github.com/uptrace/bun"

	"cla/internal/auth"
	"cla/internal/authz"
)

// password is the password of every demo account (see README, "Demo
// accounts"). The demo is for trying the platform: serve real councils with
// --no-demo.
const password = "dieulefit-demo-2025"

// member is one demo account of the Dieulefit council.
type member struct {
	Email string
	Name  string
	Role  authz.Role
}

// members are the demo accounts, all with Password.
var members = []member{
	{"admin@dieulefit.example", "Hélène Roux", authz.Admin},
	{"animation@dieulefit.example", "Karim Benali", authz.Facilitator},
	{"jeanne@dieulefit.example", "Jeanne Faure", authz.Member},
	{"lucas@dieulefit.example", "Lucas Morel", authz.Member},
	{"sophie@dieulefit.example", "Sophie Arnaud", authz.Member},
	{"paul@dieulefit.example", "Paul Chabert", authz.Member},
}

// The demo hash is computed once per process: every test loads the demo.
var demoHash = sync.OnceValues(func() (string, error) {
	return auth.HashPassword(context.Background(), password)
})

// loadDemoMembers creates the demo accounts and their memberships; existing
// accounts and memberships are left as they are.
func loadDemoMembers(ctx context.Context, tx bun.Tx, councilID int64) error {
	hash, err := demoHash()
	if err != nil {
		return err
	}
	for _, m := range members {
		if _, err := tx.NewRaw(`WITH a AS (
				INSERT INTO accounts (email, name, password_hash) VALUES (?, ?, ?)
				ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id)
			INSERT INTO memberships (council_id, account_id, role) SELECT ?, id, ? FROM a
			ON CONFLICT (council_id, account_id) DO NOTHING`,
			m.Email, m.Name, hash, councilID, m.Role).Exec(ctx); err != nil {
			return fmt.Errorf("demo member %s: %w", m.Email, err)
		}
	}
	return nil
}
