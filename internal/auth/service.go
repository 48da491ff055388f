package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/database"
	"cla/internal/text"
)

// Validity of single-use links.
const (
	InvitationValidity   = 7 * 24 * time.Hour
	PasswordLinkValidity = 3 * 24 * time.Hour
)

func ptr(v int64) *int64 { return &v }

// councilRef is the audit trail's council of a request: nil on an instance
// without council (the operator's first password link), whose placeholder
// council has id 0.
func councilRef(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// ErrBadCredentials is the one answer to a failed sign-in, whether the email is
// unknown, the password wrong or the membership disabled.
var ErrBadCredentials = apperr.New(apperr.Invalid, "Adresse e-mail ou mot de passe incorrect.")

// errTooManyFromAddress and errTooManyForEmail answer sign-ins beyond the
// limits (ratelimit.go), saying when to try again.
func errTooManyFromAddress(wait time.Duration) error {
	return apperr.TooManyFor(wait, "Trop de tentatives de connexion depuis cette connexion internet. %s", RetryIn(wait))
}

func errTooManyForEmail(wait time.Duration) error {
	return apperr.TooManyFor(wait, "Trop de tentatives de connexion avec cette adresse e-mail. %s", RetryIn(wait))
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

	// TermEndsAt, on an invitation to a seat drawn by lot, is the end of the
	// term the membership it creates carries (SetTermEnd).
	TermEndsAt *time.Time `bun:"term_ends_at"`
}

// Link kinds.
const (
	KindInvitation = "invitation"
	KindPassword   = "password"
)

// Invite creates a single-use invitation of email to councilID with role and
// returns its secret token (shown once, stored hashed).
func Invite(ctx context.Context, db *bun.DB, councilID int64, by audit.Actor, email string, role authz.Role) (string, error) {
	return invite(ctx, db, councilID, by, email, role, nil)
}

// InviteForTerm is Invite for a seat drawn by lot: the membership the
// invitation creates ends at termEnd (issue 21, point 5).
func InviteForTerm(ctx context.Context, db *bun.DB, councilID int64, by audit.Actor, email string, termEnd time.Time) (string, error) {
	return invite(ctx, db, councilID, by, email, authz.Member, &termEnd)
}

func invite(ctx context.Context, db *bun.DB, councilID int64, by audit.Actor, email string, role authz.Role, termEnd *time.Time) (string, error) {
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
			Where("m.council_id = ? AND a.email = ? AND "+activeSQL, councilID, email).Exists(ctx)
		if err != nil {
			return err
		}
		if exists {
			return apperr.Fields{"email": "Cette personne est déjà membre du conseil."}.Err()
		}
		l := &Link{TokenHash: HashToken(token), Kind: KindInvitation, CouncilID: ptr(councilID), Email: email, Role: role,
			ExpiresAt: time.Now().Add(InvitationValidity), TermEndsAt: termEnd}
		if by.AccountID != 0 {
			l.CreatedBy = ptr(by.AccountID)
		}
		if _, err := tx.NewInsert().Model(l).Column("token_hash", "kind", "council_id", "email", "role", "created_by", "expires_at", "term_ends_at").
			Returning("id").Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.Entry(ptr(councilID), "member.invite", "invitation", strconv.FormatInt(l.ID, 10),
			"Invitation "+text.De(email)+" comme "+role.Label()), nil, map[string]any{"email": email, "role": role})
	})
	return token, err
}

// Errors of single-use links, each a clear French page.
var (
	ErrLinkInvalid = apperr.New(apperr.NotFound, "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier, ou demandez-en un nouveau à un·e animateur·ice du conseil.")
	ErrLinkExpired = apperr.New(apperr.NotFound, "Ce lien a expiré. Demandez-en un nouveau à un·e animateur·ice du conseil.")
	ErrLinkUsed    = apperr.New(apperr.Conflict, "Ce lien a déjà été utilisé : il ne sert qu'une fois. Connectez-vous, ou demandez un nouveau lien.")
	// ErrLinkElsewhere voids a council's password link once its account is
	// (or was) a member of another council too.
	ErrLinkElsewhere = apperr.New(apperr.Forbidden, "Ce lien ne peut plus servir : ce compte est aussi membre d'un autre conseil. "+
		"Pour protéger ses autres accès, seul l'opérateur de la plateforme peut lui créer un lien de mot de passe (cla admin create).")
	// ErrLinkCreatorLacksRight voids a link whose creator may no longer do
	// what it does: their role changed, their membership was disabled, or
	// the account became an administrator, whom only administrators manage.
	ErrLinkCreatorLacksRight = apperr.New(apperr.Forbidden, "Ce lien n'est plus valable : la personne qui l'a créé n'a plus le droit de le faire "+
		"pour ce compte (son rôle ou celui du compte a changé depuis). Demandez un nouveau lien à un·e animateur·ice ou à un·e administrateur·ice du conseil.")
	// ErrAlreadyMember refuses an invitation for an account that is already
	// an active member of the council: an invitation never changes a role.
	ErrAlreadyMember = apperr.New(apperr.Conflict, "Vous êtes déjà membre de ce conseil : connectez-vous avec votre adresse e-mail et votre mot de passe.")
)

// FindLink returns the usable link of that kind for the token in councilID
// (password links made from the command line work in every council). Forged,
// expired and used links get ErrLinkInvalid, ErrLinkExpired and ErrLinkUsed,
// and a link that the accounts' rights as they are now make void gets the
// error of CheckLink. The forms behind links call it to refuse early; the
// actions that use a link check again, link locked.
func FindLink(ctx context.Context, db bun.IDB, councilID int64, kind, token string) (*Link, error) {
	l, err := findLink(ctx, db, councilID, kind, token, false)
	if err != nil {
		return nil, err
	}
	return l, CheckLink(ctx, db, l)
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
	case database.IsNoRows(err):
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

// linkMembership is one membership of a link's account, as CheckLink reads it.
type linkMembership struct {
	CouncilID int64      `bun:"council_id"`
	Role      authz.Role `bun:"role"`
	Active    bool       `bun:"active"`
}

// CheckLink re-checks a single-use link against the accounts and memberships
// as they are now; it is called when the link is created and again when it
// is used, inside the using transaction with the link and the account locked,
// so that nothing that happened in between (the account joining another
// council, a role change, the creator disabled) is missed. For a link of a
// council (council_id set):
//
//   - its creator, when a person, must still be an active member of the
//     council allowed to create it (member.invite, member.password_link), and
//     an administrator when the link touches an administrator (an invitation
//     as admin, or an account that is admin of the council, even disabled);
//   - a password link is void once its account has a membership, active or
//     disabled, in any other council (ErrLinkElsewhere): a council's
//     facilitators never get to choose the password of an account with
//     rights elsewhere, now or once re-enabled there;
//   - an invitation is void for an account already active in the council
//     (ErrAlreadyMember). An invitation of an existing account needs that
//     account's password, so it gives its holder nothing they did not have.
//
// The operator's links (council_id NULL, made by cla admin create) may set
// any account's password: they are checked for the account's existence only.
//
// A reset link (KindReset, asked by the person and mailed to the account's
// own address) needs its account to be still an active member of its council;
// memberships elsewhere do not void it, since it proves the holder reads the
// account's mail, which is all an operator's link would prove.
func CheckLink(ctx context.Context, db bun.IDB, l *Link) error {
	if l.Kind == KindReset {
		return checkResetLink(ctx, db, l)
	}
	if l.CouncilID == nil {
		if l.Kind != KindPassword || l.AccountID == nil {
			return ErrLinkInvalid
		}
		return nil // the operator's link; the account exists (foreign key)
	}
	var accountID int64
	switch {
	case l.Kind == KindPassword && l.AccountID != nil:
		accountID = *l.AccountID
	case l.Kind == KindInvitation:
		if err := db.NewSelect().Model((*Account)(nil)).Column("id").Where("email = ?", l.Email).Scan(ctx, &accountID); err != nil && !database.IsNoRows(err) {
			return err
		}
	default:
		return ErrLinkInvalid
	}
	var ms []linkMembership
	if accountID != 0 {
		if err := db.NewSelect().Model((*Membership)(nil)).ColumnExpr("council_id, role, disabled_at IS NULL AS active").
			Where("account_id = ?", accountID).Scan(ctx, &ms); err != nil {
			return err
		}
	}
	council := *l.CouncilID
	targetAdmin := l.Kind == KindInvitation && l.Role == authz.Admin
	inCouncil := false
	for _, m := range ms {
		switch {
		case m.CouncilID != council && l.Kind == KindPassword:
			return ErrLinkElsewhere
		case m.CouncilID == council:
			inCouncil = true
			targetAdmin = targetAdmin || m.Role == authz.Admin
			if l.Kind == KindInvitation && m.Active {
				return ErrAlreadyMember
			}
		}
	}
	if l.Kind == KindPassword && !inCouncil {
		return ErrLinkCreatorLacksRight
	}
	if l.CreatedBy != nil {
		role, err := ActiveRole(ctx, db, council, *l.CreatedBy)
		if err != nil {
			return err
		}
		need := authz.MemberInvite
		if l.Kind == KindPassword {
			need = authz.MemberPasswordLink
		}
		if !authz.Can(role, need) || (targetAdmin && !authz.Can(role, authz.MemberManageAdmin)) || *l.CreatedBy == accountID {
			return ErrLinkCreatorLacksRight
		}
	}
	return nil
}

func markUsed(ctx context.Context, tx bun.Tx, id int64) error {
	_, err := tx.NewUpdate().Model((*Link)(nil)).Set("used_at = now()").Where("id = ?", id).Exec(ctx)
	return err
}

// lockAccount reads the account and locks its row until the transaction ends.
// Every change of an account's password or memberships that a link could
// race with takes this lock first (SetMembership does), so that a link's
// check and its use see the same memberships.
func lockAccount(ctx context.Context, tx bun.Tx, id int64) (*Account, error) {
	a := new(Account)
	err := tx.NewSelect().Model(a).Where("id = ?", id).For("UPDATE").Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Compte introuvable.")
	}
	return a, err
}

// ErrExistingPassword answers an invitation accepted with a password that is
// not the one of the account the invited address already has.
var ErrExistingPassword = apperr.Fields{"password": "Cette adresse a déjà un compte sur la plateforme, et ce n'est pas son mot de passe. " +
	"Saisissez le mot de passe de votre compte existant (c'est alors le nom de ce compte qui est gardé)."}

// AcceptInvitation joins the council with the invitation token, from the
// client address ip. The form is the same whether the invited email already
// has an account or not, and so are its checks (name and password both
// required and checked), so that whoever holds the link — the facilitator who
// made it, too — cannot tell by opening it or by a mistyped form whether the
// address has an account elsewhere. A new account is created with name and
// password; an existing one must give its own password (counted by the
// sign-in limits, as a sign-in would be) and keeps its name, and its other
// sessions end, since it gains rights. Everything happens in one
// transaction, the link and the account locked and the link re-checked
// (CheckLink): nothing is half-created.
func AcceptInvitation(ctx context.Context, db *bun.DB, councilID int64, ip, token, name, password string) (int64, error) {
	l, err := FindLink(ctx, db, councilID, KindInvitation, token)
	if err != nil {
		return 0, err
	}
	name = CleanName(name)
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
	existing, err := AccountByEmail(ctx, db, l.Email)
	if err != nil {
		return 0, err
	}
	var hash string
	if existing != nil {
		acct, err := Authenticate(ctx, db, 0, ip, l.Email, password)
		if err == ErrBadCredentials {
			return 0, ErrExistingPassword.Err()
		}
		if err != nil {
			return 0, err
		}
		existing = acct
	} else if hash, err = HashPassword(ctx, password); err != nil {
		return 0, err
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
		} else {
			locked, err := lockAccount(ctx, tx, a.ID)
			if err != nil {
				return err
			}
			// The password was checked before the transaction: it must still
			// be the account's (a password link could have been used since).
			if locked.PasswordHash != a.PasswordHash {
				return ErrExistingPassword.Err()
			}
			if err := DeleteSessionsOf(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		if err := CheckLink(ctx, tx, l); err != nil {
			return err
		}
		accountID = a.ID
		if err := SetMembership(ctx, tx, councilID, a.ID, l.Role); err != nil {
			return err
		}
		if l.TermEndsAt != nil {
			if _, err := tx.NewUpdate().Model((*Membership)(nil)).Set("term_ends_at = ?", *l.TermEndsAt).
				Where("council_id = ? AND account_id = ?", councilID, a.ID).Exec(ctx); err != nil {
				return err
			}
		}
		if err := markUsed(ctx, tx, l.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Actor{AccountID: a.ID, Name: a.Name}.Entry(ptr(councilID), "member.join", "member", strconv.FormatInt(a.ID, 10),
			fmt.Sprintf("%s rejoint le conseil comme %s", a.Name, l.Role.Label())), nil, map[string]any{"role": l.Role, "invitation": l.ID})
	})
	return accountID, err
}

// CreatePasswordLink creates a single-use link to set a new password for
// accountID and returns its token. councilID nil makes a link usable in every
// council (the operator's first link, from the command line). A council's link
// is checked as it will be when used (CheckLink): never for an account that
// has rights in another council.
func CreatePasswordLink(ctx context.Context, db *bun.DB, councilID *int64, by audit.Actor, accountID int64) (string, error) {
	token := NewToken()
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a, err := AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		l := &Link{TokenHash: HashToken(token), Kind: KindPassword, CouncilID: councilID, AccountID: ptr(accountID),
			ExpiresAt: time.Now().Add(PasswordLinkValidity)}
		if by.AccountID != 0 {
			l.CreatedBy = ptr(by.AccountID)
		}
		if err := CheckLink(ctx, tx, l); err == ErrLinkElsewhere {
			return ErrAccountElsewhere
		} else if err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(l).Column("token_hash", "kind", "council_id", "account_id", "created_by", "expires_at").
			Returning("id").Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.Entry(councilID, "account.password_link", "member", strconv.FormatInt(accountID, 10),
			"Lien de nouveau mot de passe créé pour "+a.Name).About(a.Name), nil, nil)
	})
	return token, err
}

// ErrAccountElsewhere refuses a council's password link for an account that is
// also a member (active or disabled) of another council.
var ErrAccountElsewhere = apperr.New(apperr.Forbidden, "Ce compte est aussi membre d'un autre conseil : "+
	"pour protéger ses autres accès, seul l'opérateur de la plateforme peut lui créer un lien de mot de passe (cla admin create).")

// UsePasswordLink sets the password of the link's account, ends all its
// sessions and uses the link up. The link is re-checked (CheckLink) in the
// transaction that uses it, with the link and the account locked. It returns
// the account id.
func UsePasswordLink(ctx context.Context, db *bun.DB, councilID int64, token, password string) (int64, error) {
	return setPasswordWithLink(ctx, db, councilID, KindPassword, token, password)
}

// setPasswordWithLink uses a password or reset link (kind) of the council.
func setPasswordWithLink(ctx context.Context, db *bun.DB, councilID int64, kind, token, password string) (int64, error) {
	if _, err := FindLink(ctx, db, councilID, kind, token); err != nil {
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
		l, err := findLink(ctx, tx, councilID, kind, token, true)
		if err != nil {
			return err
		}
		accountID = *l.AccountID
		a, err := lockAccount(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if err := CheckLink(ctx, tx, l); err != nil {
			return err
		}
		if err := SetPasswordHash(ctx, tx, accountID, hash); err != nil {
			return err
		}
		if err := markUsed(ctx, tx, l.ID); err != nil {
			return err
		}
		action, summary := "account.password_set", " a choisi un nouveau mot de passe (lien à usage unique)"
		if kind == KindReset {
			// Whoever reached the link holds the address: the sign-in
			// backoff of the address ends.
			if err := clearBackoff(ctx, tx, RateKeyEmail(a.Email)); err != nil {
				return err
			}
			action, summary = resetAudit.action, resetAudit.summary
		}
		return audit.Record(ctx, tx, audit.Actor{AccountID: a.ID, Name: a.Name}.Entry(councilRef(councilID), action, "member",
			strconv.FormatInt(a.ID, 10), a.Name+summary), nil, nil)
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
	// The current password is guessed here as well as on the sign-in form
	// (a session left open on a shared computer): both share the email's
	// backoff series.
	emailKey := RateKeyEmail(a.Email)
	slot, err := takeBackoff(ctx, db, emailKey)
	if err != nil {
		return err
	}
	if !slot.Taken {
		return apperr.Fields{"current": "Trop de tentatives avec un mauvais mot de passe. " + RetryIn(slot.Wait)}.Err()
	}
	ok, err := VerifyPassword(ctx, a.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		f.Add("current", "Mot de passe actuel incorrect.")
	} else if err := clearBackoff(ctx, db, emailKey); err != nil {
		return err
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
		return audit.Record(ctx, tx, audit.Actor{AccountID: a.ID, Name: a.Name}.Entry(ptr(councilID), "account.password_change", "member",
			strconv.FormatInt(a.ID, 10), a.Name+" a changé son mot de passe"), nil, nil)
	})
}

// ErrSelf refuses changes a person would make to their own membership.
var ErrSelf = apperr.New(apperr.Forbidden, "Vous ne pouvez pas modifier votre propre rôle ni désactiver votre propre compte.")

// SetRole changes the role of a member of councilID.
func SetRole(ctx context.Context, db *bun.DB, councilID int64, by audit.Actor, accountID int64, role authz.Role) error {
	if !ValidRole(role) {
		return apperr.Fields{"role": "Choisissez un rôle dans la liste."}.Err()
	}
	if by.AccountID == accountID {
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
		return audit.Record(ctx, tx, by.Entry(ptr(councilID), "member.role", "member", strconv.FormatInt(accountID, 10),
			fmt.Sprintf("Rôle %s : %s → %s", text.De(m.Name), m.Role.Label(), role.Label())).About(m.Name),
			map[string]any{"role": m.Role}, map[string]any{"role": role})
	})
}

// SetDisabled disables (or re-enables) a member of councilID. Disabling ends
// every session of the account at once; past contributions stay attributed.
func SetDisabled(ctx context.Context, db *bun.DB, councilID int64, by audit.Actor, accountID int64, disabled bool) error {
	if by.AccountID == accountID {
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
		return audit.Record(ctx, tx, by.Entry(ptr(councilID), action, "member", strconv.FormatInt(accountID, 10), summary).About(m.Name),
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
