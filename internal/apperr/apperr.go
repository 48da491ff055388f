// Package apperr defines the application's error codes. Domain code returns these;
// the web layer maps them to HTTP statuses in one place (internal/web).
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for the user: it decides the HTTP status and page.
type Code string

// The codes the application uses.
const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	TooMany      Code = "too_many"
	Unavailable  Code = "unavailable" // the service (a suspended council, an instance without council) is not available
	Internal     Code = "internal"
)

// Error is an error with a code and a French message safe to show to the user.
type Error struct {
	Code    Code
	Message string
	// RetryAfter, for a TooMany error, is how long until a new attempt can
	// pass (sent as the Retry-After header); 0 when unknown.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// New returns an error with a code and a user-facing French message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// TooManyFor returns a TooMany error that says when to retry: its message
// (French) and wait, which the web layer sends as Retry-After.
func TooManyFor(wait time.Duration, format string, args ...any) *Error {
	e := New(TooMany, format, args...)
	e.RetryAfter = wait
	return e
}

// RetryAfterOf returns the wait of a TooMany error made by TooManyFor, 0 otherwise.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// CodeOf returns the code of err, Internal for an error without one.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the user-facing message of err. Internal errors never expose
// their text.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "Une erreur interne est survenue. Réessayez dans un instant ; si elle persiste, prévenez l'équipe."
}

// Fields collects validation messages keyed by form field name. A nil or empty
// Fields means the input is valid.
type Fields map[string]string

// Add records msg for field unless the field already has a message.
func (f Fields) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns the fields as an Invalid error, or nil when there is none.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

// ValidationError carries per-field messages; its code is Invalid.
type ValidationError struct {
	Fields Fields
}

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid: %d field(s)", len(e.Fields)) }

// Unwrap lets errors.As find an *Error with code Invalid.
func (e *ValidationError) Unwrap() error {
	return &Error{Code: Invalid, Message: "Le formulaire contient des erreurs."}
}

// FieldsOf returns the per-field messages of err, if it is a validation error.
func FieldsOf(err error) Fields {
	var v *ValidationError
	if errors.As(err, &v) {
		return v.Fields
	}
	return nil
}
