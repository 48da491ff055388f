// Package auth holds accounts, council memberships, password hashing, sessions
// stored in PostgreSQL, CSRF protection, the sign-in rate limiter and the
// middleware that tells every request who is asking (web.Viewer).
package auth

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/authz"
)

// Account is a person's global account. Its role in a council comes from a
// Membership.
type Account struct {
	bun.BaseModel `bun:"table:accounts"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        string    `bun:"email"`
	Name         string    `bun:"name"`
	PasswordHash string    `bun:"password_hash"`
	CreatedAt    time.Time `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt    time.Time `bun:"updated_at,nullzero,default:current_timestamp"`
}

// Membership gives an account a role in one council.
type Membership struct {
	bun.BaseModel `bun:"table:memberships"`

	ID         int64      `bun:"id,pk,autoincrement"`
	CouncilID  int64      `bun:"council_id"`
	AccountID  int64      `bun:"account_id"`
	Role       authz.Role `bun:"role"`
	DisabledAt *time.Time `bun:"disabled_at"`
	CreatedAt  time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt  time.Time  `bun:"updated_at,nullzero,default:current_timestamp"`
}

// Member is a membership with its account's public fields, as lists show it.
type Member struct {
	MembershipID int64      `bun:"membership_id"`
	AccountID    int64      `bun:"account_id"`
	Name         string     `bun:"name"`
	Email        string     `bun:"email"`
	Role         authz.Role `bun:"role"`
	DisabledAt   *time.Time `bun:"disabled_at"`
	CreatedAt    time.Time  `bun:"created_at"`
}

// Active reports whether the membership is not disabled.
func (m *Member) Active() bool { return m.DisabledAt == nil }

// Field limits.
const (
	MaxNameLen  = 100
	MaxEmailLen = 254
)

// Roles lists the roles a membership can have, from least to most rights.
var Roles = []authz.Role{authz.Member, authz.Facilitator, authz.Admin}

// ValidRole reports whether r is a membership role.
func ValidRole(r authz.Role) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckEmail returns a French message when email (already normalised) is not a
// plain address, "" when it is.
func CheckEmail(email string) string {
	if email == "" {
		return "Indiquez une adresse e-mail."
	}
	if len(email) > MaxEmailLen {
		return "Cette adresse e-mail est trop longue."
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "Cette adresse e-mail n'est pas valide (exemple : prenom.nom@exemple.fr)."
	}
	return ""
}

// CleanName trims a display name and collapses its inner spaces.
func CleanName(s string) string { return strings.Join(strings.Fields(s), " ") }

// CheckName returns a French message when a display name (already cleaned) is
// not acceptable, "" when it is.
func CheckName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "Indiquez votre nom tel qu'il apparaîtra aux autres membres."
	case n > MaxNameLen:
		return "Le nom ne peut pas dépasser 100 caractères."
	case !utf8.ValidString(name):
		return "Le nom contient des caractères invalides."
	}
	return ""
}

// Validate checks an account's email and name.
func (a *Account) Validate() error {
	f := apperr.Fields{}
	if msg := CheckEmail(a.Email); msg != "" {
		f.Add("email", msg)
	}
	if msg := CheckName(a.Name); msg != "" {
		f.Add("name", msg)
	}
	return f.Err()
}

// AccountByEmail returns the account with that (normalised) email, or nil.
func AccountByEmail(ctx context.Context, db bun.IDB, email string) (*Account, error) {
	a := new(Account)
	err := db.NewSelect().Model(a).Where("email = ?", email).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return a, err
}

// AccountByID returns the account, or a NotFound error.
func AccountByID(ctx context.Context, db bun.IDB, id int64) (*Account, error) {
	a := new(Account)
	err := db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "Compte introuvable.")
	}
	return a, err
}

// CreateAccount inserts a validated account; an email already in use is a
// field error.
func CreateAccount(ctx context.Context, db bun.IDB, a *Account) error {
	a.Email, a.Name = NormalizeEmail(a.Email), CleanName(a.Name)
	if err := a.Validate(); err != nil {
		return err
	}
	res, err := db.NewInsert().Model(a).Column("email", "name", "password_hash").
		On("CONFLICT (email) DO NOTHING").Returning("id, created_at, updated_at").Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.Fields{"email": "Un compte existe déjà avec cette adresse."}.Err()
	}
	return nil
}

// SetPasswordHash stores a new password hash, ends every session of the
// account and voids its password and reset links not used yet: a link made
// before the change must not undo it.
func SetPasswordHash(ctx context.Context, db bun.IDB, accountID int64, hash string) error {
	if _, err := db.NewUpdate().Model((*Account)(nil)).Set("password_hash = ?", hash).Set("updated_at = now()").
		Where("id = ?", accountID).Exec(ctx); err != nil {
		return err
	}
	if _, err := db.NewUpdate().Model((*Link)(nil)).Set("used_at = now()").
		Where("account_id = ? AND kind IN (?, ?) AND used_at IS NULL", accountID, KindPassword, KindReset).Exec(ctx); err != nil {
		return err
	}
	return DeleteSessionsOf(ctx, db, accountID)
}

// SetMembership gives accountID the role in the council, re-enabling a disabled
// membership. It locks the account's row first (until the transaction ends,
// when db is one): a single-use link being used at the same moment is checked
// either before or after this membership exists (auth.CheckLink), never while
// it is being written.
func SetMembership(ctx context.Context, db bun.IDB, councilID, accountID int64, role authz.Role) error {
	if !ValidRole(role) {
		return apperr.New(apperr.Invalid, "Rôle inconnu.")
	}
	res, err := db.NewRaw(`WITH a AS (SELECT id FROM accounts WHERE id = ? FOR UPDATE)
		INSERT INTO memberships (council_id, account_id, role) SELECT ?, a.id, ? FROM a
		ON CONFLICT (council_id, account_id) DO UPDATE SET role = EXCLUDED.role, disabled_at = NULL, updated_at = now()`,
		accountID, councilID, role).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "Compte introuvable.")
	}
	return nil
}

func memberQuery(db bun.IDB, councilID int64) *bun.SelectQuery {
	return db.NewSelect().TableExpr("memberships AS m").Join("JOIN accounts AS a ON a.id = m.account_id").
		ColumnExpr("m.id AS membership_id, m.account_id, a.name, a.email, m.role, m.disabled_at, m.created_at").
		Where("m.council_id = ?", councilID)
}

// Members lists a council's memberships, by role (admins first) then name.
// Disabled memberships are included only when withDisabled is set.
func Members(ctx context.Context, db bun.IDB, councilID int64, withDisabled bool) ([]Member, error) {
	var out []Member
	q := memberQuery(db, councilID).
		OrderExpr("m.disabled_at IS NOT NULL, CASE m.role WHEN 'admin' THEN 0 WHEN 'facilitator' THEN 1 ELSE 2 END, lower(a.name), m.id")
	if !withDisabled {
		q = q.Where("m.disabled_at IS NULL")
	}
	err := q.Scan(ctx, &out)
	return out, err
}

// MemberByAccount returns the council's membership of accountID, or NotFound.
func MemberByAccount(ctx context.Context, db bun.IDB, councilID, accountID int64) (*Member, error) {
	m := new(Member)
	err := memberQuery(db, councilID).Where("m.account_id = ?", accountID).Scan(ctx, m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "Ce membre n'existe pas dans ce conseil.")
	}
	return m, err
}

// ActiveRole returns the role of accountID in the council, None when it has no
// active membership there.
func ActiveRole(ctx context.Context, db bun.IDB, councilID, accountID int64) (authz.Role, error) {
	var role authz.Role
	err := db.NewSelect().Model((*Membership)(nil)).Column("role").
		Where("council_id = ? AND account_id = ? AND disabled_at IS NULL", councilID, accountID).Scan(ctx, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return authz.None, nil
	}
	return role, err
}
