package auth

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// Mailer sends a plain-text message; internal/mail's Text is the one the app
// wires in. Mail is optional: without a Mailer the links are only shown on
// screen, to be passed on by the facilitator.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// SendMail sends a message with the configured Mailer. It reports whether a
// mail was sent; a failure is logged and reported as not sent, since the link
// is shown on screen anyway.
func SendMail(c *fiber.Ctx, to, subject, body string) bool {
	m := managerOf(c)
	if m.mailer == nil {
		return false
	}
	if err := m.mailer.Send(c.UserContext(), to, subject, body); err != nil {
		m.log.Warn("sending mail failed", "err", err)
		return false
	}
	return true
}

// MailConfigured reports whether mail is on.
func MailConfigured(c *fiber.Ctx) bool { return managerOf(c).mailer != nil }
