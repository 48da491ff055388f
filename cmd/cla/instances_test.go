package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/demo/scalegen"
	"cla/governance/assembly"
	"cla/internal/database"
	"cla/internal/testdb"
)

// browser is a real HTTP client with a cookie jar: cookies do not depend on
// the port, so one browser talks to several instances as it would through a
// load balancer.
type browser struct {
	t      testing.TB
	client *http.Client
	csrf   string
	// ip, when set, is sent as X-Forwarded-For: the browser's own address
	// behind the load balancer (the instances trust 127.0.0.1 as a proxy).
	ip string
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns status and body (status 0 and the error text
// when the connection failed).
func (b *browser) do(method, u string, form url.Values) (int, string) {
	var body io.Reader
	if form != nil {
		if form.Get("_csrf") == "" && b.csrf != "" {
			form.Set("_csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.ip != "" {
		req.Header.Set("X-Forwarded-For", b.ip)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(data)); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return resp.StatusCode, string(data)
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// signIn signs in through base's /connexion form.
func (b *browser) signIn(base, email, password string) {
	b.t.Helper()
	if code, _ := b.do(http.MethodGet, base+"/connexion", nil); code != http.StatusOK {
		b.t.Fatalf("GET /connexion: %d", code)
	}
	if code, body := b.do(http.MethodPost, base+"/connexion", url.Values{"email": {email}, "password": {password}}); code != http.StatusSeeOther {
		b.t.Fatalf("sign-in as %s: status %d %.200q", email, code, body)
	}
}

// listen serves app on a loopback port until the test ends.
func listen(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// scaleMember is the e-mail of the k-th generated member (1-based) of the
// default generated council; 1 is its admin, 2 and 3 facilitators.
func scaleMember(k int) string { return fmt.Sprintf("membre-cla-001-%d@scale.example.org", k) }

// TestTwoInstances runs two app instances (two pools, two listeners) over one
// database: a session opened on one continues on the other; ballots cast
// through both are all counted, once; a register correction made through one
// reaches the other's cache within a second.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.URL(t)
	var dbs [2]*bun.DB
	var bases [2]string
	for i := range dbs {
		db, err := database.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
		if i == 0 {
			if _, err := scalegen.Generate(ctx, db, 0.01, 1, nil); err != nil {
				t.Fatal(err)
			}
		}
		// Behind a load balancer: its address is a trusted proxy, so that the
		// rate limits count each browser's own address.
		app := apptest.New(t, db, (&Config{TrustedProxies: []string{"127.0.0.1"}}).App())
		bases[i] = listen(t, app)
	}
	a, b := bases[0], bases[1]

	// 1. Signed in on A, the member continues on B (and back).
	br := newBrowser(t)
	br.signIn(a, scaleMember(5), scalegen.Password)
	code, body := br.do(http.MethodGet, b+"/compte", nil)
	if code != http.StatusOK || !strings.Contains(body, "membre-cla-001-5@scale.example.org") {
		t.Fatalf("B does not know A's session: GET /compte %d", code)
	}
	if code, _ := br.do(http.MethodPost, b+"/deconnexion", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("sign-out on B: %d", code)
	}
	if code, _ := br.do(http.MethodGet, a+"/compte", nil); code == http.StatusOK {
		t.Fatal("A still accepts the session signed out on B")
	}

	// 2. Ballots through both instances, concurrently; each member votes on
	// one instance then changes the ballot on the other.
	var voteID int64
	if err := dbs[0].NewRaw(`SELECT min(v.id) FROM votes v JOIN meetings m ON m.id = v.meeting_id
		WHERE m.state = 'en_cours' AND m.council_id = (SELECT id FROM councils WHERE is_default) `).Scan(ctx, &voteID); err != nil {
		t.Fatal(err)
	}
	before := map[int64]string{}
	var rows []struct {
		MemberID int64  `bun:"member_id"`
		Choice   string `bun:"choice"`
	}
	if err := dbs[0].NewRaw("SELECT member_id, choice FROM ballots WHERE vote_id = ?", voteID).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		before[r.MemberID] = r.Choice
	}
	choices := []string{"pour", "contre", "abstention"}
	const voters = 24
	final := make([]string, voters+1)
	var wg sync.WaitGroup
	for k := 1; k <= voters; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			// 24 sign-ins at the same instant from one address would exceed
			// its limit (20 attempts a minute, in progress included): each
			// member has their own address, as in real life.
			br := newBrowser(t)
			br.ip = fmt.Sprintf("198.51.100.%d", k)
			first, second := bases[k%2], bases[(k+1)%2]
			br.signIn(first, scaleMember(k), scalegen.Password)
			vote := fmt.Sprintf("/votes/%d", voteID)
			br.do(http.MethodGet, first+vote, nil) // the ballot form's CSRF token
			c1, c2 := choices[k%3], choices[(k+1)%3]
			if code, body := br.do(http.MethodPost, first+vote+"/bulletin", url.Values{"choice": {c1}}); code != http.StatusSeeOther {
				t.Errorf("member %d, first ballot: %d %.200q", k, code, body)
			}
			if code, _ := br.do(http.MethodPost, second+vote+"/bulletin", url.Values{"choice": {c2}}); code != http.StatusSeeOther {
				t.Errorf("member %d, changed ballot on the other instance: %d", k, code)
			}
			final[k] = c2
		}(k)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := map[string]int{}
	var accounts []struct {
		ID    int64  `bun:"id"`
		Email string `bun:"email"`
	}
	if err := dbs[1].NewRaw("SELECT id, email FROM accounts WHERE email LIKE 'membre-cla-001-%'").Scan(ctx, &accounts); err != nil {
		t.Fatal(err)
	}
	byEmail := map[string]int64{}
	for _, acc := range accounts {
		byEmail[acc.Email] = acc.ID
	}
	expected := map[int64]string{}
	for id, c := range before {
		expected[id] = c
	}
	for k := 1; k <= voters; k++ {
		expected[byEmail[scaleMember(k)]] = final[k]
	}
	for _, c := range expected {
		want[c]++
	}
	// The facilitator closes the vote through B; the stored tally counts
	// every ballot once.
	fac := newBrowser(t)
	fac.signIn(a, scaleMember(2), scalegen.Password)
	fac.do(http.MethodGet, fmt.Sprintf("%s/votes/%d", b, voteID), nil)
	if code, body := fac.do(http.MethodPost, fmt.Sprintf("%s/votes/%d/cloture", b, voteID),
		url.Values{"adjourn": {"1"}, "motivation": {"Clôture du test à deux instances."}}); code != http.StatusSeeOther {
		t.Fatalf("close through B: %d %.300q", code, body)
	}
	var tally assembly.VoteTally
	var raw []byte
	var count int
	if err := dbs[0].NewRaw("SELECT tally, ballot_count FROM votes WHERE id = ?", voteID).Scan(ctx, &raw, &count); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &tally); err != nil {
		t.Fatal(err)
	}
	if count != len(expected) || tally.Ballots != len(expected) || tally.For != want["pour"] || tally.Against != want["contre"] || tally.Abstain != want["abstention"] {
		t.Errorf("tally %+v (count %d), want %v over %d ballots", tally, count, want, len(expected))
	}
	var dup int
	if err := dbs[0].NewRaw("SELECT count(*) FROM (SELECT member_id FROM ballots WHERE vote_id = ? GROUP BY member_id HAVING count(*) > 1) x", voteID).Scan(ctx, &dup); err != nil || dup != 0 {
		t.Errorf("members with two ballots: %d (%v)", dup, err)
	}

	// 3. A wording correction through A reaches B's cached register page
	// within a second.
	anon := newBrowser(t)
	if code, body := anon.do(http.MethodGet, b+"/registre", nil); code != http.StatusOK || !strings.Contains(body, "catégorie 1") {
		t.Fatalf("B /registre: %d", code)
	}
	admin := newBrowser(t)
	admin.signIn(a, scaleMember(1), scalegen.Password)
	admin.do(http.MethodGet, a+"/gestion/registre/categorie-1-1", nil)
	newName := "Catégorie renommée par l'instance A"
	if code, body := admin.do(http.MethodPost, a+"/gestion/registre/categorie-1-1", url.Values{"name": {newName}, "explanation": {""}}); code != http.StatusSeeOther {
		t.Fatalf("correction through A: %d %.300q", code, body)
	}
	changed := time.Now()
	for {
		_, body := anon.do(http.MethodGet, b+"/registre", nil)
		if strings.Contains(body, html.EscapeString(newName)) {
			t.Logf("B served the correction %s after A saved it", time.Since(changed).Round(time.Millisecond))
			break
		}
		if time.Since(changed) > time.Second {
			t.Fatal("B still serves the old register page one second after the correction through A")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
