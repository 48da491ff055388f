package assembly_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/catalog"
	"cla/demo"
	"cla/governance/assembly"
	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/web"
	"cla/internal/webtest"
)

func location(t *testing.T, res *http.Response, body string) string {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; body: %.600s", res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	if i := strings.IndexByte(loc, '?'); i >= 0 {
		loc = loc[:i]
	}
	return loc
}

func idOf(t *testing.T, path string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(path[strings.LastIndexByte(path, '/')+1:], 10, 64)
	if err != nil {
		t.Fatalf("no id in %q", path)
	}
	return id
}

// The whole journey over HTTP: schedule, build the agenda, take the roll, open a
// vote, three members vote, close; the register moves to a new version (new
// ETag), the Atom feed and the minutes show the decision, the calendar parses.
func TestMeetingJourney(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	app := apptest.New(t, db, app.Config{})
	fac, facID := webtest.SignIn(t, app, db, co.ID, authz.Facilitator)
	voters := make([]*webtest.Client, 3)
	voterIDs := make([]int64, 3)
	for i := range voters {
		voters[i], voterIDs[i] = webtest.SignIn(t, app, db, co.ID, authz.Member)
	}
	anon := webtest.New(t, app)

	// An open proposal to conventionner Camargue rice.
	item, err := catalog.ItemBySlug(ctx, db, co.ID, "riz-de-camargue")
	if err != nil {
		t.Fatal(err)
	}
	var pid int64
	if err := db.NewRaw(`INSERT INTO proposals (council_id, kind, state, title, target_item_id, proposed_status, outcome, author_name)
		VALUES (?, 'item_status', 'ouverte', 'Conventionner le riz de Camargue', ?, 'conventionne', 'Le riz de Camargue devient conventionné.', 'Test')
		RETURNING id`, co.ID, item.ID).Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}

	// Members cannot schedule; the facilitator can.
	start := time.Now().In(web.Paris()).Add(time.Hour).Format("2006-01-02T15:04")
	form := url.Values{"title": {"Séance de décembre"}, "starts_at": {start}, "duration": {"120"}, "place": {"Salle Bel Air, Dieulefit"}}
	if res, _ := voters[0].PostForm("/seances", form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("member scheduling: %d", res.StatusCode)
	}
	res, body := fac.PostForm("/seances", form)
	mpath := location(t, res, body)
	mid := idOf(t, mpath)

	// A change of place reaches calendars as a new SEQUENCE.
	res, body = fac.PostForm(mpath+"/modifier", url.Values{"title": {"Séance de décembre"}, "starts_at": {start}, "duration": {"150"}, "place": {"Salle Bel Air, Dieulefit"}})
	location(t, res, body)
	if _, body = anon.Get("/meetings.ics"); !strings.Contains(body, "SEQUENCE:1\r\n") || !strings.Contains(body, "LOCATION:Salle Bel Air\\, Dieulefit") {
		t.Fatalf("calendar after the change:\n%s", body)
	}
	res, body = fac.PostForm(mpath+"/ordre-du-jour", url.Values{"kind": {"proposal"}, "ref": {strconv.FormatInt(pid, 10)}})
	location(t, res, body)
	res, body = fac.PostForm(mpath+"/ordre-du-jour", url.Values{"kind": {"free"}, "title": {"Questions diverses"}})
	location(t, res, body)
	p, err := proposal.GetProposal(ctx, db, co.ID, pid)
	if err != nil || p.State != proposal.ProposalScheduled {
		t.Fatalf("proposal after scheduling: %v %v", p.State, err)
	}
	res, body = fac.PostForm(mpath+"/etat", url.Values{"to": {"en_cours"}})
	location(t, res, body)
	roll := url.Values{"m" + strconv.FormatInt(facID, 10): {"present"}}
	for _, id := range voterIDs {
		roll.Set("m"+strconv.FormatInt(id, 10), "present")
	}
	res, body = fac.PostForm(mpath+"/appel", roll)
	location(t, res, body)
	// The demo council has more members than are here: a quorum of three present.
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 3}); err != nil {
		t.Fatal(err)
	}
	res, body = fac.Get(mpath)
	if res.StatusCode != 200 || !strings.Contains(body, "Conventionner le riz de Camargue") || !strings.Contains(body, "4 présent·es") {
		t.Fatalf("meeting page: %d %.2000s", res.StatusCode, body)
	}
	agenda, err := assembly.Agenda(ctx, db, co.ID, mid)
	if err != nil || len(agenda) != 2 || agenda[0].Kind != assembly.AgendaProposal {
		t.Fatalf("agenda: %+v %v", agenda, err)
	}

	res, body = fac.PostForm(mpath+"/votes", url.Values{"item": {strconv.FormatInt(agenda[0].ID, 10)},
		"question": {"Conventionner le riz de Camargue ?"}, "method": {"majorite"}, "threshold": {"exprimes"},
		"mode": {"en_ligne"}, "secrecy": {"anonyme"}})
	vpath := location(t, res, body)

	choices := []string{"pour", "pour", "contre"}
	for i, c := range voters {
		res, body = c.PostForm(vpath+"/bulletin", url.Values{"choice": {"contre"}})
		location(t, res, body)
		res, body = c.PostForm(vpath+"/bulletin", url.Values{"choice": {choices[i]}}) // changed before the close
		location(t, res, body)
	}
	if res, _ := anon.PostForm(vpath+"/bulletin", url.Values{"choice": {"pour"}}); res.StatusCode < 400 {
		t.Fatalf("anonymous ballot: %d", res.StatusCode)
	}
	// Results stay hidden until the close.
	if _, body = voters[0].Get(vpath); !strings.Contains(body, "Les résultats seront publiés à la clôture") || strings.Contains(body, "Résultat :") {
		t.Fatalf("open vote page shows results: %.1500s", body)
	}

	res, _ = anon.Get("/api/v1/register")
	etag := res.Header.Get("ETag")
	res, body = fac.PostForm(vpath+"/cloture", url.Values{"motivation": {"Produit de base, **complète le panier**."}})
	dpath := location(t, res, body)
	if !strings.HasPrefix(dpath, "/decisions/") {
		t.Fatalf("close redirected to %s", dpath)
	}
	if res, _ := voters[1].PostForm(vpath+"/bulletin", url.Values{"choice": {"pour"}}); res.StatusCode != http.StatusConflict {
		t.Fatalf("ballot after close: %d", res.StatusCode)
	}
	// An anonymous vote never shows who voted what.
	if res, body := voters[0].Get(vpath); res.StatusCode != 200 || strings.Contains(body, "Bulletins nominatifs") || !strings.Contains(body, "Résultat : Adopté") {
		t.Fatalf("closed anonymous vote page: %d %.2000s", res.StatusCode, body)
	}

	res, body = anon.Get(dpath)
	if res.StatusCode != 200 || !containsAll(body, "Adoptée : Conventionner le riz de Camargue", "Version 2", "<strong>complète le panier</strong>", "2 pour, 1 contre") {
		t.Fatalf("decision page: %d %.3000s", res.StatusCode, body)
	}
	// The register cache reloads on the NOTIFY sent at commit: give it a moment.
	for i := 0; i < 30; i++ {
		if res, body = anon.Get("/api/v1/register"); res.Header.Get("ETag") != etag {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.Header.Get("ETag") == etag || !strings.Contains(body, `"riz-de-camargue"`) {
		t.Fatalf("register ETag %q (was %q), status %d: %.300s", res.Header.Get("ETag"), etag, res.StatusCode, body)
	}
	it, _ := catalog.ItemBySlug(ctx, db, co.ID, "riz-de-camargue")
	if it.Status != catalog.Conventionne {
		t.Fatalf("item status %s", it.Status)
	}
	if p, _ := proposal.GetProposal(ctx, db, co.ID, pid); p.State != proposal.ProposalApplied {
		t.Fatalf("proposal state %s", p.State)
	}

	res, body = anon.Get("/decisions.atom")
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("atom: %v %s", err, res.Header.Get("Content-Type"))
	}
	if len(feed.Entries) == 0 || feed.Entries[0].Title != "Adoptée : Conventionner le riz de Camargue" || !strings.HasSuffix(feed.Entries[0].Link.Href, dpath) || feed.ID == "" {
		t.Fatalf("atom entries: %+v", feed.Entries)
	}
	if _, err := time.Parse(time.RFC3339, feed.Entries[0].Updated); err != nil {
		t.Fatal(err)
	}

	res, body = fac.PostForm(mpath+"/etat", url.Values{"to": {"close"}})
	location(t, res, body)
	if res, _ := anon.Get(mpath + "/compte-rendu"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("draft minutes public: %d", res.StatusCode)
	}
	res, body = voters[0].Get(mpath + "/compte-rendu")
	if res.StatusCode != 200 || !containsAll(body, "Brouillon", "Adoptée : Conventionner le riz de Camargue", "Registre version 2") {
		t.Fatalf("minutes draft: %d %.3000s", res.StatusCode, body)
	}

	// The calendar feed reads with a standard parser.
	res, body = anon.Get("/meetings.ics")
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("ics content type %s", res.Header.Get("Content-Type"))
	}
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ev := range cal.Events() {
		if ev.GetProperty(ics.ComponentPropertySummary).Value == "Séance de décembre" {
			found = true
			if u := ev.GetProperty(ics.ComponentPropertyUrl); u == nil || !strings.HasSuffix(u.Value, mpath) {
				t.Fatalf("event URL %v", u)
			}
			st, err := ev.GetStartAt()
			if err != nil || st.Format("2006-01-02T15:04") != start && st.In(web.Paris()).Format("2006-01-02T15:04") != start {
				t.Fatalf("event start %v %v, want %s Paris", st, err, start)
			}
		}
	}
	if !found {
		t.Fatalf("meeting missing from calendar:\n%s", body)
	}
	for _, line := range bytes.Split([]byte(body), []byte("\r\n")) {
		if len(line) > 75 {
			t.Fatalf("unfolded line of %d octets: %q", len(line), line)
		}
	}
}

// A meeting, its vote and its minutes belong to one council: another council's
// host answers 404, and its feeds do not list them.
func TestMeetingsStayInTheirCouncil(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil { // the default council
		t.Fatal(err)
	}
	b := newMeetingFixture(t, db, 3)
	if _, err := db.ExecContext(ctx, "INSERT INTO council_hosts (host, council_id) VALUES ('b.test', ?)", b.councilID); err != nil {
		t.Fatal(err)
	}
	b.meeting.Title = "Séance secrète du conseil B"
	if _, err := db.NewUpdate().Model(b.meeting).Column("title").WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	item := b.freeItem(t, "Point du conseil B")
	v := b.openVote(t, item, &assembly.Vote{Question: "Vote du conseil B ?", Method: assembly.MethodMajority, Secrecy: assembly.SecrecyNominal})
	for _, id := range b.members {
		if err := assembly.CastBallot(ctx, db, b.councilID, v.ID, id, &assembly.Ballot{Choice: assembly.ChoiceFor}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := assembly.CloseVote(ctx, db, b.councilID, v.ID, b.facilitator, assembly.CloseInput{}); err != nil {
		t.Fatal(err)
	}
	if err := assembly.SetMeetingState(ctx, db, b.councilID, b.meeting.ID, assembly.MeetingClosed); err != nil {
		t.Fatal(err)
	}
	app := apptest.New(t, db, app.Config{})
	onA := webtest.New(t, app) // the default council (the demo)
	onB := webtest.New(t, app)
	onB.Host = "b.test"
	mpath, vpath := assembly.MeetingPath(b.meeting.ID), "/votes/"+strconv.FormatInt(v.ID, 10)
	for _, path := range []string{mpath, vpath, mpath + "/convocation", mpath + "/dossier", mpath + "/compte-rendu"} {
		if res, _ := onA.Get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on council A: %d, want 404", path, res.StatusCode)
		}
	}
	if res, body := onB.Get(vpath); res.StatusCode != 200 || !containsAll(body, "Bulletins nominatifs", "Membre 01") {
		t.Fatalf("nominal vote on B: %d", res.StatusCode)
	}
	for _, path := range []string{"/meetings.ics", "/seances", "/decisions.atom"} {
		if _, body := onA.Get(path); strings.Contains(body, "conseil B") {
			t.Errorf("%s of council A lists council B's meeting", path)
		}
	}
	if _, body := onB.Get("/meetings.ics"); !strings.Contains(body, "Séance secrète du conseil B") {
		t.Error("council B's calendar misses its meeting")
	}
}

func TestRejectedScheduleFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	co, err := demo.Load(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	app := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, app, db, co.ID, authz.Facilitator)
	res, body := fac.PostForm("/seances", url.Values{"title": {"x"}, "starts_at": {"2026-12-09T18:30"}, "duration": {"95"},
		"place": {"Salle <b>des fêtes</b>"}, "note": {strings.Repeat("n", 2001)}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid schedule form: %d", res.StatusCode)
	}
	for _, want := range []string{`value="2026-12-09T18:30"`, `value="95"`, `value="Salle &lt;b&gt;des fêtes&lt;/b&gt;"`,
		`aria-describedby="title-error"`, `id="title-error"`, `aria-describedby="note-error"`, `id="note-error"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the re-rendered form lacks %s", want)
		}
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM meetings WHERE council_id = ? AND title = 'x'", co.ID).Scan(context.Background(), &n); err != nil || n != 0 {
		t.Errorf("a rejected meeting was stored (%d, %v)", n, err)
	}
}

// closeForm posts the in-room close form of vote v with counts and returns the
// status and body.
func closeForm(t *testing.T, fac *webtest.Client, v *assembly.Vote, counts url.Values) (int, string) {
	t.Helper()
	res, body := fac.PostForm("/votes/"+strconv.FormatInt(v.ID, 10)+"/cloture", counts)
	return res.StatusCode, body
}

// publishForm publishes the checked counts of an in-room vote.
func publishForm(t *testing.T, fac *webtest.Client, v *assembly.Vote) {
	t.Helper()
	path := "/votes/" + strconv.FormatInt(v.ID, 10)
	fac.Get(path)
	if res, body := fac.PostForm(path+"/publication", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publication: %d %.2000s", res.StatusCode, body)
	}
}

// voteState reads a vote's state and ballot count from the database.
func voteState(t *testing.T, db *bun.DB, id int64) (string, *int) {
	t.Helper()
	var st struct {
		State string `bun:"state"`
		N     *int   `bun:"ballot_count"`
	}
	if err := db.NewRaw("SELECT state, ballot_count FROM votes WHERE id = ?", id).Scan(context.Background(), &st); err != nil {
		t.Fatal(err)
	}
	return st.State, st.N
}

// In-room counts are required whole numbers between 0 and the members
// present, and so are their sums: anything else re-shows the close form (422)
// with the message beside its field and the counts as typed, and the vote
// stays open. Counts of a trillion (which once allocated terabytes) and sums
// that would overflow are refused the same way, at once.
func TestInRoomCountsAreCheckedOnTheForm(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 3) // 4 present: the facilitator and 3 members
	app := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, app, db, f.councilID, authz.Facilitator)
	item := f.freeItem(t, "À main levée")

	maj := f.openVote(t, item, &assembly.Vote{Question: "Adopter à main levée ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	if _, body := fac.Get("/votes/" + strconv.FormatInt(maj.ID, 10)); !containsAll(body, `name="pour"`, `max="4"`, "4 membres présents") {
		t.Fatalf("close form: %.3000s", body)
	}
	refused := []struct {
		form      url.Values
		field     string // the input whose message is expected ("" for the sum)
		message   string
		keepValue string
	}{
		{url.Values{"pour": {"1000000000000"}, "contre": {"0"}, "abstention": {"0"}}, "pour", "bien trop grand", "1000000000000"},
		{url.Values{"pour": {"9223372036854775807"}, "contre": {"9223372036854775807"}, "abstention": {"2"}}, "contre", "bien trop grand", "9223372036854775807"},
		{url.Values{"pour": {""}, "contre": {"1"}, "abstention": {"0"}}, "pour", "Saisissez un nombre (0 s&#39;il n&#39;y en a pas)", "1"},
		{url.Values{"contre": {"1"}, "abstention": {"0"}}, "pour", "Saisissez un nombre", "1"},
		{url.Values{"pour": {"-1"}, "contre": {"1"}, "abstention": {"0"}}, "pour", "positif ou nul", "-1"},
		{url.Values{"pour": {"2,5"}, "contre": {"1"}, "abstention": {"0"}}, "pour", "nombre entier", "2,5"},
		{url.Values{"pour": {"5"}, "contre": {"0"}, "abstention": {"0"}}, "pour", "Au plus 4 : le nombre de membres présents.", "5"},
		{url.Values{"pour": {"3"}, "contre": {"2"}, "abstention": {"0"}}, "", "Pour, contre et abstentions font 5 voix pour 4 membres présents.", "3"},
	}
	for _, r := range refused {
		start := time.Now()
		status, body := closeForm(t, fac, maj, r.form)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, r.message) {
			t.Fatalf("counts %v: %d, want 422 with %q; body %.3000s", r.form, status, r.message, body)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("counts %v took %v", r.form, time.Since(start))
		}
		if r.field != "" && !containsAll(body, `id="`+r.field+`-error"`, `aria-describedby="`+r.field+`-error"`) {
			t.Errorf("counts %v: no message beside %s", r.form, r.field)
		}
		if !strings.Contains(body, `value="`+r.keepValue+`"`) {
			t.Errorf("counts %v: the typed %q is not kept", r.form, r.keepValue)
		}
		if st, _ := voteState(t, db, maj.ID); st != assembly.VoteOpen {
			t.Fatalf("counts %v closed the vote", r.form)
		}
	}
	if status, _ := closeForm(t, fac, maj, url.Values{"pour": {"3"}, "contre": {" 1 "}, "abstention": {"0"}}); status != http.StatusSeeOther {
		t.Fatalf("valid counts: %d", status)
	}
	if st, n := voteState(t, db, maj.ID); st != assembly.VoteCounted || n == nil || *n != 4 {
		t.Fatalf("after valid counts: %s %v", st, n)
	}
	publishForm(t, fac, maj)
	if st, n := voteState(t, db, maj.ID); st != assembly.VoteClosed || n == nil || *n != 4 {
		t.Fatalf("after publication: %s %v", st, n)
	}

	// Majority judgment: every grade of every option, each option's total
	// within the members present.
	mj := f.openVote(t, item, &assembly.Vote{Question: "Quelle option ?", Method: assembly.MethodJudgment, Mode: assembly.ModeInRoom,
		Options: []assembly.VoteOption{{Label: "Conventionner"}, {Label: "Ne pas conventionner"}}})
	grades := func(set map[string]string) url.Values {
		form := url.Values{}
		for pos := 1; pos <= 2; pos++ {
			for g := boussole.ARejeter; g <= boussole.Excellent; g++ {
				form.Set(assembly.RoomCountField(pos, g), "0")
			}
		}
		for k, v := range set {
			if v == "-" {
				form.Del(k)
			} else {
				form.Set(k, v)
			}
		}
		return form
	}
	for _, r := range []struct {
		set     map[string]string
		message string
	}{
		{map[string]string{"o1g7": "1000000000000"}, "bien trop grand"},
		{map[string]string{"o1g7": "2147483647", "o1g6": "2147483647"}, "Au plus 4"},
		{map[string]string{"o1g1": "3", "o1g2": "3"}, "« Conventionner » reçoit 6 mentions pour 4 membres présents."},
		{map[string]string{"o2g4": "-"}, "Saisissez un nombre"},
	} {
		status, body := closeForm(t, fac, mj, grades(r.set))
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, r.message) {
			t.Fatalf("grades %v: %d, want 422 with %q; body %.3000s", r.set, status, r.message, body)
		}
		for k, v := range r.set {
			kept := `<input type="number" id="` + k + `" name="` + k + `" value="` + v + `" required min="0" max="4"`
			if v != "-" && !strings.Contains(body, kept) {
				t.Errorf("grades %v: %s=%s not kept", r.set, k, v)
			}
		}
	}
	if status, _ := closeForm(t, fac, mj, grades(map[string]string{"o1g6": "3", "o1g2": "1", "o2g3": "4"})); status != http.StatusSeeOther {
		t.Fatalf("valid grades: %d", status)
	}
	publishForm(t, fac, mj)
	closed, err := assembly.GetVote(context.Background(), db, f.councilID, mj.ID)
	if err != nil || closed.WinnerOption == nil || *closed.WinnerOption != 1 || closed.Count() != 4 {
		t.Fatalf("judgment in room: %v %+v", err, closed)
	}

	// Consent: the number of objections is required too.
	cs := f.openVote(t, item, &assembly.Vote{Question: "Consentez-vous ?", Method: assembly.MethodConsent, Mode: assembly.ModeInRoom})
	if status, body := closeForm(t, fac, cs, url.Values{"reasons": {"Trop cher"}}); status != http.StatusUnprocessableEntity ||
		!containsAll(body, `id="objections-error"`, "Trop cher</textarea>") {
		t.Fatalf("consent without a count: %d %.3000s", status, body)
	}
}

// Dates outside 2000–2099, durations beyond 12 hours (or typed as nonsense)
// and unknown option effects were stored or ended in a 500: each is now a
// 422 with the message beside its field, on the form as typed, and nothing
// changes.
func TestMeetingAndVoteFormsRefuseOutOfRangeInput(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 2)
	app := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, app, db, f.councilID, authz.Facilitator)
	schedule := func(start, duration string) url.Values {
		return url.Values{"title": {"Séance hors limites"}, "starts_at": {start}, "duration": {duration}, "place": {"Salle"}}
	}
	cases := []struct {
		start, duration, field, message string
	}{
		{"0001-01-01T00:00", "120", "starts_at", "Choisissez une date entre 2000 et 2099."},
		{"2150-06-01T18:00", "120", "starts_at", "Choisissez une date entre 2000 et 2099."},
		{"le 5 mars", "120", "starts_at", "Date et heure illisibles"},
		{"2026-12-09T18:30", "99999999999", "ends_at", "Ce nombre est bien trop grand."},
		{"2026-12-09T18:30", "721", "ends_at", "La durée va de 15 à 720 minutes (12 heures)."},
		{"2026-12-09T18:30", "", "ends_at", "Saisissez un nombre"},
		{"2026-12-09T18:30", "-60", "ends_at", "positif ou nul"},
	}
	for _, tc := range cases {
		res, body := fac.PostForm("/seances", schedule(tc.start, tc.duration))
		if res.StatusCode != http.StatusUnprocessableEntity || !containsAll(body, tc.message, `id="`+tc.field+`-error"`, `value="`+tc.duration+`"`) {
			t.Errorf("schedule %s for %s min: %d, want 422 with %q beside %s; %.2500s", tc.start, tc.duration, res.StatusCode, tc.message, tc.field, body)
		}
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM meetings WHERE title = 'Séance hors limites'").Scan(ctx, &n); err != nil || n != 0 {
		t.Fatalf("%d refused meetings stored (%v)", n, err)
	}

	// The same on the edit form of a meeting, which keeps its dates.
	mpath := assembly.MeetingPath(f.meeting.ID)
	before, err := assembly.GetMeeting(ctx, db, f.councilID, f.meeting.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		res, body := fac.PostForm(mpath+"/modifier", schedule(tc.start, tc.duration))
		if res.StatusCode != http.StatusUnprocessableEntity || !containsAll(body, tc.message, `<details class="edit-meeting" open>`,
			`id="edit-`+tc.field+`-error"`, `aria-describedby="edit-`+tc.field+`-error"`, `value="`+tc.duration+`"`, `value="Séance hors limites"`) {
			t.Errorf("edit %s for %s min: %d, want 422 with %q beside %s; %.4000s", tc.start, tc.duration, res.StatusCode, tc.message, tc.field, body)
		}
	}
	after, err := assembly.GetMeeting(ctx, db, f.councilID, f.meeting.ID)
	if err != nil || !after.StartsAt.Equal(before.StartsAt) || !after.EndsAt.Equal(before.EndsAt) || after.Title != before.Title {
		t.Fatalf("a refused edit changed the meeting: %+v (%v)", after, err)
	}
	if res, body := fac.PostForm(mpath+"/modifier", schedule("2026-12-09T18:30", "720")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a 12-hour meeting: %d %.2000s", res.StatusCode, body)
	}

	// An option effect outside the list re-shows the item's open-vote form.
	item := f.freeItem(t, "Statut du café")
	// The options are rows of a label and an effect chosen from a list; a
	// forged effect is refused and the rows come back as typed.
	res, body := fac.PostForm(mpath+"/votes", url.Values{"item": {strconv.FormatInt(item.ID, 10)}, "question": {"Quel statut pour le café ?"},
		"method": {"jugement"}, "mode": {"en_salle"}, "secrecy": {"anonyme"},
		"option_label_1": {"Conventionner"}, "option_effect_1": {"conventionne"},
		"option_label_2": {"Tout autoriser"}, "option_effect_2": {"n_importe_quoi"}})
	itemID := strconv.FormatInt(item.ID, 10)
	if res.StatusCode != http.StatusUnprocessableEntity || !containsAll(body, "Effet inconnu pour « Tout autoriser »",
		`<details class="open-vote" open>`, `id="o`+itemID+`-error"`, `name="option_label_2" value="Tout autoriser"`,
		`<option value="conventionne" selected>Conventionner</option>`, `<option value="ajourner">Ajourner</option>`,
		`value="Quel statut pour le café ?"`, `value="en_salle" checked`, `value="jugement" selected`) {
		t.Fatalf("unknown option effect: %d %.5000s", res.StatusCode, body)
	}
	if err := db.NewRaw("SELECT count(*) FROM votes WHERE agenda_item_id = ?", item.ID).Scan(ctx, &n); err != nil || n != 0 {
		t.Fatalf("%d votes opened (%v)", n, err)
	}
	res, body = fac.PostForm(mpath+"/votes", url.Values{"item": {itemID}, "question": {"Quel statut pour le café ?"},
		"method": {"jugement"}, "mode": {"en_salle"}, "secrecy": {"anonyme"},
		"option_label_1": {"Conventionner"}, "option_effect_1": {"conventionne"}, "option_label_2": {"Ajourner"}, "option_effect_2": {"ajourner"},
		"option_label_3": {"Rien de plus"}})
	location(t, res, body)
}

// A NUL in a ballot's reason (PostgreSQL stores none) is refused by the
// ballot's own rules, instead of failing the cast's statement (a 500 once):
// the edge normalisation strips it from forms, and the ballot holds without
// it. Through the form, it is never a 500.
func TestBallotReasonWithNULIsRefused(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 2)
	v := f.openVote(t, f.freeItem(t, "Objections"), &assembly.Vote{Question: "Consentez-vous ?", Method: assembly.MethodConsent})
	err := assembly.CastBallot(ctx, db, f.councilID, v.ID, f.members[0], &assembly.Ballot{Choice: assembly.ChoiceObjection, Reason: "Trop\x00cher"})
	if msg := apperr.FieldsOf(err)["reason"]; !strings.Contains(msg, "caractère invisible interdit") {
		t.Fatalf("reason with a NUL: %v", err)
	}
	if b, err := assembly.MyBallot(ctx, db, f.councilID, v.ID, f.members[0]); err != nil || b != nil {
		t.Fatalf("a ballot was stored: %+v %v", b, err)
	}
	// Cast together with another member's valid ballot, it fails alone.
	w := assembly.NewBallotWriter(db)
	errs := make(chan error, 2)
	for i, reason := range []string{"Trop\x00cher", "Trop cher"} {
		go func(member int64, reason string) {
			errs <- w.Cast(ctx, f.councilID, v.ID, member, &assembly.Ballot{Choice: assembly.ChoiceObjection, Reason: reason})
		}(f.members[i], reason)
	}
	failed := 0
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			if apperr.FieldsOf(err)["reason"] == "" {
				t.Fatalf("cast: %v", err)
			}
			failed++
		}
	}
	if b, err := assembly.MyBallot(ctx, db, f.councilID, v.ID, f.members[1]); failed != 1 || err != nil || b == nil || b.Reason != "Trop cher" {
		t.Fatalf("%d casts failed; the valid one: %+v %v", failed, b, err)
	}
	app := apptest.New(t, db, app.Config{})
	member, memberID := webtest.SignIn(t, app, db, f.councilID, authz.Member)
	if err := assembly.RecordAttendance(ctx, db, f.councilID, f.meeting.ID, map[int64]assembly.AttendanceStatus{memberID: assembly.Present}); err != nil {
		t.Fatal(err)
	}
	if res, body := member.PostForm("/votes/"+strconv.FormatInt(v.ID, 10)+"/bulletin", url.Values{"choice": {"objection"}, "reason": {"Trop\x00cher"}}); res.StatusCode >= 500 {
		t.Fatalf("reason with a NUL through the form: %d %.2000s", res.StatusCode, body)
	}
}

// Posting about a meeting that does not exist is a 404, never a 500 nor a
// write: the minutes once hit a foreign key (500) for a missing meeting.
func TestPostsAboutAMissingMeetingAreNotFound(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 1)
	app := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, app, db, f.councilID, authz.Facilitator)
	missing := "/seances/987654321"
	for path, form := range map[string]url.Values{
		missing + "/compte-rendu":            {"body": {"Compte rendu d'une séance fantôme"}},
		missing + "/compte-rendu/approuver":  {"in": {strconv.FormatInt(f.meeting.ID, 10)}},
		missing + "/compte-rendu/regenerer":  nil,
		missing + "/modifier":                {"title": {"Fantôme"}, "starts_at": {"2026-12-09T18:30"}, "duration": {"60"}},
		missing + "/ordre-du-jour":           {"kind": {"free"}, "title": {"Point fantôme"}},
		missing + "/votes":                   {"question": {"Fantôme ?"}, "method": {"majorite"}, "mode": {"en_ligne"}, "secrecy": {"anonyme"}},
		missing + "/etat":                    {"to": {"en_cours"}},
		missing + "/appel":                   nil,
		missing + "/ordre-du-jour/1/retirer": nil,
		"/votes/987654321/cloture":           {"pour": {"1"}, "contre": {"0"}, "abstention": {"0"}},
	} {
		if res, body := fac.PostForm(path, form); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404 (%.300s)", path, res.StatusCode, body)
		}
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM minutes WHERE meeting_id = 987654321").Scan(context.Background(), &n); err != nil || n != 0 {
		t.Fatalf("minutes written for a missing meeting: %d %v", n, err)
	}
}
