// Package outbound makes the HTTP calls the platform sends to addresses that
// people typed: webhook endpoints that facilitators register, the payment
// tool's Odoo that the operator configures. Such an address can point anywhere,
// including at the machine's own services or the cloud's metadata endpoint
// (server-side request forgery), so every call:
//
//   - goes over https; plain http only to this machine, when allowed (tests);
//   - connects only to public addresses, unless the operator allows private
//     ones, and never to reserved ones (link-local, multicast…). The check runs
//     when the socket is about to connect, on the IP address the name resolved
//     to (a net.Dialer Control function), so a name that resolves to a public
//     address when the form is saved and to 127.0.0.1 when the call is made
//     (DNS rebinding) is refused all the same;
//   - follows no redirect: a 3xx answer is returned as it is, with its Location;
//   - ignores proxy settings from the environment: through a proxy the socket
//     would connect to the proxy, and the check would never see the destination;
//   - gives up after 5 s to connect and 15 s in all, and keeps at most the first
//     64 KiB of the answer (more on request), so a slow or huge answer cannot
//     hold a worker or fill the memory.
package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Defaults for Options and Request.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
	DefaultMaxBody        = 64 << 10
	DefaultUserAgent      = "cla (conseil local de l'alimentation)"
)

// Options configure a Client. The zero value is the production policy.
type Options struct {
	// AllowPrivate lets calls reach private addresses (loopback, RFC 1918,
	// unique-local, carrier-grade NAT) and plain http to this machine: for an
	// operator whose Odoo lives on the intranet, and for tests. Reserved
	// addresses (link-local, multicast…) stay refused.
	AllowPrivate bool
	// ConnectTimeout bounds the connection and the TLS handshake
	// (DefaultConnectTimeout when zero); Timeout bounds the whole call, answer
	// included (DefaultTimeout when zero).
	ConnectTimeout, Timeout time.Duration
	// Resolver resolves names; nil means the system's. Tests give one that
	// asks a DNS server they run.
	Resolver *net.Resolver
	// RootCAs are the certificate authorities trusted for https; nil means the
	// system's. Tests give their server's certificate.
	RootCAs *x509.CertPool
	// UserAgent is sent with every call (DefaultUserAgent when empty).
	UserAgent string
}

// Client sends outgoing calls under the policy of its Options. It is safe for
// concurrent use and keeps connections alive between calls.
type Client struct {
	hc        *http.Client
	allow     bool
	userAgent string
}

// ErrBlocked is matched (errors.Is) by the error of a call refused because the
// address it resolved to is not an allowed destination.
var ErrBlocked = errors.New("outbound: destination address not allowed")

// BlockedError is the error of a call whose connection was refused by the
// policy: Addr is the address the name resolved to.
type BlockedError struct {
	Addr  netip.Addr
	Class Class
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("outbound: connection to %s refused (%s address)", e.Addr, e.Class)
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// guard is the policy applied to every socket before it connects.
type guard struct {
	allowPrivate bool
	loopbackOnly bool // plain http: this machine only
}

func (g guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("outbound: network %q refused", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound: address %q: %w", address, err)
	}
	ip := ap.Addr()
	c := Classify(ip)
	switch {
	case c == Reserved, c == Private && !g.allowPrivate:
		return &BlockedError{Addr: ip, Class: c}
	case g.loopbackOnly && !isLoopback(ip):
		return &BlockedError{Addr: ip, Class: c}
	}
	return nil
}

// New returns a Client applying opts.
func New(opts Options) *Client {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	rt := router{secure: transport(opts, guard{allowPrivate: opts.AllowPrivate})}
	if opts.AllowPrivate {
		rt.plain = transport(opts, guard{allowPrivate: true, loopbackOnly: true})
	}
	return &Client{
		hc: &http.Client{
			Transport: rt,
			Timeout:   opts.Timeout,
			// The 3xx answer itself is the result: following it would send the
			// payload to an address nobody validated.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		allow:     opts.AllowPrivate,
		userAgent: opts.UserAgent,
	}
}

func transport(opts Options, g guard) *http.Transport {
	d := &net.Dialer{
		Timeout:   opts.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  opts.Resolver,
		Control:   g.control,
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    opts.ConnectTimeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// router sends https through the guarded transport and plain http, when
// allowed at all, through one that only connects to this machine.
type router struct{ secure, plain *http.Transport }

func (r router) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.URL.Scheme == "https":
		return r.secure.RoundTrip(req)
	case req.URL.Scheme == "http" && r.plain != nil:
		return r.plain.RoundTrip(req)
	}
	return nil, fmt.Errorf("outbound: scheme %q refused", req.URL.Scheme)
}

// Request is one outgoing call.
type Request struct {
	// Method defaults to POST.
	Method string
	// URL is checked with ValidateURL under the client's policy first.
	URL    string
	Header http.Header
	Body   []byte
	// MaxBody is how much of the answer to keep (DefaultMaxBody when zero);
	// the rest is not read.
	MaxBody int
}

// Response is what is kept of an answer.
type Response struct {
	StatusCode int
	Header     http.Header
	// Body holds the first MaxBody bytes of the answer, Truncated says
	// whether there were more.
	Body      []byte
	Truncated bool
	// Location is the Location header of a redirect (3xx), which was not
	// followed.
	Location string
	// Duration runs from sending the request to the end of the body read.
	Duration time.Duration
}

// Redirect reports whether the answer was a redirect (which was not followed).
func (r *Response) Redirect() bool { return r.StatusCode >= 300 && r.StatusCode < 400 }

// Send makes the call. The URL is validated first (an *apperr.Error with code
// Invalid if refused). An answer of any status is a Response with a nil error;
// a call refused at connection time fails with an error matching ErrBlocked.
// If the answer fails after its status line (a timeout while reading the
// body), Send returns what it read together with the error.
func (c *Client) Send(ctx context.Context, r Request) (*Response, error) {
	u, err := parseURL(r.URL, c.allow)
	if err != nil {
		return nil, err
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	if r.Header != nil {
		req.Header = r.Header.Clone()
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := r.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	out := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	if len(body) > limit {
		out.Body, out.Truncated = body[:limit], true
	}
	if out.Redirect() {
		out.Location = resp.Header.Get("Location")
	}
	out.Duration = time.Since(start)
	if err != nil {
		return out, fmt.Errorf("outbound: reading the answer: %w", err)
	}
	return out, nil
}
