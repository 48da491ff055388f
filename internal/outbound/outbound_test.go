package outbound

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"cla/internal/apperr"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ip   string
		want Class
	}{
		{"8.8.8.8", Public},
		{"2606:4700:4700::1111", Public},
		{"::ffff:8.8.8.8", Public},
		{"2002:808:808::1", Public}, // 6to4 of 8.8.8.8
		{"127.0.0.1", Private},
		{"127.255.255.254", Private},
		{"10.1.2.3", Private},
		{"172.16.0.1", Private},
		{"172.31.255.255", Private},
		{"192.168.1.1", Private},
		{"100.64.0.1", Private},
		{"100.127.255.255", Private},
		{"::1", Private},
		{"fd12:3456::1", Private},
		{"::ffff:127.0.0.1", Private},
		{"::ffff:10.0.0.1", Private},
		{"64:ff9b::7f00:1", Private}, // NAT64 of 127.0.0.1
		{"64:ff9b:1::1", Private},
		{"2002:7f00:1::1", Private}, // 6to4 of 127.0.0.1
		{"0.0.0.0", Reserved},
		{"0.1.2.3", Reserved},
		{"169.254.169.254", Reserved},
		{"::ffff:169.254.169.254", Reserved},
		{"64:ff9b::a9fe:a9fe", Reserved},
		{"224.0.0.1", Reserved},
		{"239.255.255.250", Reserved},
		{"255.255.255.255", Reserved},
		{"240.0.0.1", Reserved},
		{"192.0.2.1", Reserved},
		{"198.18.0.1", Reserved},
		{"::", Reserved},
		{"::7f00:1", Reserved}, // deprecated IPv4-compatible form
		{"fe80::1", Reserved},
		{"fe80::1%eth0", Reserved},
		{"fec0::1", Reserved},
		{"ff02::1", Reserved},
		{"2001:db8::1", Reserved},
		{"2001::1", Reserved}, // Teredo
		{"100::1", Reserved},
		{"4000::1", Reserved}, // outside global unicast
		{"172.32.0.1", Public},
		{"100.128.0.1", Public},
		{"169.253.255.255", Public},
	} {
		if got := Classify(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Classify(%s) = %s, want %s", c.ip, got, c.want)
		}
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url          string
		allowPrivate bool
		want         string // "" for valid, else the French message
	}{
		{"https://example.org/webhooks", false, ""},
		{"  https://example.org/webhooks  ", false, ""},
		{"HTTPS://EXAMPLE.org/x?y=1", false, ""},
		{"https://example.org:8443/x", false, ""},
		{"https://example.org./x", false, ""},
		{"https://exämple.org/", false, ""}, // IDN
		{"https://caisse-alim.fr/hooks#fragment", false, ""},
		{"https://8.8.8.8/", false, ""},
		{"https://[2606:4700:4700::1111]/", false, ""},

		{"", false, msgEmpty},
		{"   ", false, msgEmpty},
		{"https://example.org/" + strings.Repeat("a", MaxURLLength), false, msgTooLong},
		{"http://example.org/", false, msgHTTPS},
		{"HTTP://example.org/", false, msgHTTPS},
		{"ftp://example.org/", false, msgHTTPS},
		{"file:///etc/passwd", false, msgHTTPS},
		{"gopher://127.0.0.1:6379/_INFO", false, msgHTTPS},
		{"//example.org/x", false, msgHTTPS},
		{"javascript:alert(1)", false, msgInvalid},
		{"example.org/webhooks", false, msgInvalid},
		{"https:example.org", false, msgInvalid},
		{"https://example.org:abc/", false, msgInvalid},
		{"https:///webhooks", false, msgNoHost},
		{"https://user:secret@example.org/", false, msgUserinfo},
		{"https://example.org@127.0.0.1/", false, msgUserinfo},
		{"https://example.org:443@evil.example/", false, msgUserinfo},
		{`https://example.org\@127.0.0.1/`, false, msgChars},
		{"https://example.org /x", false, msgChars},
		{"https://exa\tmple.org/", false, msgChars},
		{"https://example.org/\x00", false, msgChars},
		{"https://example.org:0/", false, msgPort},
		{"https://example.org:65536/", false, msgPort},
		{"https://-bad.example/", false, msgHost},
		{"https://bad..example/", false, msgHost},
		{"https://exa$mple.org/", false, msgHost},
		{"https://[1.2.3.4]/", false, msgInvalid},
		{"https://[::1%zz/", false, msgInvalid},

		// Loopback and private addresses, in every spelling.
		{"https://127.0.0.1/", false, msgPrivate},
		{"https://127.0.0.1:22/", false, msgPrivate},
		{"https://127.0.0.1./", false, msgPrivate},
		{"https://127.1/", false, msgPrivate},
		{"https://127.000.000.001/", false, msgPrivate},
		{"https://0177.0.0.1/", false, msgPrivate},
		{"https://0x7f.1/", false, msgPrivate},
		{"https://0x7F.0.0.1/", false, msgPrivate},
		{"https://0x7f000001/", false, msgPrivate},
		{"https://2130706433/", false, msgPrivate},
		{"https://017700000001/", false, msgPrivate},
		{"https://１２７．０．０．１/", false, msgPrivate}, // fullwidth digits and full stops
		{"https://127。0。0。1/", false, msgPrivate}, // ideographic full stop
		{"https://[::1]/", false, msgPrivate},
		{"https://[::1]:8080/", false, msgPrivate},
		{"https://[::ffff:127.0.0.1]/", false, msgPrivate},
		{"https://[::ffff:7f00:1]/", false, msgPrivate},
		{"https://[0:0:0:0:0:ffff:127.0.0.1]/", false, msgPrivate},
		{"https://[64:ff9b::7f00:1]/", false, msgPrivate},
		{"https://[2002:7f00:1::]/", false, msgPrivate},
		{"https://10.0.0.1/", false, msgPrivate},
		{"https://172.16.5.4/", false, msgPrivate},
		{"https://192.168.1.1/", false, msgPrivate},
		{"https://100.64.0.1/", false, msgPrivate},
		{"https://[fd00::1]/", false, msgPrivate},
		{"https://localhost/", false, msgPrivate},
		{"https://LOCALHOST./", false, msgPrivate},
		{"https://app.localhost/", false, msgPrivate},
		{"https://metadata.google.internal/computeMetadata/v1/", false, msgPrivate},
		{"https://imprimante.local/", false, msgPrivate},
		{"https://box.home.arpa/", false, msgPrivate},
		{"https://metadata/", false, msgFullName},
		{"https://odoo:8069/", false, msgFullName},

		// Reserved addresses: refused even when private ones are allowed.
		{"https://169.254.169.254/latest/meta-data/", false, msgReserved},
		{"https://169.254.169.254/latest/meta-data/", true, msgReserved},
		{"https://[::ffff:169.254.169.254]/", true, msgReserved},
		{"https://[::ffff:a9fe:a9fe]/", true, msgReserved},
		{"https://0xa9fea9fe/", true, msgReserved},
		{"https://0.0.0.0/", true, msgReserved},
		{"https://0/", true, msgReserved},
		{"https://[::]/", true, msgReserved},
		{"https://[fe80::1]/", true, msgReserved},
		{"https://[fe80::1%25eth0]/", true, msgReserved},
		{"https://224.0.0.1/", false, msgReserved},
		{"https://255.255.255.255/", true, msgReserved},
		{"https://[ff02::1]/", true, msgReserved},
		{"https://[2001:db8::1]/", false, msgReserved},

		// Numbers that are not an IPv4 address in its usual form.
		{"https://8.8.8.010/", false, msgNumericIP},
		{"https://134744072/", false, msgNumericIP}, // 8.8.8.8
		{"https://1.2.3.4.5/", false, msgNumericIP},
		{"https://example.0x10/", false, msgNumericIP},

		// What the operator's AllowPrivate opens, and what it still refuses.
		{"https://127.0.0.1:8443/", true, ""},
		{"https://10.0.0.5/jsonrpc", true, ""},
		{"https://odoo:8069/", true, ""},
		{"https://metadata.google.internal/", true, ""}, // a name: the connection check decides
		{"http://127.0.0.1:8080/", true, ""},
		{"http://[::1]:8080/", true, ""},
		{"http://localhost:8080/", true, ""},
		{"http://10.0.0.5/", true, msgHTTPS},
		{"http://example.org/", true, msgHTTPS},
		{"http://odoo:8069/", true, msgHTTPS},
	} {
		err := ValidateURL(c.url, c.allowPrivate)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("ValidateURL(%q, %v) = %v, want nil", c.url, c.allowPrivate, err)
		case c.want != "" && err == nil:
			t.Errorf("ValidateURL(%q, %v) = nil, want %q", c.url, c.allowPrivate, c.want)
		case c.want != "" && (apperr.CodeOf(err) != apperr.Invalid || apperr.MessageOf(err) != c.want):
			t.Errorf("ValidateURL(%q, %v) = %v, want %q", c.url, c.allowPrivate, err, c.want)
		}
	}
}

func TestParseURLNormalisesHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://exämple.org/x":        "https://xn--exmple-cua.org/x",
		"https://Example.ORG:8443/x#y": "https://example.org:8443/x",
		"https://[::1]:8443/":          "https://[::1]:8443/",
	} {
		u, err := parseURL(in, true)
		if err != nil {
			t.Fatalf("parseURL(%q): %v", in, err)
		}
		if u.String() != want {
			t.Errorf("parseURL(%q) = %q, want %q", in, u, want)
		}
	}
}

func TestGuardControl(t *testing.T) {
	t.Parallel()
	prod := guard{}
	private := guard{allowPrivate: true}
	plain := guard{allowPrivate: true, loopbackOnly: true}
	for _, c := range []struct {
		g       guard
		network string
		address string
		ok      bool
	}{
		{prod, "tcp4", "8.8.8.8:443", true},
		{prod, "tcp6", "[2606:4700:4700::1111]:443", true},
		{prod, "tcp4", "127.0.0.1:443", false},
		{prod, "tcp6", "[::1]:443", false},
		{prod, "tcp6", "[::ffff:127.0.0.1]:443", false},
		{prod, "tcp4", "10.0.0.1:443", false},
		{prod, "tcp4", "169.254.169.254:80", false},
		{prod, "udp4", "8.8.8.8:53", false},
		{private, "tcp4", "127.0.0.1:443", true},
		{private, "tcp4", "10.0.0.1:443", true},
		{private, "tcp4", "169.254.169.254:80", false},
		{private, "tcp6", "[fe80::1%25eth0]:80", false},
		{plain, "tcp4", "127.0.0.1:80", true},
		{plain, "tcp6", "[::1]:80", true},
		{plain, "tcp4", "10.0.0.1:80", false},
		{plain, "tcp4", "8.8.8.8:80", false},
	} {
		err := c.g.control(c.network, c.address, nil)
		if (err == nil) != c.ok {
			t.Errorf("%+v.control(%s, %s) = %v, want ok=%v", c.g, c.network, c.address, err, c.ok)
		}
		if err != nil && strings.HasPrefix(c.network, "tcp") && !errors.Is(err, ErrBlocked) {
			t.Errorf("control(%s) = %v, want ErrBlocked", c.address, err)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	c := New(Options{})
	if c.hc.Timeout != 15*time.Second {
		t.Errorf("total timeout = %v, want 15s", c.hc.Timeout)
	}
	rt := c.hc.Transport.(router)
	if rt.plain != nil {
		t.Error("production client has a plain http transport")
	}
	if rt.secure.Proxy != nil {
		t.Error("proxy from the environment is used: the guard would see the proxy, not the destination")
	}
	if rt.secure.TLSHandshakeTimeout != 5*time.Second {
		t.Errorf("TLS handshake timeout = %v, want 5s", rt.secure.TLSHandshakeTimeout)
	}
}

// startDNS runs a DNS server on loopback that answers A and AAAA questions
// from records (name → addresses) and NXDOMAIN for other names, and returns a
// resolver that asks only it.
func startDNS(t *testing.T, records map[string][]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if msg := dnsAnswer(buf[:n], records); msg != nil {
				pc.WriteTo(msg, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func dnsAnswer(query []byte, records map[string][]string) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	addrs, found := records[strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")]
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !found {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	hdr := dnsmessage.ResourceHeader{Name: q.Name, Type: q.Type, Class: dnsmessage.ClassINET}
	for _, s := range addrs {
		a := netip.MustParseAddr(s)
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			b.AResource(hdr, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

// countingTLS starts an https server on 127.0.0.1 that answers 200 "ok" and
// counts the requests it receives, and returns it with a pool trusting it.
func countingTLS(t *testing.T) (*httptest.Server, *atomic.Int32, *x509.CertPool) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, &hits, pool
}

// TestSendChecksTheResolvedAddress shows that the check runs on the address
// the name resolves to when the call is made: names that pass ValidateURL
// (they look public) but resolve to loopback, private, link-local or
// IPv4-mapped addresses are refused before any connection — what DNS
// rebinding would exploit.
func TestSendChecksTheResolvedAddress(t *testing.T) {
	t.Parallel()
	srv, hits, pool := countingTLS(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	resolver := startDNS(t, map[string][]string{
		"example.com":        {"127.0.0.1"}, // the test certificate's name
		"rebind.example.com": {"127.0.0.1"},
		"v6.example.com":     {"::1"},
		"mapped.example.com": {"::ffff:127.0.0.1"},
		"meta.example.com":   {"169.254.169.254"},
		"lan.example.com":    {"10.1.2.3", "192.168.0.10"},
		"mixed.example.com":  {"127.0.0.1", "fd00::1"},
		"zero.example.com":   {"0.0.0.0"},
	})
	url := func(host string) string { return "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/hook" }
	ctx := context.Background()

	prod := New(Options{Resolver: resolver, RootCAs: pool, ConnectTimeout: time.Second})
	for _, host := range []string{"example.com", "rebind.example.com", "v6.example.com", "mapped.example.com",
		"meta.example.com", "lan.example.com", "mixed.example.com", "zero.example.com"} {
		if err := ValidateURL(url(host), false); err != nil {
			t.Fatalf("ValidateURL(%s) = %v: the test needs names that pass validation", host, err)
		}
		resp, err := prod.Send(ctx, Request{URL: url(host), Body: []byte("{}")})
		if !errors.Is(err, ErrBlocked) {
			t.Errorf("Send to %s: resp %v, err %v; want ErrBlocked", host, resp, err)
		}
		if got := Describe(err); !strings.Contains(got, "réseau privé") {
			t.Errorf("Describe(%v) = %q", err, got)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server received %d requests from a refused call", n)
	}

	// The operator's AllowPrivate opens private addresses, not reserved ones.
	lab := New(Options{AllowPrivate: true, Resolver: resolver, RootCAs: pool, ConnectTimeout: time.Second})
	resp, err := lab.Send(ctx, Request{URL: url("example.com"), Body: []byte("{}")})
	if err != nil || resp.StatusCode != 200 || string(resp.Body) != "ok" {
		t.Fatalf("Send with AllowPrivate: %v, %v", resp, err)
	}
	for _, host := range []string{"meta.example.com", "zero.example.com"} {
		if _, err := lab.Send(ctx, Request{URL: url(host)}); !errors.Is(err, ErrBlocked) {
			t.Errorf("Send to %s with AllowPrivate: %v, want ErrBlocked", host, err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("server hits = %d, want 1", n)
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var landed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/landed", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/landed", func(w http.ResponseWriter, r *http.Request) { landed.Add(1) })
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := New(Options{AllowPrivate: true, RootCAs: pool})

	resp, err := c.Send(context.Background(), Request{URL: srv.URL + "/hook", Body: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTemporaryRedirect || !resp.Redirect() || resp.Location != "/landed" {
		t.Fatalf("got %d, Location %q; want 307 /landed, not followed", resp.StatusCode, resp.Location)
	}
	resp, err = c.Send(context.Background(), Request{URL: srv.URL + "/moved"})
	if err != nil || resp.StatusCode != http.StatusFound || resp.Location != "https://169.254.169.254/latest/meta-data/" {
		t.Fatalf("got %+v, %v", resp, err)
	}
	if n := landed.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
}

func TestSendPlainHTTPOnlyToLoopbackWhenAllowed(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("User-Agent") + "|" + r.Method + "|" + r.Header.Get("X-Test"))
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)

	_, err := New(Options{}).Send(context.Background(), Request{URL: srv.URL})
	if apperr.MessageOf(err) != msgHTTPS {
		t.Fatalf("production client, plain http: %v, want %q", err, msgHTTPS)
	}
	resp, err := New(Options{AllowPrivate: true}).Send(context.Background(),
		Request{URL: srv.URL, Header: http.Header{"X-Test": {"1"}}, Body: []byte("x")})
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("allowed client, plain http to loopback: %v, %v", resp, err)
	}
	if g := got.Load(); g != DefaultUserAgent+"|POST|1" {
		t.Fatalf("server saw %q", g)
	}
	// localhost resolves (from /etc/hosts) to loopback: allowed too.
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	if resp, err := New(Options{AllowPrivate: true}).Send(context.Background(),
		Request{URL: "http://localhost:" + strconv.Itoa(port) + "/"}); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("http://localhost: %v, %v", resp, err)
	}
}

func TestSendCapsTheAnswer(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 200<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(big))
	}))
	t.Cleanup(srv.Close)
	c := New(Options{AllowPrivate: true})
	resp, err := c.Send(context.Background(), Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 || len(resp.Body) != DefaultMaxBody || !resp.Truncated {
		t.Fatalf("status %d, kept %d bytes, truncated %v; want 500, %d, true", resp.StatusCode, len(resp.Body), resp.Truncated, DefaultMaxBody)
	}
	resp, err = c.Send(context.Background(), Request{URL: srv.URL, MaxBody: 1 << 20})
	if err != nil || len(resp.Body) != len(big) || resp.Truncated {
		t.Fatalf("MaxBody 1 MiB: kept %d, truncated %v, %v", len(resp.Body), resp.Truncated, err)
	}
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	start := time.Now()
	_, err := New(Options{AllowPrivate: true, Timeout: 300 * time.Millisecond}).Send(context.Background(), Request{URL: srv.URL})
	if err == nil {
		t.Fatal("no error from a server that never answers")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	if got := Describe(err); !strings.HasPrefix(got, "Délai dépassé") {
		t.Fatalf("Describe(%v) = %q", err, got)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, err = New(Options{AllowPrivate: true}).Send(ctx, Request{URL: "https://" + closed + "/"})
	if got := Describe(err); got != "Connexion refusée par le serveur." {
		t.Errorf("closed port: Describe(%v) = %q", err, got)
	}

	// A certificate nobody vouches for.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, err = New(Options{AllowPrivate: true}).Send(ctx, Request{URL: srv.URL})
	if got := Describe(err); !strings.Contains(got, "certificat") {
		t.Errorf("unknown CA: Describe(%v) = %q", err, got)
	}

	// A name that does not exist.
	resolver := startDNS(t, nil)
	_, err = New(Options{Resolver: resolver}).Send(ctx, Request{URL: "https://absent.example.net/"})
	if got := Describe(err); got != "Nom de domaine introuvable." {
		t.Errorf("NXDOMAIN: Describe(%v) = %q", err, got)
	}

	// A refused address, before any network.
	_, err = New(Options{}).Send(ctx, Request{URL: "https://169.254.169.254/"})
	if got := Describe(err); got != msgReserved {
		t.Errorf("validation: Describe(%v) = %q", err, got)
	}
	if Describe(nil) != "" {
		t.Error("Describe(nil) is not empty")
	}
}

// TestSendIgnoresProxyEnvironment: a proxy would be the address the guard
// sees, so the client must never use one. Not parallel: it sets the
// environment.
func TestSendIgnoresProxyEnvironment(t *testing.T) {
	srv, hits, pool := countingTLS(t)
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	resp, err := New(Options{AllowPrivate: true, RootCAs: pool}).Send(context.Background(), Request{URL: srv.URL})
	if err != nil || resp.StatusCode != 200 || hits.Load() != 1 {
		t.Fatalf("%v, %v, hits %d", resp, err, hits.Load())
	}
}
