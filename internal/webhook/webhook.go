// Package webhook signs and sends webhooks as the Standard Webhooks
// specification (https://www.standardwebhooks.com/, version 1) says, so that a
// receiver can check them with any of that specification's libraries:
//
//   - a secret is "whsec_" followed by the base64 of 24 to 64 random bytes (we
//     make 32);
//   - each call carries the headers webhook-id (the message's identifier, the
//     same on every retry, which receivers use to ignore duplicates),
//     webhook-timestamp (Unix seconds of this attempt) and webhook-signature:
//     "v1," followed by the base64 of HMAC-SHA256(secret, id + "." + timestamp
//   - "." + body), one such signature per secret, separated by spaces, so
//     that during a secret rotation the old and the new secret both verify;
//   - a delivery succeeds on a 2xx answer only; a 3xx is a failure (never
//     followed), 410 Gone asks the sender to stop.
//
// Retrying, and choosing which secrets are still within their grace period,
// are the caller's business (the job that delivers); this package signs,
// verifies and makes one attempt.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The header names of the specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret, so that a secret is recognised as one.
const SecretPrefix = "whsec_"

// Tolerance is how far a webhook-timestamp may be from the receiver's clock,
// either way: an older message is a replay.
const Tolerance = 5 * time.Minute

// Secret sizes in bytes: the specification asks for 24 to 64; we make 32.
const (
	minSecretBytes = 24
	maxSecretBytes = 64
	newSecretBytes = 32
)

// Errors of ParseSecret, Sign and Verify.
var (
	ErrSecret       = errors.New("webhook: the secret is not whsec_ followed by the base64 of 24 to 64 bytes")
	ErrMessageID    = errors.New("webhook: the message id must be 1 to 200 printable ASCII characters without '.' or space")
	ErrMissing      = errors.New("webhook: a webhook-id, webhook-timestamp or webhook-signature header is missing")
	ErrTimestamp    = errors.New("webhook: webhook-timestamp is not an integer or is more than 5 minutes from now")
	ErrNoSignature  = errors.New("webhook: no v1 signature matches")
	errNoSecretsArg = errors.New("webhook: at least one secret is needed to sign")
)

// NewSecret returns a new random secret, "whsec_" + base64 of 32 bytes: it is
// shown once to the facilitator who registers the endpoint.
func NewSecret() string {
	b := make([]byte, newSecretBytes)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret returns the key bytes of a secret. The "whsec_" prefix is
// optional, as in the specification's libraries.
func ParseSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, ErrSecret
	}
	return key, nil
}

// NewMessageID returns a new message identifier, "msg_" and 26 random
// characters. The same identifier is sent on every retry of one event.
func NewMessageID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// validID: the specification asks that id and timestamp contain no '.', which
// would let one signed content be read as another; header values also need
// printable ASCII.
func validID(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '.' {
			return false
		}
	}
	return true
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the webhook-signature header value for a message: one "v1,"
// signature per secret, in the order given, separated by spaces.
func Sign(msgID string, at time.Time, body []byte, secrets ...string) (string, error) {
	if !validID(msgID) {
		return "", ErrMessageID
	}
	if len(secrets) == 0 {
		return "", errNoSecretsArg
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return "", err
		}
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts, body))
	}
	return strings.Join(sigs, " "), nil
}

// Headers returns the three headers of a message sent at the given time.
func Headers(msgID string, at time.Time, body []byte, secrets ...string) (http.Header, error) {
	sig, err := Sign(msgID, at, body, secrets...)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}

// Verify checks a received message as a receiver does: the three headers are
// present, the timestamp is within Tolerance of now, and one of the v1
// signatures is the HMAC of secret over id.timestamp.body (compared in
// constant time). Signatures of other versions are skipped. It serves our
// tests' receivers and documents the algorithm for the receivers' authors.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissing
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	want := mac(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoSignature
}
