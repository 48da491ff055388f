package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Sender sends one message. SMTP is the real one; tests use it too, against
// the server of mail/mailtest.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// TLSMode is how the connection to the SMTP server is protected.
type TLSMode string

// The TLS modes. Auto picks by port: implicit TLS on 465, STARTTLS required on
// 587, STARTTLS when the server offers it elsewhere (a local relay on 25).
const (
	TLSAuto     TLSMode = ""
	TLSStartTLS TLSMode = "starttls" // STARTTLS required
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (SMTPS, 465)
	TLSNone     TLSMode = "none"     // plain text: a relay on the same machine only
)

// ParseTLSMode reads the --smtp-tls flag.
func ParseTLSMode(s string) (TLSMode, error) {
	switch m := TLSMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "auto":
		return TLSAuto, nil
	case TLSAuto, TLSStartTLS, TLSImplicit, TLSNone:
		return m, nil
	}
	return "", fmt.Errorf("mode TLS %q inconnu : auto, starttls, tls ou none", s)
}

// SMTPConfig is the SMTP server to send through (cmd/cla's --smtp-* flags).
type SMTPConfig struct {
	Addr     string // host:port
	From     string // sender address: envelope and From header
	Username string // empty: no authentication
	Password string
	TLS      TLSMode
	// TLSConfig overrides the TLS settings (tests trust their own CA with
	// it); nil verifies the server's certificate for its host name.
	TLSConfig *tls.Config
	// Timeout bounds each step of a session (default 30 s).
	Timeout time.Duration
}

// SMTP sends mail through one SMTP server, a connection per message.
type SMTP struct {
	cfg  SMTPConfig
	host string
	port int
}

// NewSMTP checks cfg and returns a sender. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host, p, err := net.SplitHostPort(cfg.Addr)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil || host == "" || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("mail: server address %q: want host:port", cfg.Addr)
	}
	if _, err := checkAddress("From", Address{Email: cfg.From}); err != nil {
		return nil, fmt.Errorf("mail: sender address %q invalid", cfg.From)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.TLS == TLSAuto {
		switch port {
		case 465:
			cfg.TLS = TLSImplicit
		case 587:
			cfg.TLS = TLSStartTLS
		}
	}
	return &SMTP{cfg: cfg, host: host, port: port}, nil
}

// From returns the configured sender address.
func (s *SMTP) From() string { return s.cfg.From }

func (s *SMTP) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.cfg.Timeout)}
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, gomail.WithTLSConfig(tlsConfig))
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		// The strongest mechanism the server offers; never a clear-text
		// password over an unencrypted connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(s.host, opts...)
}

// Send delivers m over one SMTP session. A failure is an *Error, permanent
// when the server refused the recipient or the message.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	msg, err := m.build(s.cfg.From)
	if err != nil {
		return err
	}
	client, err := s.client()
	if err != nil {
		return &Error{Msg: err.Error(), err: err}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// classify turns go-mail's error into an Error. Only a 5xx answer to the
// recipient (RCPT TO) or to the message (DATA) is permanent: the same mail
// would be refused again. A 5xx to MAIL FROM or to AUTH says the sender is
// misconfigured, which the operator can fix: those are retried like a server
// that is down, so that no mail is lost meanwhile.
func classify(err error) error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return &Error{Msg: oneLine(err.Error()), err: err}
	}
	code := se.ErrorCode()
	perm := code >= 500 && code < 600 && !se.IsTemp()
	switch se.Reason {
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
	default:
		perm = false
	}
	return &Error{Code: code, Msg: oneLine(err.Error()), permanent: perm, err: err}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
