package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/database"
	"cla/internal/jobs"
	"cla/internal/outbound"
	"cla/internal/testdb"
	"cla/internal/webhook"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" { // TestKilledMidDeliveryLosesNothing's instance to kill
		runChild()
		return
	}
	testdb.Main(m)
}

// childEnv carries the database URL to the instance the kill test starts
// (this test binary, run again) and kills while it delivers.
const childEnv = "CLA_WEBHOOK_TEST_CHILD_DB"

// runChild runs the delivery worker until it is killed.
func runChild() {
	ctx := context.Background()
	db, err := database.Open(ctx, os.Getenv(childEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ws := jobs.NewWorkers()
	jobs.Register(ws, &webhook.Worker{DB: db, Client: outbound.New(outbound.Options{AllowPrivate: true, Timeout: 2 * time.Minute})})
	if _, err := jobs.Start(ctx, db, jobs.Config{Workers: ws, PollInterval: 50 * time.Millisecond, ID: "doomed",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	time.Sleep(2 * time.Minute)
	os.Exit(3)
}

// An instance killed while its delivery waits for the endpoint's answer
// loses nothing: another instance rescues the job and delivers the message,
// with the same webhook-id, and the receiver accepts it once.
func TestKilledMidDeliveryLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.URL(t)
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	co := council(t, db)
	secret := webhook.NewSecret()
	var mu sync.Mutex
	seen := map[string]int{}
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Now()); err != nil {
			t.Errorf("signature: %v", err)
		}
		mu.Lock()
		id := r.Header.Get(webhook.HeaderID)
		seen[id]++
		first := seen[id] == 1
		mu.Unlock()
		if first { // the doomed instance's attempt: never answered
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	ep := &webhook.Endpoint{CouncilID: co, URL: srv.URL, Events: []string{string(webhook.ShopChanged)}, Secret: secret, Active: true}
	if _, err := db.NewInsert().Model(ep).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Emit(ctx, db, co, webhook.ShopChanged, "shop.changed:x:1", map[string]string{"slug": "x"}); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+dbURL)
	var stderr strings.Builder
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill() })
	waitFor(t, 30*time.Second, "the doomed instance's attempt", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 1
	})
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	ws := jobs.NewWorkers()
	jobs.Register(ws, &webhook.Worker{DB: db, Client: outbound.New(outbound.Options{AllowPrivate: true})})
	r, err := jobs.Start(ctx, db, jobs.Config{Workers: ws, Logger: slog.New(slog.DiscardHandler), ID: "survivor",
		PollInterval: 50 * time.Millisecond, JobTimeout: time.Second, RescueAfter: 2 * time.Second,
		Backoff: jobs.Backoff{First: 100 * time.Millisecond, Max: 300 * time.Millisecond}, StopTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	// The dead leader's term runs out (about 15 s), then the rescue.
	waitFor(t, 90*time.Second, "the delivery after the kill", func() bool {
		var state string
		_ = db.NewRaw("SELECT state FROM webhook_deliveries").Scan(ctx, &state)
		return state == webhook.StateDelivered
	})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("%d webhook-ids seen, want 1 (the same id after the rescue): %v", len(seen), seen)
	}
	for id, n := range seen {
		if n != 2 {
			t.Errorf("message %s: %d attempts, want 2 (the killed one, then the rescued one)", id, n)
		}
	}
}

// receiver is a webhook endpoint started by the test: it checks every
// message with the specification's algorithm (webhook.Verify) against each
// secret it knows, answers 500 to the first failFirst attempts of each
// message, and records what it accepted.
type receiver struct {
	t         *testing.T
	secrets   []string
	failFirst int

	mu       sync.Mutex
	attempts map[string]int    // webhook-id → attempts seen
	accepted map[string]string // webhook-id → body accepted
	bad      []string          // signatures that did not verify
	sigs     map[string]string // webhook-id → last webhook-signature header
}

func newReceiver(t *testing.T, failFirst int, secrets ...string) (*receiver, *httptest.Server) {
	r := &receiver{t: t, secrets: secrets, failFirst: failFirst, attempts: map[string]int{}, accepted: map[string]string{},
		sigs: map[string]string{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	id := req.Header.Get(webhook.HeaderID)
	r.sigs[id] = req.Header.Get(webhook.HeaderSignature)
	for _, s := range r.secrets {
		if err := webhook.Verify(s, req.Header, body, time.Now()); err != nil {
			r.bad = append(r.bad, id+": "+err.Error())
		}
	}
	r.attempts[id]++
	if r.attempts[id] <= r.failFirst {
		http.Error(w, "pas encore", http.StatusInternalServerError)
		return
	}
	if _, dup := r.accepted[id]; dup {
		r.t.Errorf("message %s accepted twice", id)
	}
	r.accepted[id] = string(body)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) snapshot() (map[string]int, map[string]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, b := map[string]int{}, map[string]string{}
	for k, v := range r.attempts {
		a[k] = v
	}
	for k, v := range r.accepted {
		b[k] = v
	}
	return a, b, append([]string(nil), r.bad...)
}

func council(t *testing.T, db *bun.DB) int64 {
	t.Helper()
	var id int64
	if err := db.NewRaw("INSERT INTO councils (slug, name) VALUES ('test', 'Conseil test') RETURNING id").Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func runner(t *testing.T, db *bun.DB) {
	t.Helper()
	ws := jobs.NewWorkers()
	jobs.Register(ws, &webhook.Worker{DB: db, Client: outbound.New(outbound.Options{AllowPrivate: true})})
	r, err := jobs.Start(context.Background(), db, jobs.Config{Workers: ws, Logger: slog.New(slog.DiscardHandler),
		PollInterval: 50 * time.Millisecond, Backoff: jobs.Backoff{First: 100 * time.Millisecond, Max: 300 * time.Millisecond},
		StopTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Every event arrives once per endpoint, signed, with the same webhook-id on
// every retry; an event emitted in a rolled-back transaction never leaves;
// an endpoint gets only the events it asked for.
func TestEventsArriveOnceSignedSameIDOnRetries(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co := council(t, db)
	secret := webhook.NewSecret()
	rec, srv := newReceiver(t, 2, secret)
	ep := &webhook.Endpoint{CouncilID: co, URL: srv.URL + "/hook", Events: []string{string(webhook.RegisterVersionPublished),
		string(webhook.ShopChanged)}, Secret: secret, Active: true}
	if _, err := db.NewInsert().Model(ep).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	other := &webhook.Endpoint{CouncilID: co, URL: srv.URL + "/other", Events: []string{string(webhook.MeetingChanged)},
		Secret: webhook.NewSecret(), Active: true}
	if _, err := db.NewInsert().Model(other).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	emit := func(ev webhook.Event, key string, data any) {
		t.Helper()
		if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return webhook.Emit(ctx, tx, co, ev, key, data)
		}); err != nil {
			t.Fatal(err)
		}
	}
	emit(webhook.RegisterVersionPublished, "register.version_published:2", map[string]any{"version": 2})
	emit(webhook.RegisterVersionPublished, "register.version_published:2", map[string]any{"version": 2}) // same event: once
	emit(webhook.ShopChanged, "shop.changed:1:a", map[string]any{"slug": "fournil"})
	emit(webhook.DecisionRecorded, "decision.recorded:1", map[string]any{"id": 1}) // nobody asked
	// A change that rolls back takes its event with it.
	_ = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := webhook.Emit(ctx, tx, co, webhook.ShopChanged, "shop.changed:2", map[string]any{"slug": "x"}); err != nil {
			t.Fatal(err)
		}
		return context.Canceled
	})
	runner(t, db)
	waitFor(t, 20*time.Second, "two accepted messages", func() bool {
		_, acc, _ := rec.snapshot()
		return len(acc) >= 2
	})
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show up
	attempts, acc, bad := rec.snapshot()
	if len(bad) > 0 {
		t.Errorf("signatures that did not verify: %v", bad)
	}
	if len(acc) != 2 || len(attempts) != 2 {
		t.Fatalf("accepted %d messages over %d ids, want 2 and 2: %v", len(acc), len(attempts), attempts)
	}
	for id, n := range attempts {
		if n != 3 {
			t.Errorf("message %s: %d attempts, want 3 (two 500s, then accepted) under the same id", id, n)
		}
	}
	var rows []webhook.DeliveryRow
	if err := db.NewSelect().Model(&rows).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d deliveries, want 2", len(rows))
	}
	for _, d := range rows {
		if d.State != webhook.StateDelivered || d.Attempts != 3 || d.LastStatus == nil || *d.LastStatus != 204 || d.DeliveredAt == nil {
			t.Errorf("delivery %d: state %s, %d attempts, last status %v", d.ID, d.State, d.Attempts, d.LastStatus)
		}
		if acc[d.MessageID] != d.Payload {
			t.Errorf("delivery %d: the receiver got %q, stored %q", d.ID, acc[d.MessageID], d.Payload)
		}
		var n int
		if err := db.NewRaw("SELECT count(*) FROM webhook_attempts WHERE delivery_id = ? AND status = 500 AND answer LIKE 'pas encore%'", d.ID).Scan(ctx, &n); err != nil || n != 2 {
			t.Errorf("delivery %d: %d logged 500 attempts, want 2 (%v)", d.ID, n, err)
		}
	}
}

// During a rotation's grace period every message carries two signatures, one
// per secret, and each secret verifies it; after the grace period only the
// new one signs.
func TestRotationSignsWithBothSecretsDuringGrace(t *testing.T) {
	t.Parallel()
	old, cur := webhook.NewSecret(), webhook.NewSecret()
	until := time.Now().Add(time.Hour)
	ep := &webhook.Endpoint{Secret: cur, PreviousSecret: &old, PreviousUntil: &until}
	if got := ep.Secrets(time.Now()); len(got) != 2 || got[0] != cur || got[1] != old {
		t.Fatalf("secrets during grace: %v", got)
	}
	if got := ep.Secrets(until.Add(time.Second)); len(got) != 1 || got[0] != cur {
		t.Fatalf("secrets after grace: %v", got)
	}
	db := testdb.New(t)
	ctx := context.Background()
	co := council(t, db)
	rec, srv := newReceiver(t, 0, old, cur) // each secret must verify the message
	ep.CouncilID, ep.URL, ep.Events, ep.Active = co, srv.URL, []string{string(webhook.DecisionRecorded)}, true
	if _, err := db.NewInsert().Model(ep).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Emit(ctx, db, co, webhook.DecisionRecorded, "decision.recorded:9", map[string]int{"id": 9}); err != nil {
		t.Fatal(err)
	}
	runner(t, db)
	waitFor(t, 20*time.Second, "the message", func() bool { _, acc, _ := rec.snapshot(); return len(acc) == 1 })
	_, _, bad := rec.snapshot()
	if len(bad) > 0 {
		t.Fatalf("a secret does not verify during grace: %v", bad)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, sig := range rec.sigs {
		if n := len(strings.Fields(sig)); n != 2 {
			t.Errorf("message %s: signature header %q has %d signatures, want 2", id, sig, n)
		}
	}
}
