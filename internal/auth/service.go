package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
)

// Validity of single-use links.
const (
	InvitationValidity   = 7 * 24 * time.Hour
	PasswordLinkValidity = 3 * 24 * time.Hour
)

// Actor is who makes a change, for the audit trail; the zero Actor is the
// system (command line).
type Actor struct {
	ID   int64
	Name string
}

func (a Actor) entry(councilID *int64, action, objectType, objectID, summary string) audit.Entry {
	e := audit.Entry{CouncilID: councilID, ActorName: a.Name, Action: action, ObjectType: objectType, ObjectID: objectID, Summary: summary}
	if a.ID != 0 {
		id := a.ID
		e.ActorID = &id
	}
	if e.ActorName == "" {
		e.ActorName = "système"
	}
	return e
}

func ptr(v int64) *int64 { return &v }

// ErrBadCredentials is the one answer to a failed sign-in, whether the email is
// unknown, the password wrong or the membership disabled.
var ErrBadCredentials = apperr.New(apperr.Invalid, "Adresse e-mail ou mot de passe incorrect.")

// errTooManyFromAddress and errTooManyForEmail answer sign-ins beyond the
// limits (ratelimit.go), saying when to try again.
func errTooManyFromAddress(wait time.Duration) error {
	return apperr.New(apperr.TooMany, "Trop de tentatives de connexion depuis cette connexion internet. %s", RetryIn(wait))
}

func errTooManyForEmail(wait time.Duration) error {
	return apperr.New(apperr.TooMany, "Trop de tentatives de connexion avec cette adresse e-mail. %s", RetryIn(wait))
}

// Authenticate checks email and password for a sign-in to councilID from the
// client address ip. Each attempt first takes a slot of the per-address limit
// and of the per-email backoff, in one statement each, before any password is
// checked: concurrent attempts cannot pass the limits together. Unknown emails
// are hashed against a dummy hash and have a backoff like any other, so every
// failure takes the same work and gets ErrBadCredentials. A successful
// sign-in gives the address's slot back and clears the email's backoff.
// councilID 0 checks the password alone, with no role in any council (an
// invitation accepted by an existing account).
func Authenticate(ctx context.Context, db bun.IDB, councilID int64, ip, email, password string) (*Account, error) {
	email = NormalizeEmail(email)
	if len(email) > MaxEmailLen {
		email = email[:MaxEmailLen]
	}
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen]
	}
	ipKey, emailKey := RateKeyIP(ip), RateKeyEmail(email)
	ipSlot, err := TakeSlot(ctx, db, ipKey, IPAttemptLimit, IPAttemptWindow)
	if err != nil {
		return nil, err
	}
	if !ipSlot.Taken {
		return nil, errTooManyFromAddress(ipSlot.Wait)
	}
	acct, err := checkPassword(ctx, db, councilID, emailKey, email, password)
	if err != nil || acct == nil {
		if err == nil {
			err = ErrBadCredentials
		}
		return nil, err
	}
	if err := GiveBack(ctx, db, ipKey, ipSlot); err != nil {
		return nil, err
	}
	if err := clearBackoff(ctx, db, emailKey); err != nil {
		return nil, err
	}
	return acct, nil
}

// checkPassword takes an attempt of the email's backoff and checks the
// password; it returns the account, or nil when the email is unknown, the
// password wrong or the account has no active role in councilID.
func checkPassword(ctx context.Context, db bun.IDB, councilID int64, emailKey, email, password string) (*Account, error) {
	slot, err := takeBackoff(ctx, db, emailKey)
	if err != nil {
		return nil, err
	}
	if !slot.Taken {
		return nil, errTooManyForEmail(slot.Wait)
	}
	acct, err := AccountByEmail(ctx, db, email)
	if err != nil {
		return nil, err
	}
	hash := ""
	if acct != nil {
		hash = acct.PasswordHash
	}
	ok, err := VerifyPassword(ctx, hash, password)
	if err != nil || !ok {
		return nil, err
	}
	if councilID != 0 {
		role, err := ActiveRole(ctx, db, councilID, acct.ID)
		if err != nil || role == authz.None {
			return nil, err
		}
	}
	return acct, nil
}

// Link is a single-use link: an invitation or a password (re)set link.
type Link struct {
	bun.BaseModel `bun:"table:account_tokens"`

	ID        int64      `bun:"id,pk,autoincrement"`
	TokenHash []byte     `bun:"token_hash"`
	Kind      string     `bun:"kind"` // "invitation" or "password"
	CouncilID *int64     `bun:"council_id"`
	AccountID *int64     `bun:"account_id"`
	Email     string     `bun:"email"`
	Role      authz.Role `bun:"role"`
	CreatedBy *int64     `bun:"created_by"`
	CreatedAt time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// Link kinds.
const (
	KindInvitation = "invitation"
	KindPassword   = "password"
)

// Invite creates a single-use invitation of email to councilID with role and
// returns its secret token (shown once, stored hashed).
func Invite(ctx context.Context, db *bun.DB, councilID int64, by Actor, email string, role authz.Role) (string, error) {
	email = NormalizeEmail(email)
	f := apperr.Fields{}
	if msg := CheckEmail(email); msg != "" {
		f.Add("email", msg)
	}
	if !ValidRole(role) {
		f.Add("role", "Choisissez un rôle dans la liste.")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	token := NewToken()
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		exists, err := tx.NewSelect().TableExpr("memberships AS m").Join("JOIN accounts AS a ON a.id = m.account_id").
			Where("m.council_id = ? AND a.email = ? AND m.disabled_at IS NULL", councilID, email).Exists(ctx)
		if err != nil {
			return err
		}
		if exists {
			return apperr.Fields{"email": "Cette personne est déjà membre du conseil."}.Err()
		}
		l := &Link{TokenHash: HashToken(token), Kind: KindInvitation, CouncilID: ptr(councilID), Email: email, Role: role,
			ExpiresAt: time.Now().Add(InvitationValidity)}
		if by.ID != 0 {
			l.CreatedBy = ptr(by.ID)
		}
		if _, err := tx.NewInsert().Model(l).Column("token_hash", "kind", "council_id", "email", "role", "created_by", "expires_at").
			Returning("id").Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.entry(ptr(councilID), "member.invite", "invitation", strconv.FormatInt(l.ID, 10),
			fmt.Sprintf("Invitation de %s comme %s", email, role.Label())), nil, map[string]any{"email": email, "role": role})
	})
	return token, err
}

// Errors of single-use links, each a clear French page.
var (
	ErrLinkInvalid = apperr.New(apperr.NotFound, "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier, ou demandez-en un nouveau à un·e animateur·ice du conseil.")
	ErrLinkExpired = apperr.New(apperr.NotFound, "Ce lien a expiré. Demandez-en un nouveau à un·e animateur·ice du conseil.")
	ErrLinkUsed    = apperr.New(apperr.Conflict, "Ce lien a déjà été utilisé : il ne sert qu'une fois. Connectez-vous, ou demandez un nouveau lien.")
)

// FindLink returns the usable link of that kind for the token in councilID
// (password links made from the command line work in every council). Forged,
// expired and used links get ErrLinkInvalid, ErrLinkExpired and ErrLinkUsed.
func FindLink(ctx context.Context, db bun.IDB, councilID int64, kind, token string) (*Link, error) {
	return findLink(ctx, db, councilID, kind, token, false)
}

func findLink(ctx context.Context, db bun.IDB, councilID int64, kind, token string, lock bool) (*Link, error) {
	if !wellFormed(token) {
		return nil, ErrLinkInvalid
	}
	l := new(Link)
	q := db.NewSelect().Model(l).Where("token_hash = ? AND kind = ?", HashToken(token), kind).
		Where("(council_id = ? OR (kind = 'password' AND council_id IS NULL))", councilID)
	if lock {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrLinkInvalid
	case err != nil:
		return nil, err
	case l.UsedAt != nil:
		return nil, ErrLinkUsed
	case time.Now().After(l.ExpiresAt):
		return nil, ErrLinkExpired
	}
	return l, nil
}

func markUsed(ctx context.Context, tx bun.Tx, id int64) error {
	_, err := tx.NewUpdate().Model((*Link)(nil)).Set("used_at = now()").Where("id = ?", id).Exec(ctx)
	return err
}

// AcceptInvitation joins the council with the invitation token. A new account
// is created with name and password; when the invited email already has an
// account, password must be that account's and name is ignored. Everything
// happens in one transaction: nothing is half-created.
func AcceptInvitation(ctx context.Context, db *bun.DB, councilID int64, token, name, password string) (int64, error) {
	l, err := FindLink(ctx, db, councilID, KindInvitation, token)
	if err != nil {
		return 0, err
	}
	existing, err := AccountByEmail(ctx, db, l.Email)
	if err != nil {
		return 0, err
	}
	var hash string
	name = CleanName(name)
	if existing != nil {
		ok, err := VerifyPassword(ctx, existing.PasswordHash, password)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, apperr.Fields{"password": "Ce n'est pas le mot de passe de votre compte existant."}.Err()
		}
	} else {
		f := apperr.Fields{}
		if msg := CheckName(name); msg != "" {
			f.Add("name", msg)
		}
		if msg := CheckPassword(password); msg != "" {
			f.Add("password", msg)
		}
		if err := f.Err(); err != nil {
			return 0, err
		}
		if hash, err = HashPassword(ctx, password); err != nil {
			return 0, err
		}
	}
	var accountID int64
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		l, err := findLink(ctx, tx, councilID, KindInvitation, token, true)
		if err != nil {
			return err
		}
		a := existing
		if a == nil {
			a = &Account{Email: l.Email, Name: name, PasswordHash: hash}
			if err := CreateAccount(ctx, tx, a); err != nil {
				return err
			}
		}
		accountID = a.ID
		if err := SetMembership(ctx, tx, councilID, a.ID, l.Role); err != nil {
			return err
		}
		if err := markUsed(ctx, tx, l.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, Actor{ID: a.ID, Name: a.Name}.entry(ptr(councilID), "member.join", "member", strconv.FormatInt(a.ID, 10),
			fmt.Sprintf("%s rejoint le conseil comme %s", a.Name, l.Role.Label())), nil, map[string]any{"role": l.Role, "invitation": l.ID})
	})
	return accountID, err
}

// CreatePasswordLink creates a single-use link to set a new password for
// accountID and returns its token. councilID nil makes a link usable in every
// council (the operator's first link, from the command line).
func CreatePasswordLink(ctx context.Context, db *bun.DB, councilID *int64, by Actor, accountID int64) (string, error) {
	token := NewToken()
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a, err := AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if councilID != nil {
			// A council's facilitators must not take over an account that has
			// rights in another council.
			elsewhere, err := tx.NewSelect().Model((*Membership)(nil)).
				Where("account_id = ? AND council_id <> ? AND disabled_at IS NULL", accountID, *councilID).Exists(ctx)
			if err != nil {
				return err
			}
			if elsewhere {
				return ErrAccountElsewhere
			}
		}
		l := &Link{TokenHash: HashToken(token), Kind: KindPassword, CouncilID: councilID, AccountID: ptr(accountID),
			ExpiresAt: time.Now().Add(PasswordLinkValidity)}
		if by.ID != 0 {
			l.CreatedBy = ptr(by.ID)
		}
		if _, err := tx.NewInsert().Model(l).Column("token_hash", "kind", "council_id", "account_id", "created_by", "expires_at").
			Returning("id").Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.entry(councilID, "account.password_link", "member", strconv.FormatInt(accountID, 10),
			"Lien de nouveau mot de passe créé pour "+a.Name), nil, nil)
	})
	return token, err
}

// ErrAccountElsewhere refuses a council's password link for an account that is
// also a member of another council.
var ErrAccountElsewhere = apperr.New(apperr.Forbidden, "Ce compte est aussi membre d'un autre conseil : "+
	"pour protéger ses autres accès, seul l'opérateur de la plateforme peut lui créer un lien de mot de passe (cla admin create).")

// UsePasswordLink sets the password of the link's account, ends all its
// sessions and uses the link up. It returns the account id.
func UsePasswordLink(ctx context.Context, db *bun.DB, councilID int64, token, password string) (int64, error) {
	if _, err := FindLink(ctx, db, councilID, KindPassword, token); err != nil {
		return 0, err
	}
	if msg := CheckPassword(password); msg != "" {
		return 0, apperr.Fields{"password": msg}.Err()
	}
	hash, err := HashPassword(ctx, password)
	if err != nil {
		return 0, err
	}
	var accountID int64
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		l, err := findLink(ctx, tx, councilID, KindPassword, token, true)
		if err != nil {
			return err
		}
		accountID = *l.AccountID
		a, err := AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if err := SetPasswordHash(ctx, tx, accountID, hash); err != nil {
			return err
		}
		if err := markUsed(ctx, tx, l.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, Actor{ID: a.ID, Name: a.Name}.entry(ptr(councilID), "account.password_set", "member",
			strconv.FormatInt(a.ID, 10), a.Name+" a choisi un nouveau mot de passe (lien à usage unique)"), nil, nil)
	})
	return accountID, err
}

// ChangePassword replaces the password of accountID after checking the
// current one; every session of the account ends (the caller signs this
// browser in again).
func ChangePassword(ctx context.Context, db *bun.DB, councilID, accountID int64, current, next string) error {
	a, err := AccountByID(ctx, db, accountID)
	if err != nil {
		return err
	}
	f := apperr.Fields{}
	ok, err := VerifyPassword(ctx, a.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		f.Add("current", "Mot de passe actuel incorrect.")
	}
	if msg := CheckPassword(next); msg != "" {
		f.Add("password", msg)
	}
	if err := f.Err(); err != nil {
		return err
	}
	hash, err := HashPassword(ctx, next)
	if err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := SetPasswordHash(ctx, tx, accountID, hash); err != nil {
			return err
		}
		return audit.Record(ctx, tx, Actor{ID: a.ID, Name: a.Name}.entry(ptr(councilID), "account.password_change", "member",
			strconv.FormatInt(a.ID, 10), a.Name+" a changé son mot de passe"), nil, nil)
	})
}

// ErrSelf refuses changes a person would make to their own membership.
var ErrSelf = apperr.New(apperr.Forbidden, "Vous ne pouvez pas modifier votre propre rôle ni désactiver votre propre compte.")

// SetRole changes the role of a member of councilID.
func SetRole(ctx context.Context, db *bun.DB, councilID int64, by Actor, accountID int64, role authz.Role) error {
	if !ValidRole(role) {
		return apperr.Fields{"role": "Choisissez un rôle dans la liste."}.Err()
	}
	if by.ID == accountID {
		return ErrSelf
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := MemberByAccount(ctx, tx, councilID, accountID)
		if err != nil {
			return err
		}
		if m.Role == role {
			return nil
		}
		if _, err := tx.NewUpdate().Model((*Membership)(nil)).Set("role = ?", role).Set("updated_at = now()").
			Where("id = ? AND council_id = ?", m.MembershipID, councilID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.entry(ptr(councilID), "member.role", "member", strconv.FormatInt(accountID, 10),
			fmt.Sprintf("Rôle de %s : %s → %s", m.Name, m.Role.Label(), role.Label())),
			map[string]any{"role": m.Role}, map[string]any{"role": role})
	})
}

// SetDisabled disables (or re-enables) a member of councilID. Disabling ends
// every session of the account at once; past contributions stay attributed.
func SetDisabled(ctx context.Context, db *bun.DB, councilID int64, by Actor, accountID int64, disabled bool) error {
	if by.ID == accountID {
		return ErrSelf
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := MemberByAccount(ctx, tx, councilID, accountID)
		if err != nil {
			return err
		}
		if m.Active() != disabled {
			return nil // already in that state
		}
		q := tx.NewUpdate().Model((*Membership)(nil)).Set("updated_at = now()").Where("id = ? AND council_id = ?", m.MembershipID, councilID)
		action, summary := "member.enable", "Réactivation de "+m.Name
		if disabled {
			q = q.Set("disabled_at = now()")
			action, summary = "member.disable", "Désactivation de "+m.Name
		} else {
			q = q.Set("disabled_at = NULL")
		}
		if _, err := q.Exec(ctx); err != nil {
			return err
		}
		if disabled {
			if err := DeleteSessionsOf(ctx, tx, accountID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, by.entry(ptr(councilID), action, "member", strconv.FormatInt(accountID, 10), summary),
			map[string]any{"active": disabled}, map[string]any{"active": !disabled})
	})
}

// PendingInvitations lists the council's invitations not used yet and not
// expired, newest first.
func PendingInvitations(ctx context.Context, db bun.IDB, councilID int64) ([]Link, error) {
	var out []Link
	err := db.NewSelect().Model(&out).Column("id", "email", "role", "created_at", "expires_at").
		Where("council_id = ? AND kind = 'invitation' AND used_at IS NULL AND expires_at > now()", councilID).
		Order("id DESC").Limit(200).Scan(ctx)
	return out, err
}
