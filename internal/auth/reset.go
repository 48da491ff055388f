package auth

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/database"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/web"
)

// Self-service password reset (issue 17): someone who forgot their password
// gives their address on /connexion/oubli; the request only takes the rate
// limits and enqueues a ResetArgs job, so that the answer, and the time it
// takes, are the same whether or not the address has an account. The job
// mails a single-use link, valid ResetValidity, to an account with an active
// membership in the council the request was made on, and to no one else.
// The link (kind KindReset, stored hashed) works on that council's hosts only.

// KindReset is the kind of a self-service reset link.
const KindReset = "reset"

// Limits of the reset requests, in rate_slots like the sign-in limits. Per
// email address (known or not, so that the limit reveals nothing) they keep
// a mailbox from being flooded; per client address, one person from asking
// for many addresses.
const (
	ResetValidity   = time.Hour
	ResetWindow     = time.Hour
	ResetEmailLimit = 3
	ResetIPLimit    = 10
	// A request not mailed within resetStale (the SMTP server down all that
	// time) is dropped: the person has asked again or given up.
	resetStale       = 24 * time.Hour
	resetMaxAttempts = 12
)

// ResetPath is where a reset link leads; the token follows.
const ResetPath = "/connexion/reinitialiser/"

// RateKeyResetIP names the reset-request limit of a client address.
func RateKeyResetIP(ip string) string { return "reset:ip:" + ip }

// RateKeyResetEmail names the reset-request limit of an email address.
func RateKeyResetEmail(email string) string { return "reset:email:" + email }

// ResetArgs is the auth.password_reset job: one request, with the address as
// typed (normalised) and the base URL its link must carry. It holds no
// secret: the token is made when the mail is sent.
type ResetArgs struct {
	CouncilID int64  `json:"council_id"`
	Email     string `json:"email"`
	// BaseURL is a base URL known to lead to the council (ResetBaseURL);
	// empty when none could be trusted, and then nothing is sent.
	BaseURL string `json:"base_url"`
}

// Kind names the job in River's table.
func (ResetArgs) Kind() string { return "auth.password_reset" }

// RequestPasswordReset takes the limits of a reset request for email from the
// client address ip and enqueues its job, in tx (the request's idempotency
// transaction: a refused request takes no slot). It never looks the address
// up: whether it has an account is the job's business.
func RequestPasswordReset(ctx context.Context, tx bun.IDB, councilID int64, ip, email, baseURL string) error {
	ipSlot, err := TakeSlot(ctx, tx, RateKeyResetIP(ip), ResetIPLimit, ResetWindow)
	if err != nil {
		return err
	}
	if !ipSlot.Taken {
		return apperr.TooManyFor(ipSlot.Wait, "Trop de demandes de nouveau mot de passe depuis cette connexion internet. %s", RetryIn(ipSlot.Wait))
	}
	emailSlot, err := TakeSlot(ctx, tx, RateKeyResetEmail(email), ResetEmailLimit, ResetWindow)
	if err != nil {
		return err
	}
	if !emailSlot.Taken {
		return apperr.TooManyFor(emailSlot.Wait, "Trop de demandes de nouveau mot de passe pour cette adresse e-mail. %s", RetryIn(emailSlot.Wait))
	}
	_, err = jobs.Enqueue(ctx, tx, ResetArgs{CouncilID: councilID, Email: email, BaseURL: baseURL},
		&jobs.InsertOpts{MaxAttempts: resetMaxAttempts})
	return err
}

// ResetBaseURL returns the base URL a reset link mailed from this request may
// carry, "" when none can be trusted. The Host header is the requester's to
// choose, and any unknown host is served the default council: a link built
// from it would send the token to whatever host an attacker typed (reset
// poisoning). So the request's own base is used only when its host is
// registered for the request's council (council_hosts); otherwise the
// configured --base-url, when its host is registered for this council, or is
// registered for none and this is the default council.
func ResetBaseURL(c *fiber.Ctx) (string, error) {
	m, co, ctx := managerOf(c), web.Council(c), c.UserContext()
	owner, err := council.HostOwner(ctx, m.db, c.Hostname())
	if err != nil {
		return "", err
	}
	if owner == co.ID {
		return strings.Clone(c.BaseURL()), nil
	}
	if m.baseURL == "" {
		return "", nil
	}
	u, err := url.Parse(m.baseURL)
	if err != nil {
		return "", nil
	}
	if owner, err = council.HostOwner(ctx, m.db, u.Host); err != nil {
		return "", err
	}
	if owner == co.ID || (owner == 0 && co.IsDefault) {
		return strings.TrimRight(m.baseURL, "/"), nil
	}
	return "", nil
}

// ResetWorker works auth.password_reset jobs: for an account with an active
// membership in the job's council it makes a reset link and mails it with
// Sender, in one transaction, so that a failed send leaves no link (the job
// is retried, with a new one). With no Sender (no SMTP configured) or no
// trusted base URL it sends and stores nothing, and says so once in the log.
type ResetWorker struct {
	jobs.WorkerDefaults[ResetArgs]
	DB     *bun.DB
	Sender mail.Sender
	Logger *slog.Logger

	noSMTP, noBase sync.Once
}

func (w *ResetWorker) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// Work mails the link, or does nothing when the address has no active
// membership in the council.
func (w *ResetWorker) Work(ctx context.Context, job *jobs.Job[ResetArgs]) error {
	args := job.Args
	switch {
	case w.Sender == nil:
		w.noSMTP.Do(func() {
			w.log().Info("password reset asked, but no SMTP server is configured (--smtp-addr): no mail is sent")
		})
		return nil
	case args.BaseURL == "":
		w.noBase.Do(func() {
			w.log().Warn("password reset asked on a host registered for no council, and --base-url does not lead to that council: no mail is sent (set --base-url or add the council's host)")
		})
		return nil
	case time.Since(job.CreatedAt) > resetStale:
		return nil
	}
	return w.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var acct struct {
			ID    int64  `bun:"id"`
			Name  string `bun:"name"`
			Email string `bun:"email"`
		}
		err := tx.NewSelect().TableExpr("accounts AS a").Join("JOIN memberships AS m ON m.account_id = a.id").
			ColumnExpr("a.id, a.name, a.email").
			Where("a.email = ? AND m.council_id = ? AND "+activeSQL, NormalizeEmail(args.Email), args.CouncilID).
			For("UPDATE OF a").Scan(ctx, &acct)
		if database.IsNoRows(err) {
			return nil // no such member here: nothing is sent, nothing is stored
		}
		if err != nil {
			return err
		}
		co, err := council.ByID(ctx, tx, args.CouncilID)
		if err != nil {
			return err
		}
		// One live reset link per account: the newest.
		if _, err := tx.NewUpdate().Model((*Link)(nil)).Set("used_at = now()").
			Where("account_id = ? AND kind = ? AND used_at IS NULL", acct.ID, KindReset).Exec(ctx); err != nil {
			return err
		}
		token := NewToken()
		l := &Link{TokenHash: HashToken(token), Kind: KindReset, CouncilID: ptr(co.ID), AccountID: ptr(acct.ID),
			ExpiresAt: time.Now().Add(ResetValidity)}
		if _, err := tx.NewInsert().Model(l).Column("token_hash", "kind", "council_id", "account_id", "expires_at").
			Returning("id").Exec(ctx); err != nil {
			return err
		}
		msg := resetMessage(co.Name, acct.Name, acct.Email, args.BaseURL, token, l.ID)
		// Sent before the commit: a refused or failed send rolls the link
		// back. A link mailed whose commit then fails is simply invalid.
		return w.Sender.Send(ctx, msg)
	})
}

// resetMessage is the mail carrying the link, in French, text and HTML.
func resetMessage(councilName, name, email, baseURL, token string, linkID int64) *mail.Message {
	link := strings.TrimRight(baseURL, "/") + ResetPath + token
	// The headers fold line breaks themselves (internal/mail); the body
	// gets the names on one line too.
	name, councilName = CleanName(name), CleanName(councilName)
	host := "cla"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	text := "Bonjour " + name + ",\n\n" +
		"Un nouveau mot de passe a été demandé pour votre compte sur le site du " + councilName + ".\n\n" +
		"Choisissez-le en ouvrant ce lien, valable une heure et une seule fois :\n" + link + "\n\n" +
		"Si vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.\n"
	h := html.EscapeString
	body := `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Nouveau mot de passe</title></head><body>` +
		"<p>Bonjour " + h(name) + ",</p>" +
		"<p>Un nouveau mot de passe a été demandé pour votre compte sur le site du " + h(councilName) + ".</p>" +
		`<p><a href="` + h(link) + `">Choisir un nouveau mot de passe</a> (lien valable une heure et une seule fois)</p>` +
		"<p>Si vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.</p></body></html>"
	return &mail.Message{
		From:      mail.Address{Name: councilName},
		To:        mail.Address{Name: name, Email: email},
		Subject:   "Nouveau mot de passe — " + councilName,
		Text:      text,
		HTML:      body,
		MessageID: mail.MessageID("reset-"+strconv.FormatInt(linkID, 10), email, host),
	}
}

// Errors of reset links, each said on a page that offers to ask again.
var (
	ErrResetInvalid = apperr.New(apperr.NotFound, "Ce lien n'est pas valide : vérifiez qu'il a été copié en entier, ou demandez un nouveau lien.")
	ErrResetExpired = apperr.New(apperr.NotFound, "Ce lien a expiré : il n'est valable qu'une heure. Demandez un nouveau lien.")
	ErrResetUsed    = apperr.New(apperr.Conflict, "Ce lien a déjà servi, ou un lien plus récent l'a remplacé : il ne sert qu'une fois. Demandez un nouveau lien si besoin.")
)

// ResetError turns the error of a reset link into its French page's message,
// or returns "" when err is not one (an internal error).
func ResetError(err error) (status int, msg string) {
	switch {
	case errors.Is(err, ErrLinkExpired):
		return fiber.StatusGone, apperr.MessageOf(ErrResetExpired)
	case errors.Is(err, ErrLinkUsed):
		return fiber.StatusConflict, apperr.MessageOf(ErrResetUsed)
	case errors.Is(err, ErrLinkInvalid):
		return fiber.StatusNotFound, apperr.MessageOf(ErrResetInvalid)
	}
	return 0, ""
}

// UseResetLink sets the password of a reset link's account, like a password
// link (UsePasswordLink): the link re-checked in the transaction that uses
// it, every session of the account ended, its other password and reset links
// voided. The sign-in backoff of its address is cleared too, since the
// person just proved they hold it. It returns the account id; the caller
// signs this browser in.
func UseResetLink(ctx context.Context, db *bun.DB, councilID int64, token, password string) (int64, error) {
	return setPasswordWithLink(ctx, db, councilID, KindReset, token, password)
}

// checkResetLink is CheckLink for a reset link.
func checkResetLink(ctx context.Context, db bun.IDB, l *Link) error {
	if l.CouncilID == nil || l.AccountID == nil || l.CreatedBy != nil {
		return ErrLinkInvalid
	}
	role, err := ActiveRole(ctx, db, *l.CouncilID, *l.AccountID)
	if err != nil {
		return err
	}
	if role == authz.None {
		return ErrLinkInvalid
	}
	return nil
}

// resetAudit is how a reset link's use is written in the audit trail.
var resetAudit = struct{ action, summary string }{"account.password_reset", " a choisi un nouveau mot de passe (lien reçu par e-mail)"}
