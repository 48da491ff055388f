package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Form values are read through these helpers only (a gate in app/ fails on
// c.FormValue elsewhere): Fiber reuses a request's memory once its handler
// returns (Immutable is off), and a form value kept beyond it — in a batch,
// a cache, an error message, a goroutine — would silently change. They copy.

// Form is the form field name as sent, copied; "" when absent. It is not
// trimmed: validation trims what it should (a password keeps its spaces).
func Form(c *fiber.Ctx, name string) string {
	return strings.Clone(c.FormValue(name))
}

// FormIs reports whether the form field name is exactly value (a checkbox,
// a radio button, a submit button's name).
func FormIs(c *fiber.Ctx, name, value string) bool {
	return c.FormValue(name) == value
}

// FormInt is the form field name as a whole number, spaces around it
// ignored; 0 and false when it is empty or not a number within int.
func FormInt(c *fiber.Ctx, name string) (n int, ok bool) {
	n, err := strconv.Atoi(strings.TrimSpace(c.FormValue(name)))
	if err != nil {
		return 0, false
	}
	return n, true
}

// FormInt64 is FormInt for ids and other 64-bit numbers.
func FormInt64(c *fiber.Ctx, name string) (n int64, ok bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(c.FormValue(name)), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// ParseLocalTime reads a datetime-local form value ("2025-03-05T18:30"),
// spaces around it ignored, in loc: the council's time zone (Location).
// Forms read the field with Form first: an empty field is missing, an
// unreadable one is an error.
func ParseLocalTime(s string, loc *time.Location) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(s), loc)
	return t, err == nil
}
