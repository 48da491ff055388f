// Package mailtest is a real SMTP server for tests (github.com/emersion/go-smtp),
// listening on 127.0.0.1, that records every message it accepts and can be
// told to misbehave: refuse a recipient (550), answer 451 a number of times,
// go down and come back. Parse reads a recorded message back (headers, text,
// HTML, attachments) with net/mail and mime/multipart, so tests check what a
// mail client would see.
//
//	srv := mailtest.Start(t, mailtest.Options{})
//	sender, _ := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org"})
//	… send …
//	got := srv.Wait(t, 1)
//	m := mailtest.Parse(t, got[0].Data)
//	m.Header.Get("Subject"), m.Text, m.HTML, m.Attachments
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of the test server.
const (
	PlainText = ""         // no TLS offered: a local relay
	StartTLS  = "starttls" // STARTTLS offered on a plain connection
	Implicit  = "tls"      // TLS from the first byte (SMTPS)
)

// Options configure a Server.
type Options struct {
	TLS string // PlainText, StartTLS or Implicit
	// Username and Password, when set, are required (AUTH PLAIN, over TLS
	// only) before any mail is accepted.
	Username, Password string
}

// Received is one accepted message: its envelope, whether it came over TLS,
// and its raw data.
type Received struct {
	From string
	To   []string
	TLS  bool
	Data []byte
}

// Server is a running test SMTP server.
type Server struct {
	// Addr is host:port to send to; it stays the same across Down and Up.
	Addr string

	opts   Options
	tlsCfg *tls.Config
	ca     *x509.CertPool

	mu        sync.Mutex
	srv       *smtp.Server
	ln        net.Listener
	received  []Received
	refused   map[string]bool
	failNext  int
	attempts  int
	arrivedCh chan struct{}
}

// Start starts a server; it is closed when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, refused: map[string]bool{}, arrivedCh: make(chan struct{}, 1)}
	if opts.TLS != PlainText {
		s.tlsCfg, s.ca = selfSigned(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(func() { s.Down() })
	return s
}

// ClientTLS returns a TLS configuration that trusts the server's
// certificate, for mail.SMTPConfig.TLSConfig.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.ca, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, tls := c.TLSConnectionState()
		return &session{s: s, tls: tls}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.tlsCfg != nil {
		srv.TLSConfig = s.tlsCfg
		if s.opts.TLS == Implicit {
			ln = tls.NewListener(ln, s.tlsCfg)
		}
	}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Down closes the server: connections are refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// The listener too: Serve may not have taken it yet.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Up starts the server again on the same address.
func (s *Server) Up(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.serve(ln)
}

// Refuse makes the server answer 550 to RCPT TO:<addr>.
func (s *Server) Refuse(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[strings.ToLower(addr)] = true
}

// Unrefuse accepts addr again.
func (s *Server) Unrefuse(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refused, strings.ToLower(addr))
}

// FailNext makes the server answer 451 to the next n recipients.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Attempts returns how many recipients were offered (RCPT TO), accepted or
// not.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Wait returns the accepted messages once there are at least n, failing the
// test after 10 seconds.
func (s *Server) Wait(t testing.TB, n int) []Received {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrivedCh:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("mailtest: %d messages after 10 s, want %d", len(s.Messages()), n)
		}
	}
}

type session struct {
	s      *Server
	tls    bool
	authed bool
	from   string
	to     []string
}

// AuthMechanisms offers PLAIN when the server requires a login.
func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks the configured user name and password.
func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.opts.Username || password != x.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		x.authed = true
		return nil
	}), nil
}

// Mail accepts the sender, once logged in when a login is required.
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

// Rcpt answers 451 while FailNext lasts, 550 to refused addresses.
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.failNext > 0 {
		s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	if s.refused[strings.ToLower(to)] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	x.to = append(x.to, to)
	return nil
}

// Data records the message.
func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := x.s
	s.mu.Lock()
	s.received = append(s.received, Received{From: x.from, To: x.to, TLS: x.tls, Data: data})
	s.mu.Unlock()
	select {
	case s.arrivedCh <- struct{}{}:
	default:
	}
	return nil
}

// Reset forgets the envelope.
func (x *session) Reset() { x.from, x.to = "", nil }

// Logout ends the session.
func (x *session) Logout() error { return nil }

// selfSigned makes a throw-away certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}
