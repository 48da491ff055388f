// Package mail builds and sends the platform's mail: plain text plus HTML,
// attachments (a meeting's .ics), a Message-ID per recipient and event,
// RFC 8058 one-click unsubscribe, and errors that say whether retrying can
// help.
//
// A domain builds a Message and either sends it from a job's worker (reading
// fresh data when the job runs), or hands it to Enqueue inside the
// transaction of the change, to be sent by the mail.send job:
//
//	msg := &mail.Message{
//		From:        mail.Address{Name: council.Name}, // the address comes from --smtp-from
//		To:          mail.Address{Name: member.Name, Email: member.Email},
//		Subject:     "Convocation : séance du 12 juin",
//		Text:        text,
//		HTML:        html,
//		MessageID:   mail.MessageID(fmt.Sprintf("convocation-%d-v%d", meeting.ID, meeting.Version), member.Email, host),
//		Unsubscribe: baseURL + "/desabonnement/" + token, // https, answers POST (RFC 8058)
//		Attachments: []mail.Attachment{{Filename: "seance.ics", ContentType: mail.CalendarRequest, Data: ics}},
//	}
//	_, err := mail.Enqueue(ctx, tx, msg)
//
// Text that comes from users (names, subjects) cannot inject headers: line
// breaks and control characters in them are folded to spaces. Addresses,
// URLs and Message-IDs are checked and refused when malformed. An SMTP
// server's refusal of a recipient or a message (5xx) is a permanent Error;
// everything else (connection refused, 4xx, TLS, authentication) is
// temporary, and the job layer (internal/jobs) retries it with backoff.
package mail

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
)

// Address is a mailbox: a display name (free text) and an email address.
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Attachment is a file attached to a message.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"` // with parameters, e.g. CalendarRequest
	Data        []byte `json:"data"`
}

// Content types of iCalendar attachments (RFC 5546): an invitation or an
// update, and a cancellation.
const (
	CalendarRequest = "text/calendar; charset=utf-8; method=REQUEST"
	CalendarCancel  = "text/calendar; charset=utf-8; method=CANCEL"
)

// Message is one mail to one recipient. It is plain data (JSON in a job's
// args); Send or Bytes check it.
type Message struct {
	// From: Name is the council's name; an empty Email is the sender's
	// configured address (--smtp-from).
	From    Address  `json:"from"`
	To      Address  `json:"to"`
	ReplyTo *Address `json:"reply_to,omitempty"`
	Subject string   `json:"subject"`
	// Text is required; HTML, when set, is the alternative for clients that
	// show it. Both say the same thing.
	Text        string       `json:"text"`
	HTML        string       `json:"html,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// MessageID is "<…@host>", made by MessageID so that the same event to
	// the same person always carries the same id; empty: a random one.
	MessageID string `json:"message_id,omitempty"`
	// Unsubscribe is the https URL that unsubscribes the recipient from
	// this kind of mail with one POST (RFC 8058); UnsubscribeMailto an
	// optional mailto: alternative. Empty for mail one cannot leave
	// (password links, convocations of a seated member).
	Unsubscribe       string `json:"unsubscribe,omitempty"`
	UnsubscribeMailto string `json:"unsubscribe_mailto,omitempty"`
	// Date defaults to the time of sending.
	Date time.Time `json:"date,omitzero"`
}

// Error is a failure to build or send a message. Permanent reports whether
// retrying cannot help (internal/jobs then gives up on the job at once).
type Error struct {
	// Code is the SMTP reply code when the server answered (550, 451…).
	Code int
	// Msg says what failed, with the server's answer when there is one.
	Msg       string
	permanent bool
	err       error
}

// Error says what failed, prefixed with "mail: ".
func (e *Error) Error() string { return "mail: " + e.Msg }

// Permanent reports whether retrying the same message cannot succeed: the
// server refused the recipient or the message (5xx), or the message itself
// is malformed.
func (e *Error) Permanent() bool { return e.permanent }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.err }

// IsPermanent reports whether err is, or wraps, a permanent Error.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.permanent
}

func invalid(format string, args ...any) *Error {
	return &Error{Msg: "invalid message: " + fmt.Sprintf(format, args...), permanent: true}
}

// MessageID returns a Message-ID that is the same for the same event and
// recipient: "<event.hash@host>", where event names what the mail is about
// (e.g. "convocation-12-v2"), hash is a digest of the recipient's address
// (which the id does not reveal) and host is the sender's domain. A mail
// client shows two mails with one id as one, so a mail sent twice after a
// crash is seen once.
func MessageID(event, recipient, host string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(recipient))))
	return "<" + idPart(event) + "." + hex.EncodeToString(sum[:8]) + "@" + idPart(host) + ">"
}

// idPart keeps the characters a Message-ID may hold unquoted (RFC 5322
// dot-atom text, minus a few to stay readable) and replaces the others.
func idPart(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(".-_+=", r):
			return r
		}
		return '-'
	}, s)
}

// messageIDRE is RFC 5322's msg-id with dot-atom text on both sides.
var messageIDRE = regexp.MustCompile(`^<[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+>$`)

// headerText folds line breaks and other control characters of free text
// bound for a header (a name, a subject) into single spaces: a name cannot
// start a new header line.
func headerText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// checkAddress returns a's email if it is a plain, valid address.
func checkAddress(field string, a Address) (*netmail.Address, error) {
	parsed, err := netmail.ParseAddress(a.Email)
	if err != nil || parsed.Address != a.Email || strings.ContainsAny(a.Email, "\r\n<>\" ") {
		return nil, invalid("%s address %q", field, a.Email)
	}
	return &netmail.Address{Name: headerText(a.Name), Address: a.Email}, nil
}

// checkURI refuses a URI that could break out of its header's angle
// brackets or is not of the expected scheme.
func checkURI(field, s, scheme string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != scheme || strings.ContainsAny(s, "<>, \t\r\n\"") || (scheme == "https" && u.Host == "") {
		return invalid("%s %q: want a %s URI", field, s, scheme)
	}
	return nil
}

// build checks m and turns it into go-mail's message. from is used when
// m.From has no address.
func (m *Message) build(from string) (*gomail.Msg, error) {
	sender := m.From
	if sender.Email == "" {
		sender.Email = from
	}
	fromAddr, err := checkAddress("From", sender)
	if err != nil {
		return nil, err
	}
	toAddr, err := checkAddress("To", m.To)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, invalid("no text body")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.SetAddrHeaderFromMailAddress(gomail.HeaderFrom, fromAddr)
	msg.SetAddrHeaderFromMailAddress(gomail.HeaderTo, toAddr)
	if m.ReplyTo != nil {
		replyTo, err := checkAddress("Reply-To", *m.ReplyTo)
		if err != nil {
			return nil, err
		}
		msg.SetAddrHeaderFromMailAddress(gomail.HeaderReplyTo, replyTo)
	}
	msg.Subject(headerText(m.Subject))
	id := m.MessageID
	if id == "" {
		id = MessageID("m-"+rand.Text(), fromAddr.Address, domainOf(fromAddr.Address))
	}
	if !messageIDRE.MatchString(id) {
		return nil, invalid("Message-ID %q", id)
	}
	msg.SetMessageIDWithValue(strings.Trim(id, "<>"))
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	if m.Unsubscribe != "" {
		if err := checkURI("unsubscribe URL", m.Unsubscribe, "https"); err != nil {
			return nil, err
		}
		var more []string
		if m.UnsubscribeMailto != "" {
			if err := checkURI("unsubscribe address", m.UnsubscribeMailto, "mailto"); err != nil {
				return nil, err
			}
			more = append(more, m.UnsubscribeMailto)
		}
		if err := msg.SetListUnsubscribeOneClick(m.Unsubscribe, more...); err != nil {
			return nil, invalid("unsubscribe URL %q", m.Unsubscribe)
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		name := headerText(a.Filename)
		if name == "" || strings.ContainsAny(name, `/\"`) {
			return nil, invalid("attachment name %q", a.Filename)
		}
		if _, _, err := mime.ParseMediaType(a.ContentType); err != nil || strings.ContainsAny(a.ContentType, "\r\n") {
			return nil, invalid("attachment type %q", a.ContentType)
		}
		if err := msg.AttachReader(name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return nil, invalid("attachment %q: %v", name, err)
		}
	}
	return msg, nil
}

// Bytes returns the message as it goes on the wire (RFC 5322, CRLF line
// ends), From's address defaulting to from: for tests and for keeping a copy.
func (m *Message) Bytes(from string) ([]byte, error) {
	msg, err := m.build(from)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, &Error{Msg: err.Error(), err: err}
	}
	return buf.Bytes(), nil
}

// domainOf returns the part of an address after its last @.
func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
