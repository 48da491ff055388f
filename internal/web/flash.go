package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// Flash messages: the confirmation shown once by the page a form redirects to
// ("Rôle de Jeanne : Animateur·ice."). It travels in the cla_flash cookie,
// signed with HMAC-SHA256 under a key that every instance shares (the
// instance_secrets table), never in the URL: a link cannot make a page show a
// confirmation the council did not give. Reading a flash writes no table: the
// page that shows it clears the cookie.
const (
	// FlashCookie is the cookie that carries the flash to the next page.
	FlashCookie = "cla_flash"
	// flashMaxAge bounds how long a flash waits for the page that shows it.
	flashMaxAge = 2 * time.Minute
	// maxFlashLen bounds a message (bytes), well within a cookie's size.
	maxFlashLen = 600
	// flashSecretName names the key in instance_secrets.
	flashSecretName = "flash-hmac-sha256"
)

// flashState is what the flash helpers need, set once per app.
type flashState struct {
	key    []byte
	secure bool
	// last is the last cookie value signed. A value depends only on the
	// council, the message and the second it expires, so the confirmations
	// of one form sent by many members within a second (ballots, by the
	// thousand during a vote) share one signature.
	last atomic.Pointer[flashValue]
}

// flashValue is a signed flash cookie's value and what it was made from.
type flashValue struct {
	councilID, expires int64
	message, value     string
}

// flashSetKey marks a request whose response already carries a new flash.
type flashSetKey struct{}

// InstanceSecret returns the secret named name that every instance shares,
// creating it (32 random bytes) the first time: several instances starting
// together agree on the first one inserted.
func InstanceSecret(ctx context.Context, db bun.IDB, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := db.NewRaw("INSERT INTO instance_secrets (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, fresh).Exec(ctx); err != nil {
		return nil, err
	}
	var secret []byte
	err := db.NewRaw("SELECT secret FROM instance_secrets WHERE name = ?", name).Scan(ctx, &secret)
	return secret, err
}

// flashMAC signs a flash's payload for one council: a flash made on one
// council's host means nothing on another's.
func flashMAC(key []byte, councilID int64, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cla-flash\x00" + strconv.FormatInt(councilID, 10) + "\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

func councilIDOf(c *fiber.Ctx) int64 {
	if co := Council(c); co != nil {
		return co.ID
	}
	return 0
}

// SetFlash makes message the one-time confirmation of the next page this
// browser loads (within two minutes).
func SetFlash(c *fiber.Ctx, message string) {
	st, _ := c.Locals(flashKey).(*flashState)
	if st == nil || message == "" {
		return
	}
	if len(message) > maxFlashLen {
		message = message[:maxFlashLen]
		for !utf8.ValidString(message) {
			message = message[:len(message)-1]
		}
	}
	councilID, expires := councilIDOf(c), time.Now().Add(flashMaxAge).Unix()
	var value string
	if last := st.last.Load(); last != nil && last.councilID == councilID && last.expires == expires && last.message == message {
		value = last.value
	} else {
		payload := []byte(strconv.FormatInt(expires, 10) + "|" + message)
		value = base64.RawURLEncoding.EncodeToString(payload) + "." +
			base64.RawURLEncoding.EncodeToString(flashMAC(st.key, councilID, payload))
		// The message may live in the request's memory, which Fiber reuses.
		st.last.Store(&flashValue{councilID: councilID, expires: expires, message: strings.Clone(message), value: value})
	}
	c.Cookie(&fiber.Cookie{Name: FlashCookie, Value: value, Path: "/", MaxAge: int(flashMaxAge / time.Second),
		HTTPOnly: true, Secure: st.secure, SameSite: fiber.CookieSameSiteLaxMode})
	c.Locals(flashSetKey{}, true)
}

// RedirectWithFlash answers with a 303 redirect to path (a local path, which
// may end with a #fragment) and message as the next page's one-time
// confirmation. Every confirmation after a form goes through it.
func RedirectWithFlash(c *fiber.Ctx, path, message string) error {
	SetFlash(c, message)
	return c.Redirect(path, fiber.StatusSeeOther)
}

// HasFlash reports whether the request carries a flash cookie: such a page is
// not served from, nor stored in, a shared cache.
func HasFlash(c *fiber.Ctx) bool { return len(c.Request().Header.Cookie(FlashCookie)) > 0 }

// takeFlash returns the request's flash message when its signature and date
// hold ("" otherwise), and clears the cookie in the response unless this
// response sets a new flash.
func takeFlash(c *fiber.Ctx) string {
	raw := c.Cookies(FlashCookie)
	if raw == "" {
		return ""
	}
	st, _ := c.Locals(flashKey).(*flashState)
	if st == nil {
		return ""
	}
	if set, _ := c.Locals(flashSetKey{}).(bool); !set {
		c.Cookie(&fiber.Cookie{Name: FlashCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
			HTTPOnly: true, Secure: st.secure, SameSite: fiber.CookieSameSiteLaxMode})
	}
	enc, sig, ok := strings.Cut(raw, ".")
	if !ok {
		return ""
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(enc)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, flashMAC(st.key, councilIDOf(c), payload)) {
		return ""
	}
	exp, message, ok := strings.Cut(string(payload), "|")
	if !ok {
		return ""
	}
	if t, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Now().Unix() > t {
		return ""
	}
	return message
}
