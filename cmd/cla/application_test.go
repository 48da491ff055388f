package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"cla/app/apptest"
	"cla/governance/application"
	"cla/governance/assembly"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/mail/mailtest"
	"cla/internal/webtest"
)

// shopForm is a complete, valid application form.
func shopForm(name, siret string) url.Values {
	return url.Values{
		"shop_name": {name}, "kind": {"epicerie"}, "siret": {siret}, "address": {"3 rue des Écoles"},
		"commune": {"Dieulefit"}, "contact_name": {"Hélène Müller"}, "email": {"helene@epicerie.example"},
		"phone": {"04 75 46 00 00"}, "website": {"https://epicerie.example"}, "independent": {"oui"},
		"categories": {"fruits-et-legumes", "pain"}, "local_share": {"75"}, "organic_share": {"50"},
		"seasonality": {"Légumes d'été et d'hiver"}, "message": {"Bonjour, nous aimerions rejoindre la caisse."},
		"charter": {"oui"},
	}
}

var followLink = regexp.MustCompile(`^/candidature/([A-Za-z0-9_-]{43})\?envoyee=[123]$`)

// apply posts form as an anonymous shop and returns the follow-up path.
func apply(t *testing.T, c *webtest.Client, form url.Values) string {
	t.Helper()
	if resp, _ := c.Get("/devenir-point-de-vente"); resp.StatusCode != 200 {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	resp, body := c.PostForm("/devenir-point-de-vente", form)
	if resp.StatusCode != 303 {
		t.Fatalf("apply: %d %q", resp.StatusCode, regexp.MustCompile(`(?s)class="field-error"[^>]*>[^<]*`).FindAllString(body, -1))
	}
	loc := resp.Header.Get("Location")
	m := followLink.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("apply redirected to %q, want the follow-up link with a 256-bit token", loc)
	}
	return "/candidature/" + m[1]
}

func demoCouncil(t *testing.T, db *bun.DB) int64 {
	t.Helper()
	id := demoCouncilID(t, db)
	return id
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(body, w) {
			t.Errorf("%s shows %q", what, w)
		}
	}
}

// The whole path over HTTP: a shop applies, the facilitator asks it to
// complete, the shop answers and completes, the facilitator turns the
// application into a proposal, the council votes, and the shop is
// conventionné in the API and the directory while its page says "Acceptée".
func TestApplicationJourney(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	councilID := demoCouncil(t, db)
	shop := webtest.New(t, app)
	follow := apply(t, shop, shopForm("Épicerie des Remparts", testSIRET))

	resp, body := shop.Get(follow + "?envoyee=1")
	if resp.StatusCode != 200 {
		t.Fatalf("follow-up: %d", resp.StatusCode)
	}
	mustContain(t, "follow-up page", body, "Épicerie des Remparts", "Nouvelle", "gardez-le", follow, "version 1")
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("follow-up Cache-Control %q", cc)
	}
	// Only the token's hash is stored.
	var stored []byte
	if err := db.NewRaw("SELECT token_hash FROM shop_applications WHERE shop_name = 'Épicerie des Remparts'").Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 32 || bytes.Contains(stored, []byte(strings.TrimPrefix(follow, "/candidature/"))) {
		t.Errorf("stored token %x is not a hash", stored)
	}

	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	member, _ := webtest.SignIn(t, app, db, councilID, authz.Member)
	_, list := member.Get("/gestion/candidatures?etat=nouvelle")
	mustContain(t, "list of new applications", list, "Épicerie des Remparts", "Épicerie La Bonne Graine")
	var id int64
	if err := db.NewRaw("SELECT id FROM shop_applications WHERE shop_name = 'Épicerie des Remparts'").Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	detail := fmt.Sprintf("/gestion/candidatures/%d", id)
	if resp, _ := member.PostForm(detail+"/commentaires", url.Values{"body": {"Commentaire interne : vérifier le fournisseur de pain"}}); resp.StatusCode != 303 {
		t.Fatalf("comment: %d", resp.StatusCode)
	}
	if resp, _ := member.PostForm(detail+"/questions", url.Values{"body": {"Une question ?"}}); resp.StatusCode != 403 {
		t.Errorf("a member asked the shop a question: %d", resp.StatusCode)
	}
	if resp, _ := fac.PostForm(detail+"/questions", url.Values{"body": {"D'où vient votre pain ?"}, "a_completer": {"oui"}}); resp.StatusCode != 303 {
		t.Fatalf("question: %d", resp.StatusCode)
	}

	_, body = shop.Get(follow)
	mustContain(t, "follow-up page after the question", body, "À compléter", "D&#39;où vient votre pain ?", "Renvoyer ma candidature complétée")
	mustNotContain(t, "follow-up page", body, "Commentaire interne", "vérifier le fournisseur")
	if resp, _ := shop.PostForm(follow+"/reponse", url.Values{"body": {"Du Fournil des Comètes, au Poët-Laval."}}); resp.StatusCode != 303 {
		t.Fatalf("answer: %d", resp.StatusCode)
	}
	// Completing with a bad phone keeps everything typed, then a good one goes through.
	form := shopForm("Épicerie des Remparts", testSIRET)
	form.Set("phone", "pas de téléphone")
	form.Set("seasonality", "Toute l'année, pain tous les jours")
	resp, body = shop.PostForm(follow+"/completer", form)
	if resp.StatusCode != 422 {
		t.Fatalf("completion with a bad phone: %d", resp.StatusCode)
	}
	mustContain(t, "completion re-rendered", body, "numéro de téléphone n&#39;est pas valide", "pas de téléphone", "Toute l&#39;année, pain tous les jours")
	form.Set("phone", "04 75 46 11 11")
	if resp, _ := shop.PostForm(follow+"/completer", form); resp.StatusCode != 303 {
		t.Fatalf("completion: %d", resp.StatusCode)
	}
	_, body = shop.Get(follow)
	mustContain(t, "follow-up after completion", body, "En examen", "Du Fournil des Comètes", "04 75 46 11 11")

	_, body = fac.Get(detail)
	mustContain(t, "council's detail", body, "Commentaire interne", "Réponse du point de vente", "Adhésion d&#39;Épicerie des Remparts (Dieulefit)")

	// The council sets six-month conventions, then the facilitator proposes.
	if resp, _ := fac.PostForm("/gestion/charte/duree", url.Values{"renewal_months": {"6"}}); resp.StatusCode != 303 {
		t.Fatalf("renewal months: %d", resp.StatusCode)
	}
	draft := application.DraftProposal(&application.Application{ShopName: "Épicerie des Remparts", Commune: "Dieulefit"}, nil)
	resp, _ = fac.PostForm(detail+"/proposition", url.Values{"title": {draft.Title}, "outcome": {draft.Outcome}, "rationale": {"Épicerie **locale**."}})
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/propositions/") {
		t.Fatalf("propose: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	proposal := strings.SplitN(strings.TrimPrefix(resp.Header.Get("Location"), "/propositions/"), "?", 2)[0]
	if resp, _ := fac.PostForm(detail+"/proposition", url.Values{"title": {draft.Title}, "outcome": {draft.Outcome}}); resp.StatusCode != 409 {
		t.Errorf("second conversion: %d, want 409", resp.StatusCode)
	}
	_, body = shop.Get(follow)
	mustContain(t, "follow-up once proposed", body, "Proposée au vote")
	if _, api := shop.Get("/api/v1/shops"); !strings.Contains(api, `"candidat"`) || !strings.Contains(api, "Épicerie des Remparts") {
		t.Errorf("the candidate shop is not in the API: %.400s", api)
	}
	if resp, body := fac.PostForm("/propositions/"+proposal+"/etat", url.Values{"to": {"ouverte"}}); resp.StatusCode != 303 {
		t.Fatalf("publish proposal: %d %.300s", resp.StatusCode, body)
	}

	var pid int64
	fmt.Sscan(proposal, &pid)
	voteAdopt(t, db, councilID, pid)

	_, body = shop.Get(follow)
	mustContain(t, "follow-up after the vote", body, "Acceptée", "point de vente conventionné", "/points-de-vente/")
	mustNotContain(t, "follow-up after the vote", body, "Envoyer ma réponse")
	// The public data is cached; the register change's NOTIFY drops the cache
	// on every instance, shortly after the commit.
	var apiShop struct{ Status, SignedOn, RenewalOn string }
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, api := shop.Get("/api/v1/shops")
		var doc struct {
			Shops []struct {
				Name, Status string
				SignedOn     string `json:"signed_on"`
				RenewalOn    string `json:"renewal_on"`
			}
		}
		if err := json.Unmarshal([]byte(api), &doc); err != nil {
			t.Fatalf("api: %v", err)
		}
		for _, s := range doc.Shops {
			if s.Name == "Épicerie des Remparts" {
				apiShop.Status, apiShop.SignedOn, apiShop.RenewalOn = s.Status, s.SignedOn, s.RenewalOn
			}
		}
		if apiShop.Status == "conventionne" || time.Now().After(deadline) {
			break
		}
	}
	var got struct {
		Status    string
		SignedOn  time.Time
		RenewalOn time.Time
	}
	if err := db.NewRaw("SELECT status, signed_on, renewal_on FROM shops WHERE council_id = ? AND name = 'Épicerie des Remparts'", councilID).
		Scan(ctx, &got.Status, &got.SignedOn, &got.RenewalOn); err != nil {
		t.Fatal(err)
	}
	if got.Status != "conventionne" || !got.RenewalOn.Equal(got.SignedOn.AddDate(0, 6, 0)) {
		t.Errorf("shop after adoption: %+v (want conventionné, renewal six months after signature)", got)
	}
	if apiShop.Status != "conventionne" || apiShop.SignedOn != got.SignedOn.Format("2006-01-02") || apiShop.RenewalOn != got.RenewalOn.Format("2006-01-02") {
		t.Errorf("API shows the shop as %+v", apiShop)
	}
	_, dir := shop.Get("/points-de-vente")
	mustContain(t, "public directory", dir, "Épicerie des Remparts")
	_, list = fac.Get("/gestion/candidatures?etat=acceptee")
	mustContain(t, "accepted list", list, "Épicerie des Remparts")
	// The export carries the convention dates and the contact details.
	resp, csvBody := fac.Get("/gestion/points-de-vente/export.csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	mustContain(t, "export", csvBody, "Épicerie des Remparts", "helene@epicerie.example", "04 75 46 11 11", got.SignedOn.Format("2006-01-02"))
}

// voteAdopt puts the proposal to a vote in a running meeting where every member
// is present, everyone votes for, and the facilitator closes the vote.
func voteAdopt(t *testing.T, db *bun.DB, councilID, proposalID int64) {
	t.Helper()
	ctx := context.Background()
	var facID int64
	if err := db.NewRaw("SELECT account_id FROM memberships WHERE council_id = ? AND role = 'facilitator' ORDER BY account_id LIMIT 1", councilID).Scan(ctx, &facID); err != nil {
		t.Fatal(err)
	}
	fac := audit.Actor{AccountID: facID, Name: "Animatrice", Role: authz.Facilitator}
	start := time.Now().Add(-time.Hour)
	m := &assembly.Meeting{CouncilID: councilID, Title: "Séance des candidatures", StartsAt: start, EndsAt: start.Add(3 * time.Hour), Place: "Mairie"}
	if err := assembly.CreateMeeting(ctx, db, m); err != nil {
		t.Fatal(err)
	}
	if err := assembly.SetMeetingState(ctx, db, councilID, m.ID, assembly.MeetingOpen); err != nil {
		t.Fatal(err)
	}
	var members []int64
	if err := db.NewRaw("SELECT account_id FROM memberships WHERE council_id = ?", councilID).Scan(ctx, &members); err != nil {
		t.Fatal(err)
	}
	roll := map[int64]assembly.AttendanceStatus{}
	for _, id := range members {
		roll[id] = assembly.Present
	}
	if err := assembly.RecordAttendance(ctx, db, councilID, m.ID, roll); err != nil {
		t.Fatal(err)
	}
	item := &assembly.AgendaItem{CouncilID: councilID, MeetingID: m.ID, Kind: assembly.AgendaProposal, ProposalID: &proposalID}
	if err := assembly.AddAgendaItem(ctx, db, fac, item); err != nil {
		t.Fatal(err)
	}
	v := &assembly.Vote{CouncilID: councilID, MeetingID: m.ID, AgendaItemID: item.ID, Question: "Conventionner l'épicerie ?",
		Method: assembly.MethodMajority, Mode: assembly.ModeOnline, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast}
	if err := assembly.OpenVote(ctx, db, fac, v); err != nil {
		t.Fatal(err)
	}
	for _, id := range members {
		if err := assembly.CastBallot(ctx, db, councilID, v.ID, id, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
			t.Fatal(err)
		}
	}
	if _, d, err := assembly.CloseVote(ctx, db, councilID, v.ID, fac, assembly.CloseInput{}); err != nil || d == nil || d.Outcome != assembly.DecisionAdopted {
		t.Fatalf("close vote: %+v, %v", d, err)
	}
}

// Bad input: every field gets a French message next to it, nothing typed is
// lost, HTML is escaped, duplicates are refused, and a 5 MB message gets the
// French "too large" page.
func TestApplicationBadInput(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	c := webtest.New(t, app)
	c.Get("/devenir-point-de-vente")

	xss := `<script>alert("x")</script><b onmouseover=1>`
	bad := shopForm(xss+"Épicerie", badSIRET)
	for _, k := range []string{"address", "commune", "contact_name", "seasonality", "message", "network"} {
		bad.Set(k, xss+k)
	}
	bad.Set("independent", "non")
	bad.Set("email", "helene@"+xss)
	bad.Set("website", "javascript:"+xss)
	bad.Set("phone", xss)
	bad.Del("charter")
	resp, body := c.PostForm("/devenir-point-de-vente", bad)
	if resp.StatusCode != 422 {
		t.Fatalf("bad input: %d", resp.StatusCode)
	}
	mustContain(t, "re-rendered form", body,
		"la clé de contrôle ne correspond pas", "adresse électronique n&#39;est pas valide", "cochez la case qui l&#39;accepte",
		"numéro de téléphone n&#39;est pas valide", "doit commencer par https://",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b onmouseover=1&gt;Épicerie", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b onmouseover=1&gt;seasonality",
		`value="`+badSIRET+`"`, `value="fruits-et-legumes" checked`, `value="75" selected`)
	mustNotContain(t, "re-rendered form", body, `<script>alert`, `<b onmouseover`)

	// Independent chosen with a network name typed, and another error: the
	// name and the choice are both kept.
	ind := shopForm("Épicerie Indépendante", badSIRET)
	ind.Set("network", "Réseau tapé avant")
	resp, body = c.PostForm("/devenir-point-de-vente", ind)
	if resp.StatusCode != 422 || !strings.Contains(body, `value="Réseau tapé avant"`) || !strings.Contains(body, `value="oui" checked`) {
		t.Errorf("independent with a network typed: %d %q", resp.StatusCode, regexp.MustCompile(`<input type="(radio|text)" (name="independent"|id="network")[^>]*>`).FindAllString(body, -1))
	}

	// Beyond a field's limit but within the body limit: a message on that field, text kept.
	long := shopForm("Épicerie Longue", "")
	long.Set("kind", "marche") // SIRET optional for a market
	long.Set("message", strings.Repeat("é", 6000))
	resp, body = c.PostForm("/devenir-point-de-vente", long)
	if resp.StatusCode != 422 {
		t.Fatalf("long message: %d", resp.StatusCode)
	}
	mustContain(t, "long message", body, "Le message ne doit pas dépasser 5000 caractères (actuellement 6000)", strings.Repeat("é", 6000))

	// 5 MB: above the app's 1 MiB body limit, a French page. The server
	// answers as soon as it reads the announced length, over a real connection
	// (in a browser the textarea's maxlength stops such a message earlier).
	huge := shopForm("Épicerie Énorme", testSIRET)
	huge.Set("message", strings.Repeat("a", 5<<20))
	huge.Set("_csrf", c.CSRFToken())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /devenir-point-de-vente HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", len(huge.Encode()))
	hr, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	if hr.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(hb), "Envoi trop volumineux") || !strings.Contains(string(hb), "Raccourcissez") {
		t.Fatalf("5 MB message: %d %.300s", hr.StatusCode, hb)
	}

	// A second application while the first is pending: refused, with a message.
	apply(t, c, shopForm("Épicerie des Remparts", testSIRET))
	resp, body = c.PostForm("/devenir-point-de-vente", shopForm("Autre nom", testSIRET))
	if resp.StatusCode != 422 || !strings.Contains(body, "Une candidature pour ce SIRET est déjà en cours") {
		t.Errorf("same SIRET: %d", resp.StatusCode)
	}
	resp, body = c.PostForm("/devenir-point-de-vente", shopForm("épicerie des remparts", siretN(7)))
	if resp.StatusCode != 422 || !strings.Contains(body, "Une candidature au même nom dans la même commune") {
		t.Errorf("same name and commune: %d", resp.StatusCode)
	}

	// The honeypot: refused, with everything kept.
	hp := shopForm("Robot", "")
	hp.Set("site_internet_bis", "http://spam.example")
	resp, body = c.PostForm("/devenir-point-de-vente", hp)
	if resp.StatusCode != 422 || !strings.Contains(body, "envoi automatique") || !strings.Contains(body, `value="Robot"`) {
		t.Errorf("honeypot: %d", resp.StatusCode)
	}
}

// The rate limit counts sent applications per client address in PostgreSQL.
func TestApplicationRateLimit(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	c := webtest.New(t, app)
	for i := 0; i < application.ApplyLimit; i++ {
		apply(t, c, shopForm(fmt.Sprintf("Épicerie %d", i), siretN(i)))
	}
	// A valid form: an invalid one is refused for its errors first (a typo
	// costs no slot).
	resp, body := c.PostForm("/devenir-point-de-vente", shopForm("Épicerie de trop", siretN(application.ApplyLimit)))
	if resp.StatusCode != 429 || !strings.Contains(body, "Trop de candidatures") || !strings.Contains(body, "Épicerie de trop") {
		t.Errorf("over the limit: %d %.300s", resp.StatusCode, body)
	}
}

// testSIRET is a valid SIRET (not the demo application's); badSIRET is it
// with a wrong key.
var testSIRET = siretN(999)

var badSIRET = testSIRET[:13] + string('0'+(testSIRET[13]-'0'+1)%10)

// siretN returns a valid SIRET differing per n (Luhn key computed).
func siretN(n int) string {
	base := fmt.Sprintf("1234567800%03d", n)
	for d := 0; d <= 9; d++ {
		s := base + fmt.Sprint(d)
		if application.ValidSIRET(s) {
			return s
		}
	}
	return ""
}

// The follow-up page of one application cannot be reached with another's
// token, a guessed token, from another council's host, or by another
// council's facilitator on the council's side.
func TestApplicationFollowUpIsPrivate(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	a := webtest.New(t, app)
	b := webtest.New(t, app)
	followA := apply(t, a, shopForm("Épicerie Alpha", testSIRET))
	followB := apply(t, b, shopForm("Épicerie Bêta", siretN(5)))
	if _, body := b.Get(followB); !strings.Contains(body, "Épicerie Bêta") || strings.Contains(body, "Alpha") {
		t.Fatal("B's page does not show B's application only")
	}
	// B cannot answer or complete on A's page with its own token.
	if resp, _ := b.PostForm(followB+"/reponse", url.Values{"body": {"réponse de B"}}); resp.StatusCode != 303 {
		t.Fatalf("B answers its own: %d", resp.StatusCode)
	}
	if _, body := a.Get(followA); strings.Contains(body, "réponse de B") {
		t.Error("B's answer shows on A's page")
	}
	tokenA := strings.TrimPrefix(followA, "/candidature/")
	for _, guess := range []string{
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		tokenA[:42] + map[bool]string{true: "B", false: "A"}[tokenA[42] == 'A'],
		tokenA[:22],
		"1", strings.Repeat("x", 200),
	} {
		if resp, _ := b.Get("/candidature/" + guess); resp.StatusCode != 404 {
			t.Errorf("guessed token %q: %d", guess, resp.StatusCode)
		}
		if resp, _ := b.PostForm("/candidature/"+guess+"/reponse", url.Values{"body": {"x"}}); resp.StatusCode != 404 {
			t.Errorf("answer with guessed token %q: %d", guess, resp.StatusCode)
		}
	}
	// Another council.
	var other int64
	if err := db.NewRaw(`WITH c AS (INSERT INTO councils (slug, name) VALUES ('conseil-b', 'Conseil B') RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT 'b.test', id FROM c RETURNING council_id`).Scan(ctx, &other); err != nil {
		t.Fatal(err)
	}
	a.Host = "b.test"
	if resp, _ := a.Get(followA); resp.StatusCode != 404 {
		t.Errorf("A's token on council B's host: %d", resp.StatusCode)
	}
	a.Host = ""
	facB, _ := webtest.SignIn(t, app, db, other, authz.Facilitator)
	facB.Host = webtest.HostFor(t, db, demoCouncil(t, db))
	var id int64
	if err := db.NewRaw("SELECT id FROM shop_applications WHERE shop_name = 'Épicerie Alpha'").Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := facB.Get(fmt.Sprintf("/gestion/candidatures/%d", id)); resp.StatusCode != 403 {
		t.Errorf("council B's facilitator on A's application: %d", resp.StatusCode)
	}
	facB.Host = "b.test"
	if resp, _ := facB.Get(fmt.Sprintf("/gestion/candidatures/%d", id)); resp.StatusCode != 404 {
		t.Errorf("A's application from council B: %d", resp.StatusCode)
	}
	if _, body := facB.Get("/gestion/candidatures"); strings.Contains(body, "Épicerie Alpha") {
		t.Error("council B's list shows council A's application")
	}
}

// The export round-trips through encoding/csv with accents intact.
func TestShopExportRoundTrip(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	councilID := demoCouncil(t, db)
	shop := webtest.New(t, app)
	form := shopForm(`Épicerie "Chez Zoé", l'Œuf & Cie`, testSIRET)
	form.Set("address", "Place de l'Église\nBâtiment B; 2e étage")
	apply(t, shop, form)
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	var id int64
	if err := db.NewRaw("SELECT id FROM shop_applications WHERE siret = ?", testSIRET).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	if resp, _ := fac.PostForm(fmt.Sprintf("/gestion/candidatures/%d/proposition", id), url.Values{"title": {"Adhésion de Chez Zoé"}, "outcome": {"Conventionner."}}); resp.StatusCode != 303 {
		t.Fatalf("propose: %d", resp.StatusCode)
	}
	resp, body := fac.Get("/gestion/points-de-vente/export.csv")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != strings.Join(application.ExportHeader, ",") {
		t.Errorf("header %v", records[0])
	}
	var found []string
	for _, r := range records[1:] {
		if len(r) != len(application.ExportHeader) {
			t.Fatalf("record with %d fields: %v", len(r), r)
		}
		if r[9] == testSIRET {
			found = r
		}
		if r[1] == "Fournil des Comètes" && (r[10] != "conventionne" || r[11] != "Conventionné" || r[12] == "") {
			t.Errorf("demo shop %v", r)
		}
	}
	want := []string{`Épicerie "Chez Zoé", l'Œuf & Cie`, "Épicerie", "Place de l'Église\nBâtiment B; 2e étage", "Dieulefit", "FR",
		"helene@epicerie.example", "04 75 46 00 00", "https://epicerie.example", testSIRET, "candidat", "Candidat", "", "", "non"}
	if found == nil || strings.Join(found[1:], "|") != strings.Join(want, "|") {
		t.Errorf("exported record\n got %q\nwant %q", found, want)
	}
	if !strings.Contains(body, "\r\n") {
		t.Error("records are not CRLF-terminated (RFC 4180)")
	}
	if resp, _ := webtest.New(t, app).Get("/gestion/points-de-vente/export.csv"); resp.StatusCode != 303 {
		t.Errorf("anonymous export: %d", resp.StatusCode)
	}
}

// The renewals list shows conventions due within 60 days (and overdue ones),
// not later ones.
func TestRenewalsList(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	councilID := demoCouncil(t, db)
	set := func(slug string, days int) {
		if _, err := db.ExecContext(ctx, `UPDATE shops SET status = 'conventionne', signed_on = current_date - 300,
			renewal_on = current_date + ?::int WHERE council_id = ? AND slug = ?`, days, councilID, slug); err != nil {
			t.Fatal(err)
		}
	}
	set("marche-du-lavoir", 30)
	set("marche-de-pont-de-barret", 90)
	set("fournil-des-cometes", -5)
	member, _ := webtest.SignIn(t, app, db, councilID, authz.Member)
	resp, body := member.Get("/gestion/renouvellements")
	if resp.StatusCode != 200 {
		t.Fatalf("renewals: %d", resp.StatusCode)
	}
	mustContain(t, "renewals", body, "Marché du Lavoir", "Fournil des Comètes", "(échue)")
	mustNotContain(t, "renewals", body, "Marché de Pont de Barret")
	if i, j := strings.Index(body, "Fournil des Comètes"), strings.Index(body, "Marché du Lavoir"); i > j {
		t.Error("the overdue convention is not listed first")
	}
}

// The charter is versioned: a new version applies to new applications, an
// application keeps the version it accepted, and a bad text is refused with
// what was typed kept.
func TestCharterVersions(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	councilID := demoCouncil(t, db)
	shop := webtest.New(t, app)
	apply(t, shop, shopForm("Épicerie Première", testSIRET))
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	resp, body := fac.PostForm("/gestion/charte", url.Values{"title": {"Charte <b>v2</b>"}, "body": {"trop court"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "entre 20 et 20 000 caractères") || !strings.Contains(body, "Charte &lt;b&gt;v2&lt;/b&gt;") {
		t.Fatalf("short charter: %d", resp.StatusCode)
	}
	text := "Je m'engage à afficher la liste des produits conventionnés <script>alert(1)</script> et à **séparer les deux paniers**."
	if resp, _ := fac.PostForm("/gestion/charte", url.Values{"title": {"Charte d'engagement 2027"}, "body": {text}}); resp.StatusCode != 303 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	_, body = shop.Get("/charte")
	mustContain(t, "public charter", body, "Charte d&#39;engagement 2027", "Version 2", "<strong>séparer les deux paniers</strong>")
	mustNotContain(t, "public charter", body, "<script>alert(1)")
	_, body = shop.Get("/devenir-point-de-vente")
	mustContain(t, "form", body, "(version 2)")
	follow := apply(t, shop, shopForm("Épicerie Seconde", siretN(3)))
	_, body = shop.Get(follow)
	mustContain(t, "follow-up", body, "charte d'engagement version 2 acceptée le")
	var versions []int
	if err := db.NewRaw("SELECT charter_version FROM shop_applications WHERE council_id = ? AND demo_key IS NULL ORDER BY id", councilID).Scan(ctx, &versions); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(versions) != "[1 2]" {
		t.Errorf("accepted versions %v, want [1 2]", versions)
	}
}

// HTML typed in every field of a valid application is shown as text to the
// shop and to the council.
func TestApplicationHTMLIsEscaped(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	councilID := demoCouncil(t, db)
	shop := webtest.New(t, app)
	xss := `<img src=x onerror=alert(1)>`
	form := shopForm("Épicerie "+xss, testSIRET)
	for _, k := range []string{"address", "commune", "contact_name", "seasonality", "message", "network"} {
		form.Set(k, k+" "+xss)
	}
	form.Set("independent", "non")
	follow := apply(t, shop, form)
	_, body := shop.Get(follow)
	mustNotContain(t, "follow-up", body, "<img src=x")
	mustContain(t, "follow-up", body, "Épicerie &lt;img src=x onerror=alert(1)&gt;", "message &lt;img")
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	_, list := fac.Get("/gestion/candidatures")
	mustNotContain(t, "council list", list, "<img src=x")
	var id int64
	if err := db.NewRaw("SELECT id FROM shop_applications WHERE siret = ?", testSIRET).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	_, body = fac.Get(fmt.Sprintf("/gestion/candidatures/%d", id))
	mustNotContain(t, "council detail", body, "<img src=x")
	mustContain(t, "council detail", body, "network &lt;img src=x onerror=alert(1)&gt;")
}

// With SMTP configured, the shop also gets its follow-up link by mail: the
// receipt is a job enqueued with the application (governance/notify sends
// it and its tests read it; TestApplicantMails), and the page says so.
func TestApplicationLinkIsMailedWhenSMTPIsConfigured(t *testing.T) {
	t.Parallel()
	_, db := newTestApp(t)
	srv := mailtest.Start(t, mailtest.Options{})
	app := apptest.New(t, db, (&Config{SMTPAddr: srv.Addr, SMTPFrom: "cla@example.org", BaseURL: "https://cla.example.org"}).App())
	shop := webtest.New(t, app)
	shop.Get("/devenir-point-de-vente")
	resp, _ := shop.PostForm("/devenir-point-de-vente", shopForm("Épicerie Postale", testSIRET))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.HasSuffix(loc, "?envoyee=2") {
		t.Fatalf("apply: %d %s", resp.StatusCode, loc)
	}
	follow := strings.TrimSuffix(loc, "?envoyee=2")
	_, body := shop.Get(loc)
	mustContain(t, "follow-up", body, "envoyons aussi ce lien par courriel, à helene@epicerie.example", follow)
	var queued int
	if err := db.NewRaw("SELECT count(*) FROM river_job WHERE kind = 'notify.application_received' AND args->>'link' = ?", follow).Scan(context.Background(), &queued); err != nil || queued != 1 {
		t.Errorf("receipt jobs queued: %d (%v)", queued, err)
	}
}

// Invalid posts count too: a robot looping on the form is stopped, and a
// person then keeps what they typed.
func TestApplicationAttemptLimit(t *testing.T) {
	t.Parallel()
	app, _ := newTestApp(t)
	c := webtest.New(t, app)
	c.Get("/devenir-point-de-vente")
	for i := 0; i < application.AttemptLimit; i++ {
		if resp, _ := c.PostForm("/devenir-point-de-vente", url.Values{"shop_name": {"x"}}); resp.StatusCode != 422 {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := c.PostForm("/devenir-point-de-vente", shopForm("Épicerie Patiente", testSIRET))
	if resp.StatusCode != 429 || !strings.Contains(body, "Trop de candidatures") || !strings.Contains(body, `value="Épicerie Patiente"`) {
		t.Errorf("over the attempt limit: %d", resp.StatusCode)
	}
}

// Issue 20, point 3: a second application whose name and commune differ only
// in case, accents, punctuation or "St" is a duplicate; the follow-up page
// shows the categories ticked; a refusal needs a reason, which the shop reads.
func TestApplicationDuplicatesRefusalAndFollowUp(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	councilID := demoCouncil(t, db)
	shop := webtest.New(t, app)
	form := shopForm("épicerie le panier drômois", "")
	form.Set("commune", "Saint-Paul-Trois-Châteaux")
	form.Set("kind", "marche") // no SIRET needed: only the names tell the duplicate
	follow := apply(t, shop, form)

	dup := shopForm("EPICERIE LE PANIER-DRÔMOIS.", "")
	dup.Set("commune", "st paul trois chateaux")
	dup.Set("kind", "marche")
	other := webtest.New(t, app)
	if resp, _ := other.Get("/devenir-point-de-vente"); resp.StatusCode != 200 {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	resp, body := other.PostForm("/devenir-point-de-vente", dup)
	if resp.StatusCode != 422 || !strings.Contains(body, "Une candidature au même nom dans la même commune est déjà en cours") ||
		!strings.Contains(body, "EPICERIE LE PANIER-DRÔMOIS.") {
		t.Errorf("folded duplicate: %d", resp.StatusCode)
	}

	_, body = shop.Get(follow)
	mustContain(t, "follow-up page", body, `data-testid="followup-categories"`, "Fruits &amp; légumes", "Pain")

	var id int64
	if err := db.NewRaw("SELECT id FROM shop_applications WHERE shop_name = 'épicerie le panier drômois'").Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	detail := fmt.Sprintf("/gestion/candidatures/%d", id)
	fac, _ := webtest.SignIn(t, app, db, councilID, authz.Facilitator)
	resp, body = fac.PostForm(detail+"/etat", url.Values{"state": {"refusee"}, "reason": {"   "}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Donnez la raison du refus") || !strings.Contains(body, `name="reason"`) {
		t.Fatalf("refusal without a reason: %d", resp.StatusCode)
	}
	if resp, _ := fac.PostForm(detail+"/etat", url.Values{"state": {"refusee"}, "reason": {"Vos produits viennent surtout de loin."}}); resp.StatusCode != 303 {
		t.Fatalf("refusal: %d", resp.StatusCode)
	}
	_, body = shop.Get(follow)
	mustContain(t, "follow-up page after the refusal", body, "Refusée", `data-testid="refusal-reason"`, "Vos produits viennent surtout de loin.")
}
