// Package auth holds accounts, council memberships, password hashing, sessions
// stored in PostgreSQL, CSRF protection, the sign-in rate limiter and the
// middleware that tells every request who is asking (web.Viewer).
package auth

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/authz"
	"cla/internal/database"
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
	// TermEndsAt ends a membership that comes from a seat drawn by lot.
	TermEndsAt *time.Time `bun:"term_ends_at"`
}

// Active reports whether the membership is not disabled and its term, if
// any, is not over (read now: nothing waits for the job that ends terms).
func (m *Member) Active() bool {
	return m.DisabledAt == nil && !m.TermEnded(time.Now())
}

// TermEnded reports whether the membership had a term that is over at now.
func (m *Member) TermEnded(now time.Time) bool {
	return m.TermEndsAt != nil && !now.Before(*m.TermEndsAt)
}

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
	if database.IsNoRows(err) {
		return nil, nil
	}
	return a, err
}

// AccountByID returns the account, or a NotFound error.
func AccountByID(ctx context.Context, db bun.IDB, id int64) (*Account, error) {
	a := new(Account)
	err := db.NewSelect().Model(a).Where("id = ?", id).Scan(ctx)
	if database.IsNoRows(err) {
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
		ON CONFLICT (council_id, account_id) DO UPDATE SET role = EXCLUDED.role, disabled_at = NULL, term_ends_at = NULL, updated_at = now()`,
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
		ColumnExpr("m.id AS membership_id, m.account_id, a.name, a.email, m.role, m.disabled_at, m.term_ends_at, m.created_at").
		Where("m.council_id = ?", councilID)
}

// Members lists a council's memberships, by role (admins first) then name.
// Disabled memberships are included only when withDisabled is set.
func Members(ctx context.Context, db bun.IDB, councilID int64, withDisabled bool) ([]Member, error) {
	var out []Member
	q := memberQuery(db, councilID).
		OrderExpr("NOT (" + activeSQL + "), CASE m.role WHEN 'admin' THEN 0 WHEN 'facilitator' THEN 1 ELSE 2 END, lower(a.name), m.id")
	if !withDisabled {
		q = q.Where(activeSQL)
	}
	err := q.Scan(ctx, &out)
	return out, err
}

// MemberByAccount returns the council's membership of accountID, or NotFound.
func MemberByAccount(ctx context.Context, db bun.IDB, councilID, accountID int64) (*Member, error) {
	m := new(Member)
	err := memberQuery(db, councilID).Where("m.account_id = ?", accountID).Scan(ctx, m)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce membre n'existe pas dans ce conseil.")
	}
	return m, err
}

// ActiveMembersByName lists the council's enabled memberships by name (then
// account id), as a roll reads them.
func ActiveMembersByName(ctx context.Context, db bun.IDB, councilID int64) ([]Member, error) {
	var out []Member
	err := memberQuery(db, councilID).Where(activeSQL).OrderExpr("a.name, a.id").Scan(ctx, &out)
	return out, err
}

// ActiveMemberIDs returns those of ids that are enabled members of the
// council.
func ActiveMemberIDs(ctx context.Context, db bun.IDB, councilID int64, ids []int64) ([]int64, error) {
	var out []int64
	if len(ids) == 0 {
		return nil, nil
	}
	err := db.NewSelect().Model((*Membership)(nil)).Column("account_id").
		Where("council_id = ? AND "+activeSQLBare+" AND account_id IN (?)", councilID, bun.List(ids)).Scan(ctx, &out)
	return out, err
}

// AccountName is an account's id and name.
type AccountName struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// AccountNames returns the names of the accounts ids, by name then id.
func AccountNames(ctx context.Context, db bun.IDB, ids []int64) ([]AccountName, error) {
	var out []AccountName
	if len(ids) == 0 {
		return nil, nil
	}
	err := db.NewSelect().Model((*Account)(nil)).Column("id", "name").
		Where("id IN (?)", bun.List(ids)).OrderExpr("name, id").Scan(ctx, &out)
	return out, err
}

// CountActiveMembers counts the council's enabled memberships (the members
// who may score, vote, take part).
func CountActiveMembers(ctx context.Context, db bun.IDB, councilID int64) (int, error) {
	return db.NewSelect().Model((*Membership)(nil)).Where("council_id = ? AND "+activeSQLBare, councilID).Count(ctx)
}

// ActiveRole returns the role of accountID in the council, None when it has no
// active membership there.
func ActiveRole(ctx context.Context, db bun.IDB, councilID, accountID int64) (authz.Role, error) {
	var role authz.Role
	err := db.NewSelect().Model((*Membership)(nil)).Column("role").
		Where("council_id = ? AND account_id = ? AND "+activeSQLBare, councilID, accountID).Scan(ctx, &role)
	if database.IsNoRows(err) {
		return authz.None, nil
	}
	return role, err
}

// AllActiveMemberIDs lists the account ids of the council's active members,
// in id order.
func AllActiveMemberIDs(ctx context.Context, db bun.IDB, councilID int64) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*Membership)(nil)).Column("account_id").
		Where("council_id = ? AND "+activeSQLBare, councilID).Order("account_id").Scan(ctx, &ids)
	return ids, err
}
