package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/batch"
	"cla/internal/web"
)

// Cookie names and the form field / header that carry the CSRF token.
const (
	SessionCookie = "cla_session"
	CSRFCookie    = "cla_csrf"
	CSRFField     = "_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// Default timeouts of a session.
const (
	DefaultIdleTimeout     = 72 * time.Hour
	DefaultAbsoluteTimeout = 30 * 24 * time.Hour
)

// Options configure the session manager.
type Options struct {
	DB              *bun.DB
	Logger          *slog.Logger
	BaseURL         string        // public base URL; https turns on Secure cookies
	IdleTimeout     time.Duration // 0 means DefaultIdleTimeout
	AbsoluteTimeout time.Duration // 0 means DefaultAbsoluteTimeout
	Mailer          Mailer        // nil: no mail, links are shown on screen only
}

// Manager runs sessions and CSRF protection. All its state is in PostgreSQL:
// any instance can serve any request.
type Manager struct {
	db       *bun.DB
	log      *slog.Logger
	baseURL  string
	secure   bool
	idle     time.Duration
	absolute time.Duration
	mailer   Mailer
	// sessions batches the session lookups of concurrent requests: one
	// statement for all the requests that arrive while the previous one runs.
	sessions *batch.Group[sessionLookup, *Session]
}

// New returns a Manager.
func New(opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.AbsoluteTimeout == 0 {
		opts.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	m := &Manager{db: opts.DB, log: opts.Logger, baseURL: strings.TrimSuffix(opts.BaseURL, "/"),
		secure: strings.HasPrefix(opts.BaseURL, "https://"), idle: opts.IdleTimeout, absolute: opts.AbsoluteTimeout,
		mailer: opts.Mailer}
	m.sessions = &batch.Group[sessionLookup, *Session]{Run: func(ctx context.Context, keys []sessionLookup) []batch.Result[*Session] {
		return loadSessions(ctx, m.db, keys, m.idle)
	}}
	return m
}

type localKey int

const (
	managerKey localKey = iota
	sessionKey
)

func managerOf(c *fiber.Ctx) *Manager {
	m, _ := c.Locals(managerKey).(*Manager)
	if m == nil {
		panic("auth: the session middleware is not installed")
	}
	return m
}

func safeMethod(method string) bool {
	return method == fiber.MethodGet || method == fiber.MethodHead || method == fiber.MethodOptions
}

// errCSRF is what a state-changing request without a valid token gets.
var errCSRF = apperr.New(apperr.Forbidden,
	"Le formulaire a expiré ou ne vient pas de ce site. Revenez à la page précédente, rechargez-la et réessayez.")

// Middleware loads the session (web.SetViewer, with the role in the request's
// council), sets the CSRF token forms must carry (web.SetCSRFToken) and refuses
// with 403 every non-GET/HEAD/OPTIONS request whose token does not match.
//
// A signed-in browser's token is bound to its session. An anonymous browser's
// token is a random value kept in the cla_csrf cookie (double submit): the
// cookie is set on a response that contains the token, that is a page with a
// form. No check depends on the Origin or Host header, so it works behind a TLS
// proxy.
func (m *Manager) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(managerKey, m)
		ctx := c.UserContext()
		var sess *Session
		if raw := c.Cookies(SessionCookie); raw != "" {
			if wellFormed(raw) {
				var err error
				if sess, err = m.sessions.Do(ctx, sessionLookup{idHash: HashToken(raw), councilID: web.Council(c).ID}); err != nil {
					return err
				}
			}
			if sess == nil {
				m.clearCookie(c, SessionCookie)
			}
		}
		var token, anonCookie string
		if sess != nil {
			c.Locals(sessionKey, sess)
			web.SetViewer(c, &web.Viewer{AccountID: sess.AccountID, Name: sess.Name, Role: string(sess.Role)})
			token = sess.CSRFToken
		} else if anonCookie = c.Cookies(CSRFCookie); wellFormed(anonCookie) {
			token = strings.Clone(anonCookie)
		} else {
			anonCookie, token = "", NewToken()
		}
		web.SetCSRFToken(c, token)
		if !safeMethod(c.Method()) {
			sent := c.Get(CSRFHeader)
			if sent == "" {
				sent = web.Form(c, CSRFField)
			}
			// An anonymous browser without its cookie has no token to match.
			if sent == "" || (sess == nil && anonCookie == "") || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				return errCSRF
			}
		}
		err := c.Next()
		if sess == nil && anonCookie == "" && c.Locals(sessionKey) == nil && bytes.Contains(c.Response().Body(), []byte(token)) {
			c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: token, Path: "/", HTTPOnly: true, Secure: m.secure, SameSite: fiber.CookieSameSiteLaxMode})
		}
		return err
	}
}

func (m *Manager) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		HTTPOnly: true, Secure: m.secure, SameSite: fiber.CookieSameSiteLaxMode})
}

// SignIn starts a new session for accountID: a fresh id (never one the browser
// brought), the previous session of this browser ended, and the cookie set.
func SignIn(c *fiber.Ctx, accountID int64) error {
	m := managerOf(c)
	ctx := c.UserContext()
	if old := c.Cookies(SessionCookie); wellFormed(old) {
		if err := deleteSession(ctx, m.db, HashToken(old)); err != nil {
			return err
		}
	}
	// Expired sessions are swept now and then, at sign-in: no background job.
	if rand.IntN(20) == 0 {
		if _, err := DeleteExpiredSessions(ctx, m.db, m.idle); err != nil {
			m.log.Warn("sweeping expired sessions failed", "err", err)
		}
	}
	id, csrf, err := createSession(ctx, m.db, accountID, m.absolute, web.ClientIP(c), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: time.Now().Add(m.absolute),
		HTTPOnly: true, Secure: m.secure, SameSite: fiber.CookieSameSiteLaxMode})
	// Pages rendered by this same response use the new session's token.
	web.SetCSRFToken(c, csrf)
	c.Locals(sessionKey, &Session{AccountID: accountID, CSRFToken: csrf})
	return nil
}

// SignOut ends this browser's session and clears its cookie.
func SignOut(c *fiber.Ctx) error {
	m := managerOf(c)
	if raw := c.Cookies(SessionCookie); wellFormed(raw) {
		if err := deleteSession(c.UserContext(), m.db, HashToken(raw)); err != nil {
			return err
		}
	}
	m.clearCookie(c, SessionCookie)
	web.SetViewer(c, nil)
	return nil
}

// PublicURL returns the absolute URL of path: the configured base URL, or the
// request's scheme and host when none is configured.
func PublicURL(c *fiber.Ctx, path string) string {
	if m := managerOf(c); m.baseURL != "" {
		return m.baseURL + path
	}
	return c.BaseURL() + path
}

// Role returns the viewer's role in the request's council (None when anonymous
// or not a member).
func Role(c *fiber.Ctx) authz.Role {
	if v := web.ViewerOf(c); v != nil {
		return authz.Role(v.Role)
	}
	return authz.None
}

// Authorize returns nil when the viewer may do action in the request's council,
// an Unauthorized error for an anonymous visitor and a Forbidden one otherwise.
// Every handler that acts for someone calls it (or Require) first.
func Authorize(c *fiber.Ctx, action authz.Action) error {
	v := web.ViewerOf(c)
	if v == nil {
		return apperr.New(apperr.Unauthorized, "Connectez-vous pour continuer.")
	}
	if !authz.Can(authz.Role(v.Role), action) {
		return apperr.New(apperr.Forbidden, "Votre rôle dans ce conseil ne permet pas cette action.")
	}
	return nil
}

// ActorOf turns the request's viewer into the actor the domains and the audit
// trail name (the zero Actor when anonymous).
func ActorOf(v *web.Viewer) audit.Actor {
	if v == nil {
		return audit.Actor{}
	}
	return audit.Actor{AccountID: v.AccountID, Name: v.Name, Role: authz.Role(v.Role)}
}

// Can reports whether the signed-in viewer may do action in the request's
// council (false for an anonymous visitor), for pages that show or hide a
// control; the handler of the action still calls Authorize or Require.
func Can(c *fiber.Ctx, action authz.Action) bool {
	v := web.ViewerOf(c)
	return v != nil && authz.Can(authz.Role(v.Role), action)
}

// Require is route middleware around Authorize; an anonymous visitor asking for
// a page (GET) is sent to the sign-in form, which brings them back afterwards.
func Require(action authz.Action) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := Authorize(c, action); err != nil {
			if web.ViewerOf(c) == nil && c.Method() == fiber.MethodGet && !strings.HasPrefix(c.Path(), "/api/") {
				return c.Redirect("/connexion?suite="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
			}
			return err
		}
		return c.Next()
	}
}

// maxNextLen bounds the address a sign-in brings the browser back to.
const maxNextLen = 2048

// SafeNext returns next when it is a path of this site, "/" otherwise: no
// open redirect after sign-in. next must be an absolute path ("/…") with no
// scheme, host or user, no backslash, no control or format character and no
// white space but the plain space (browsers drop tabs and newlines from a
// Location, so that "/\t/x" becomes "//x"), no "//" and no "." or ".."
// segment — and so must every decoding of it (percent-decoded up to three
// times), since a browser or a proxy may decode it again. What the sign-in
// redirects to is then a page of this site, whatever parses it.
func SafeNext(next string) string {
	if len(next) > maxNextLen {
		return "/"
	}
	for i, s := 0, next; i < 4; i++ {
		if !safeLocalPath(s) {
			return "/"
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			break // nothing more to decode (a broken escape stays as it is)
		}
		s = d
		if i == 3 {
			return "/" // still encoded after three decodings: refuse
		}
	}
	return next
}

// safeLocalPath checks one form of a sign-in's next address (see SafeNext).
func safeLocalPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || !utf8.ValidString(s) || strings.Contains(s, "\\") {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ') || r == utf8.RuneError {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	path, _, _ := strings.Cut(s, "?")
	path, _, _ = strings.Cut(path, "#")
	if strings.Contains(path, "//") {
		return false
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// RequireSignedIn is route middleware for pages about one's own account: an
// anonymous visitor is sent to the sign-in form (GET) or refused (401).
func RequireSignedIn() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if web.ViewerOf(c) != nil {
			return c.Next()
		}
		if c.Method() == fiber.MethodGet {
			return c.Redirect("/connexion?suite="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		return apperr.New(apperr.Unauthorized, "Connectez-vous pour continuer.")
	}
}

// FinishSignIn ends a sign-in form once the credentials were checked (acct,
// err from Authenticate): bad credentials or too many tries re-show the form
// through rerender with the reason (422, or 429 with Retry-After); success
// opens the session and redirects to next (a local path, see SafeNext).
func FinishSignIn(c *fiber.Ctx, acct *Account, err error, next string, rerender func(reason string) error) error {
	if code := apperr.CodeOf(err); err == ErrBadCredentials || code == apperr.TooMany {
		c.Status(fiber.StatusUnprocessableEntity)
		if code == apperr.TooMany {
			web.TooMany(c, err)
		}
		return rerender(apperr.MessageOf(err))
	}
	if err != nil {
		return err
	}
	if err := SignIn(c, acct.ID); err != nil {
		return err
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}
