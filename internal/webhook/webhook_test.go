package webhook

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cla/internal/outbound"
)

// The specification's published test vector (standard-webhooks repository,
// libraries' tests: the same key, id, timestamp, payload and signature in
// every language).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecificationVector(t *testing.T) {
	t.Parallel()
	at := time.Unix(vectorTimestamp, 0)
	got, err := Sign(vectorID, at, []byte(vectorPayload), vectorSecret)
	if err != nil || got != vectorSignature {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vectorSignature)
	}
	// The prefix is optional, as in the specification's libraries.
	if got, _ := Sign(vectorID, at, []byte(vectorPayload), strings.TrimPrefix(vectorSecret, SecretPrefix)); got != vectorSignature {
		t.Fatalf("Sign without prefix = %q", got)
	}
	h := http.Header{}
	h.Set(HeaderID, vectorID)
	h.Set(HeaderTimestamp, strconv.Itoa(vectorTimestamp))
	h.Set(HeaderSignature, vectorSignature)
	if err := Verify(vectorSecret, h, []byte(vectorPayload), at.Add(time.Minute)); err != nil {
		t.Fatalf("Verify(vector) = %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Now()
	body := []byte(`{"type":"register.published","data":{"version":4}}`)
	secret := NewSecret()
	good := func() http.Header {
		h, err := Headers("msg_abc", now, body, secret)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	other := NewSecret()
	otherSig, _ := Sign("msg_abc", now, body, other)
	for _, c := range []struct {
		name   string
		edit   func(http.Header)
		body   []byte
		secret string
		at     time.Time
		want   error
	}{
		{name: "valid", want: nil},
		{name: "missing id", edit: func(h http.Header) { h.Del(HeaderID) }, want: ErrMissing},
		{name: "missing timestamp", edit: func(h http.Header) { h.Del(HeaderTimestamp) }, want: ErrMissing},
		{name: "missing signature", edit: func(h http.Header) { h.Del(HeaderSignature) }, want: ErrMissing},
		{name: "body changed", body: []byte(`{"type":"register.published","data":{"version":5}}`), want: ErrNoSignature},
		{name: "id changed", edit: func(h http.Header) { h.Set(HeaderID, "msg_abd") }, want: ErrNoSignature},
		{name: "timestamp changed", edit: func(h http.Header) { h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10)) }, want: ErrNoSignature},
		{name: "timestamp not a number", edit: func(h http.Header) { h.Set(HeaderTimestamp, "soon") }, want: ErrTimestamp},
		{name: "too old", at: now.Add(Tolerance + time.Second), want: ErrTimestamp},
		{name: "too new", at: now.Add(-Tolerance - time.Second), want: ErrTimestamp},
		{name: "within tolerance", at: now.Add(Tolerance - time.Second), want: nil},
		{name: "another secret", secret: other, want: ErrNoSignature},
		{name: "bad secret", secret: "whsec_short", want: ErrSecret},
		{name: "unknown versions skipped", edit: func(h http.Header) {
			h.Set(HeaderSignature, "v1a,AAAA v2,"+strings.TrimPrefix(h.Get(HeaderSignature), "v1,")+" "+otherSig+" "+h.Get(HeaderSignature))
		}, want: nil},
		{name: "only other versions", edit: func(h http.Header) {
			h.Set(HeaderSignature, "v2,"+strings.TrimPrefix(h.Get(HeaderSignature), "v1,"))
		}, want: ErrNoSignature},
		{name: "garbage", edit: func(h http.Header) { h.Set(HeaderSignature, "v1,!!! v1 ,") }, want: ErrNoSignature},
	} {
		h := good()
		if c.edit != nil {
			c.edit(h)
		}
		b, s, at := body, secret, now
		if c.body != nil {
			b = c.body
		}
		if c.secret != "" {
			s = c.secret
		}
		if !c.at.IsZero() {
			at = c.at
		}
		if err := Verify(s, h, b, at); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestSecretsAndIDs(t *testing.T) {
	t.Parallel()
	s := NewSecret()
	key, err := ParseSecret(s)
	if !strings.HasPrefix(s, SecretPrefix) || err != nil || len(key) != 32 {
		t.Fatalf("NewSecret() = %q: %d bytes, %v", s, len(key), err)
	}
	if NewSecret() == s {
		t.Fatal("two secrets are equal")
	}
	for _, bad := range []string{"", "whsec_", "whsec_" + strings.Repeat("A", 31) + "=", // 23 bytes
		"whsec_" + strings.Repeat("A", 88), // 66 bytes
		"whsec_not base64!"} {
		if _, err := ParseSecret(bad); !errors.Is(err, ErrSecret) {
			t.Errorf("ParseSecret(%q) = %v, want ErrSecret", bad, err)
		}
	}
	id := NewMessageID()
	if !strings.HasPrefix(id, "msg_") || len(id) != 30 || !validID(id) || NewMessageID() == id {
		t.Fatalf("NewMessageID() = %q", id)
	}
	for _, bad := range []string{"", "msg.1", "msg 1", "msg\n1", strings.Repeat("a", 201)} {
		if _, err := Sign(bad, time.Now(), nil, s); !errors.Is(err, ErrMessageID) {
			t.Errorf("Sign(id %q) = %v, want ErrMessageID", bad, err)
		}
	}
	if _, err := Sign("msg_1", time.Now(), nil); err == nil {
		t.Error("Sign without secret succeeded")
	}
}

// receiver is a webhook endpoint started in the test: it verifies every
// message with its secret, records what it got, and answers with the next
// scripted status (200 when the script is empty).
type receiver struct {
	srv    *httptest.Server
	secret string

	mu      sync.Mutex
	script  []int
	ids     []string
	verrs   []error
	headers []http.Header
}

func newReceiver(t *testing.T, secret string, handle func(w http.ResponseWriter, status int) bool) *receiver {
	r := &receiver{secret: secret}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.ids = append(r.ids, req.Header.Get(HeaderID))
		r.verrs = append(r.verrs, Verify(r.secret, req.Header, body, time.Now()))
		r.headers = append(r.headers, req.Header.Clone())
		status := 200
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		if handle == nil || !handle(w, status) {
			w.WriteHeader(status)
			w.Write([]byte("statut " + strconv.Itoa(status)))
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) client() *outbound.Client {
	pool := x509.NewCertPool()
	pool.AddCert(r.srv.Certificate())
	return outbound.New(outbound.Options{AllowPrivate: true, RootCAs: pool})
}

func TestDeliverRetriesKeepTheID(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	r := newReceiver(t, secret, nil)
	r.script = []int{500, 503, 200}
	c := r.client()
	payload := []byte(`{"type":"shop.status_changed","data":{"slug":"fournil-des-cometes"}}`)
	id := NewMessageID()
	var ds []Delivery
	for range 3 {
		ds = append(ds, Deliver(context.Background(), c, r.srv.URL+"/hooks", id, payload, []string{secret}))
	}
	for i, want := range []int{500, 503, 200} {
		d := ds[i]
		if d.StatusCode != want || d.OK() != (want == 200) || d.Answer != "statut "+strconv.Itoa(want) {
			t.Errorf("attempt %d: %+v", i, d)
		}
		if (d.Error == "") != (want == 200) || (want != 200 && d.Error != "Le serveur a répondu "+strconv.Itoa(want)+".") {
			t.Errorf("attempt %d: Error %q", i, d.Error)
		}
		if r.ids[i] != id || r.verrs[i] != nil {
			t.Errorf("attempt %d: receiver got id %q, verification %v", i, r.ids[i], r.verrs[i])
		}
		if got := r.headers[i].Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q", got)
		}
		if ts := r.headers[i].Get(HeaderTimestamp); ts != strconv.FormatInt(d.At.Unix(), 10) {
			t.Errorf("timestamp %s, attempt at %v", ts, d.At)
		}
		if d.Duration <= 0 {
			t.Errorf("attempt %d: duration %v", i, d.Duration)
		}
	}
}

func TestDeliverDuringSecretRotation(t *testing.T) {
	t.Parallel()
	old, current := NewSecret(), NewSecret()
	payload := []byte(`{"type":"ping"}`)
	for _, receiverSecret := range []string{old, current} {
		r := newReceiver(t, receiverSecret, nil)
		d := Deliver(context.Background(), r.client(), r.srv.URL, "msg_rotation", payload, []string{current, old})
		if !d.OK() || r.verrs[0] != nil {
			t.Fatalf("receiver still on one of the secrets: %+v, verification %v", d, r.verrs[0])
		}
		if sigs := strings.Fields(r.headers[0].Get(HeaderSignature)); len(sigs) != 2 {
			t.Fatalf("signatures %q, want two", sigs)
		}
	}
	// After the grace period only the current secret signs: a receiver still
	// on the old one refuses the message.
	r := newReceiver(t, old, nil)
	Deliver(context.Background(), r.client(), r.srv.URL, "msg_after", payload, []string{current})
	if !errors.Is(r.verrs[0], ErrNoSignature) {
		t.Fatalf("old secret after rotation: %v", r.verrs[0])
	}
}

func TestDeliverFailures(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	big := "x" + strings.Repeat("é", AnswerLimit) // 2 bytes each: the cut falls inside one
	r := newReceiver(t, secret, func(w http.ResponseWriter, status int) bool {
		switch status {
		case 302:
			w.Header().Set("Location", "https://169.254.169.254/latest/")
		case 503:
			w.Header().Set("Retry-After", "120")
		case 299:
			w.WriteHeader(200)
			w.Write([]byte(big + "\x00"))
			return true
		}
		return false
	})
	r.script = []int{302, 410, 503, 299}
	c := r.client()
	ctx := context.Background()
	payload := []byte(`{}`)

	d := Deliver(ctx, c, r.srv.URL, "msg_1", payload, []string{secret})
	if d.OK() || d.StatusCode != 302 || d.Location != "https://169.254.169.254/latest/" || !strings.Contains(d.Error, "n'est pas suivie") {
		t.Errorf("redirect: %+v", d)
	}
	d = Deliver(ctx, c, r.srv.URL, "msg_2", payload, []string{secret})
	if d.OK() || !d.Gone() || !strings.Contains(d.Error, "410") {
		t.Errorf("gone: %+v", d)
	}
	d = Deliver(ctx, c, r.srv.URL, "msg_3", payload, []string{secret})
	if d.OK() || d.RetryAfter != 2*time.Minute {
		t.Errorf("retry-after: %+v", d)
	}
	d = Deliver(ctx, c, r.srv.URL, "msg_4", payload, []string{secret})
	if !d.OK() || len(d.Answer) > AnswerLimit || len(d.Answer) != AnswerLimit-1 || !strings.HasPrefix(d.Answer, "xé") || strings.ContainsAny(d.Answer, "\uFFFD\x00") {
		t.Errorf("long answer: %d bytes, ends %q", len(d.Answer), d.Answer[len(d.Answer)-4:])
	}
	if len(r.ids) != 4 {
		t.Fatalf("receiver got %d messages, want 4 (no redirect followed)", len(r.ids))
	}

	// Refused before any connection: the production policy and a loopback URL.
	d = Deliver(ctx, outbound.New(outbound.Options{}), r.srv.URL, "msg_5", payload, []string{secret})
	if d.StatusCode != 0 || d.OK() || !strings.Contains(d.Error, "réseau privé") || d.Err == nil {
		t.Errorf("private address: %+v", d)
	}
	// A broken secret: nothing is sent.
	d = Deliver(ctx, c, r.srv.URL, "msg_6", payload, []string{"whsec_oops"})
	if d.OK() || !errors.Is(d.Err, ErrSecret) || d.Error == "" {
		t.Errorf("bad secret: %+v", d)
	}
	if len(r.ids) != 4 {
		t.Fatalf("receiver got %d messages, want 4", len(r.ids))
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		"-5":                            0,
		"99999999999":                   24 * time.Hour,
		"Sun, 01 Mar 2026 12:10:00 GMT": 10 * time.Minute,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0,
		"demain":                        0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
