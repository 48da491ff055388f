package main

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/demo"
	"cla/internal/authz"
	"cla/internal/idempotency"
	"cla/internal/jobs"
	"cla/internal/testdb"
	"cla/internal/webhook"
	"cla/internal/webtest"
)

// In production mode (no --webhooks-allow-private) an endpoint on this
// machine, a private network or the cloud metadata address is refused with a
// French message beside the address field, and nothing is written.
func TestIntegrationRefusesPrivateAddressesInProduction(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	for _, u := range []string{"https://127.0.0.1/hook", "http://127.0.0.1:8080/hook", "https://169.254.169.254/latest/meta-data",
		"https://10.0.0.5/hook", "http://caisse.example.org/hook", "https://[::1]/hook", "pas une adresse"} {
		resp, body := fac.PostForm("/gestion/integrations", url.Values{"url": {u}, "events": {string(webhook.ShopChanged)}})
		if resp.StatusCode != 422 || !strings.Contains(body, `id="url-error"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: %d, want 422 with the message beside the field", u, resp.StatusCode)
		}
	}
	resp, body := fac.PostForm("/gestion/integrations", url.Values{"url": {"https://caisse.example.org/hook"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Cochez au moins un événement") {
		t.Errorf("no event: %d", resp.StatusCode)
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM webhook_endpoints").Scan(ctx, &n); err != nil || n != 0 {
		t.Fatalf("%d endpoints written (%v), want none", n, err)
	}
}

// hookReceiver verifies every message with the specification's algorithm,
// answers 500 to the first two attempts of each message, then accepts it.
type hookReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	tries  map[string]int
	got    map[string]webhook.Envelope
	bad    []string
	resent bool // a re-send was asked: a second acceptance is expected
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	id := req.Header.Get(webhook.HeaderID)
	if err := webhook.Verify(r.secret, req.Header, body, time.Now()); err != nil {
		r.bad = append(r.bad, id+": "+err.Error())
	}
	r.tries[id]++
	if r.tries[id] <= 2 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var env webhook.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		r.bad = append(r.bad, id+": body is not JSON")
	}
	if _, dup := r.got[id]; dup && !r.resent {
		r.t.Errorf("message %s accepted twice", id)
	}
	r.got[id] = env
	w.WriteHeader(http.StatusOK)
}

// A facilitator registers an endpoint on /gestion/integrations and sees its
// secret once; a decision that changes the register and a shop sends each
// event once, signed, retried under the same webhook-id until accepted; the
// log shows the attempts; re-send sends the same message again.
func TestIntegrationDeliversRegisterEventsSigned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := &Main{Config: Config{Addr: "127.0.0.1:0", DatabaseURL: testdb.URL(t), DataDir: t.TempDir(),
		WebhooksAllowPrivate: true, JobBackoff: jobs.Backoff{First: 100 * time.Millisecond, Max: 300 * time.Millisecond}}, Logger: quiet}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	var councilID int64
	if err := m.DB.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	rec := &hookReceiver{t: t, tries: map[string]int{}, got: map[string]webhook.Envelope{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	fac, _ := webtest.SignIn(t, m.App, m.DB, councilID, authz.Facilitator)
	resp, body := fac.PostForm("/gestion/integrations", url.Values{"url": {srv.URL + "/hook"}, "description": {"Caisse du Fournil"},
		"events": {string(webhook.RegisterVersionPublished), string(webhook.ShopChanged)}})
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(html.UnescapeString(body))
	if resp.StatusCode != 200 || secret == "" {
		t.Fatalf("create: %d, secret %q", resp.StatusCode, secret)
	}
	rec.mu.Lock()
	rec.secret = secret
	rec.mu.Unlock()
	var epID int64
	if err := m.DB.NewRaw("SELECT id FROM webhook_endpoints WHERE council_id = ?", councilID).Scan(ctx, &epID); err != nil {
		t.Fatal(err)
	}
	page := "/gestion/integrations/" + itoa(epID)
	if _, body := fac.Get("/gestion/integrations"); strings.Contains(html.UnescapeString(body), secret) || !strings.Contains(body, page) {
		t.Error("the list shows the secret again, or does not link the endpoint")
	}
	if _, body := fac.Get(page); strings.Contains(html.UnescapeString(body), secret) {
		t.Error("the endpoint page shows the secret again")
	}

	// A decision: rice goes sous_conditions and a shop is suspended, in one version.
	review := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	var ver *catalog.Version
	if err := m.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ver, err = catalog.ApplyChange(ctx, tx, councilID, catalog.Change{EffectiveOn: time.Now().UTC().Truncate(24 * time.Hour),
			Summary: "Riz sous conditions", Items: []catalog.ItemChange{{Slug: "riz-de-camargue", Status: catalog.SousConditions,
				Conditions: "Bio uniquement", ReviewOn: &review}},
			Shops: []catalog.ShopChange{{Slug: "fournil-des-cometes", Status: catalog.ShopSuspendu}}},
			catalog.DecisionRef{Ref: "decision:999", Title: "Essai"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "both events accepted", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.got) == 2
	})
	time.Sleep(500 * time.Millisecond)
	rec.mu.Lock()
	if len(rec.bad) > 0 {
		t.Errorf("messages that did not verify: %v", rec.bad)
	}
	types := map[webhook.Event]json.RawMessage{}
	for id, env := range rec.got {
		types[env.Type] = env.Data
		if rec.tries[id] != 3 {
			t.Errorf("message %s: %d attempts, want 3 under the same id", id, rec.tries[id])
		}
	}
	rec.mu.Unlock()
	var snap catalog.Snapshot
	if err := json.Unmarshal(types[webhook.RegisterVersionPublished], &snap); err != nil || snap.Version != ver.Number {
		t.Errorf("register payload: version %d (%v), want %d", snap.Version, err, ver.Number)
	}
	var shop catalog.APIShop
	if err := json.Unmarshal(types[webhook.ShopChanged], &shop); err != nil || shop.Slug != "fournil-des-cometes" || shop.Status != catalog.ShopSuspendu {
		t.Errorf("shop payload: %+v (%v)", shop, err)
	}

	// The log shows each delivery with its attempts; re-send uses the same id.
	_, body = fac.Get(page)
	if strings.Count(body, "HTTP 500") != 4 || strings.Count(body, "HTTP 200") != 2 {
		t.Errorf("log: %d lines HTTP 500, %d HTTP 200; want 4 and 2", strings.Count(body, "HTTP 500"), strings.Count(body, "HTTP 200"))
	}
	var d webhook.DeliveryRow
	if err := m.DB.NewSelect().Model(&d).Where("endpoint_id = ? AND event = ?", epID, webhook.ShopChanged).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	rec.resent = true
	rec.mu.Unlock()
	if resp, _ := fac.PostForm(page+"/envois/"+itoa(d.ID)+"/renvoi", nil); resp.StatusCode != 303 {
		t.Fatalf("re-send: %d", resp.StatusCode)
	}
	waitUntil(t, 10*time.Second, "the re-sent message", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.tries[d.MessageID] == 4
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Scheduling a meeting and changing it queue one meeting.changed delivery
// each, in the change's transaction, for an endpoint that asked for them;
// an endpoint that did not ask gets nothing.
func TestMeetingChangesQueueWebhooks(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var councilID int64
	if err := db.NewRaw("SELECT id FROM councils WHERE slug = ?", demo.CouncilSlug).Scan(ctx, &councilID); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []webhook.Event{webhook.MeetingChanged, webhook.ShopChanged} {
		ep := &webhook.Endpoint{CouncilID: councilID, URL: "https://caisse.example.org/" + string(ev), Events: []string{string(ev)},
			Secret: webhook.NewSecret(), Active: true}
		if _, err := db.NewInsert().Model(ep).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	resp, _ := fac.PostForm("/seances", url.Values{"title": {"Séance des webhooks"}, "starts_at": {"2027-01-15T18:00"},
		"duration": {"120"}, "place": {"Mairie"}, idempotency.Field: {idempotency.NewKey()}})
	if resp.StatusCode != 303 {
		t.Fatalf("schedule: %d", resp.StatusCode)
	}
	path := resp.Header.Get("Location")
	resp, _ = fac.PostForm(path+"/modifier", url.Values{"title": {"Séance des webhooks"}, "starts_at": {"2027-01-16T18:00"},
		"duration": {"120"}, "place": {"Salle des fêtes"}})
	if resp.StatusCode != 303 {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	var rows []webhook.DeliveryRow
	if err := db.NewSelect().Model(&rows).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d deliveries, want 2 (scheduled, changed)", len(rows))
	}
	for i, place := range []string{"Mairie", "Salle des fêtes"} {
		var env struct {
			Type webhook.Event
			Data struct {
				Title, Place, URL string
				Sequence          int
			}
		}
		if err := json.Unmarshal([]byte(rows[i].Payload), &env); err != nil {
			t.Fatal(err)
		}
		if rows[i].Event != webhook.MeetingChanged || env.Type != webhook.MeetingChanged || env.Data.Place != place ||
			env.Data.Sequence != i || env.Data.URL != path {
			t.Errorf("delivery %d: %s %+v", i, rows[i].Event, env)
		}
	}
	var jobsQueued int
	if err := db.NewRaw("SELECT count(*) FROM river_job WHERE kind = 'webhook.deliver'").Scan(ctx, &jobsQueued); err != nil || jobsQueued != 2 {
		t.Errorf("%d delivery jobs queued (%v), want 2", jobsQueued, err)
	}
}
