package webhook

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cla/internal/outbound"
	"cla/internal/text"
)

// AnswerLimit is how much of an endpoint's answer a Delivery keeps: enough to
// read an error message in the delivery log, which keeps every attempt of
// several days of retries.
const AnswerLimit = 4 << 10

// locationLimit bounds the redirect target quoted in the log.
const locationLimit = 300

// Delivery is the record of one attempt, for the endpoint's delivery log.
type Delivery struct {
	// At is when the attempt started; its Unix seconds are the
	// webhook-timestamp sent.
	At time.Time
	// StatusCode is the answer's HTTP status, 0 when there was no answer.
	StatusCode int
	// Answer is the start of the answer's body (AnswerLimit bytes at most), as
	// normalised text that can be stored and shown.
	Answer string
	// Duration is the time from sending to the end of the answer.
	Duration time.Duration
	// Location is where a redirect pointed (it was not followed).
	Location string
	// RetryAfter is the delay the endpoint asked for (Retry-After), if any.
	RetryAfter time.Duration
	// Error is empty on success, else a French sentence for the log.
	Error string
	// Err is the underlying error, for the operator's logs; nil on success and
	// on an answer with a failing status.
	Err error
}

// OK reports whether the endpoint accepted the message (a 2xx answer).
func (d *Delivery) OK() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// Gone reports whether the endpoint answered 410 Gone: it asks not to be
// called again, so the caller disables it rather than retry.
func (d *Delivery) Gone() bool { return d.StatusCode == http.StatusGone }

// Deliver makes one attempt to send payload (JSON) to endpointURL, signed
// with every secret in secrets (the current one, and the previous one during
// its grace period), with msgID as webhook-id and the current time as
// webhook-timestamp. The call goes through client, which enforces the
// outgoing-call policy (https, no redirect, no private address).
func Deliver(ctx context.Context, client *outbound.Client, endpointURL, msgID string, payload []byte, secrets []string) Delivery {
	d := Delivery{At: time.Now()}
	h, err := Headers(msgID, d.At, payload, secrets...)
	if err != nil {
		d.Err = err
		d.Error = "Message non signé : le secret de l'intégration n'est pas valide (régénérez-le)."
		return d
	}
	h.Set("Content-Type", "application/json")
	resp, err := client.Send(ctx, outbound.Request{
		Method: http.MethodPost, URL: endpointURL, Header: h, Body: payload, MaxBody: AnswerLimit,
	})
	d.Duration = time.Since(d.At)
	if resp != nil {
		d.StatusCode = resp.StatusCode
		body := resp.Body
		if resp.Truncated {
			body = cutPartialRune(body)
		}
		d.Answer = text.Normalize(string(body))
		d.Location = text.Normalize(truncate(resp.Location, locationLimit))
		d.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		d.Duration = resp.Duration
	}
	switch {
	case err != nil:
		d.Err = err
		d.Error = outbound.Describe(err)
	case d.OK():
	case resp.Redirect():
		d.Error = fmt.Sprintf("Le serveur a répondu %d, une redirection vers « %s » : elle n'est pas suivie, enregistrez directement la nouvelle adresse.", d.StatusCode, d.Location)
	case d.Gone():
		d.Error = "Le serveur a répondu 410 : il ne veut plus recevoir ces messages."
	default:
		d.Error = fmt.Sprintf("Le serveur a répondu %d.", d.StatusCode)
	}
	return d
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// cutPartialRune drops an incomplete UTF-8 sequence at the end of b, left by
// cutting the answer short.
func cutPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// maxRetryAfter bounds what an endpoint may ask for: past it, the caller's
// own schedule applies.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header: seconds or an HTTP date. It returns
// 0 when absent, unreadable or in the past.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}
