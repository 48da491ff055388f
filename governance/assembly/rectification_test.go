package assembly_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"cla/app"
	"cla/app/apptest"
	"cla/catalog"
	"cla/demo"
	"cla/governance/assembly"
	"cla/internal/apperr"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// A voted rectification: the facilitator puts "rectifier la décision n° N"
// on the agenda with a new status and a reason; adopted, its vote records a
// decision superseding N, the register gets a version through ApplyChange
// and both pages link each other; rejected, nothing changes. Refusals (a
// status the register already gives, an unknown or another council's
// decision, a decision already rectified or already on an agenda) re-show
// the form as typed with the reason.
func TestVotedRectification(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := newMeetingFixtureIn(t, db, co.ID, 5)
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 3}); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, co.ID, authz.Facilitator)
	anon := webtest.New(t, a)
	anon.Host = fac.Host

	// decide records a decision on an item's status by an online vote.
	decide := func(slug string, choice assembly.Choice, item *assembly.AgendaItem) (*assembly.Vote, *assembly.Decision) {
		t.Helper()
		v := f.openVote(t, item, &assembly.Vote{Question: "Adopter « " + item.Title + " » ?", Method: assembly.MethodMajority})
		for _, m := range f.members[:3] {
			if err := assembly.CastBallot(ctx, db, f.councilID, v.ID, m, &assembly.Ballot{Choice: choice}); err != nil {
				t.Fatal(err)
			}
		}
		closed, d, err := assembly.CloseVote(ctx, db, f.councilID, v.ID, f.facilitator, assembly.CloseInput{})
		if err != nil {
			t.Fatal(err)
		}
		return closed, d
	}
	status := func(slug string) catalog.Status {
		t.Helper()
		it, err := catalog.ItemBySlug(ctx, db, co.ID, slug)
		if err != nil {
			t.Fatal(err)
		}
		return it.Status
	}
	audits := func(action string) (n int) {
		if err := db.NewRaw("SELECT count(*) FROM audit_log WHERE council_id = ? AND action = ?", co.ID, action).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	item, _ := f.proposalItem(t, "item_status", "kombucha", "conventionne", "")
	_, d1 := decide("kombucha", assembly.ChoiceFor, item)
	if d1 == nil || status("kombucha") != catalog.Conventionne {
		t.Fatalf("first decision: %+v, kombucha %s", d1, status("kombucha"))
	}
	mpath := "/seances/" + strconv.FormatInt(f.meeting.ID, 10)
	schedule := func(decision, st, reason string) (*http.Response, string) {
		fac.Get(mpath)
		return fac.PostForm(mpath+"/ordre-du-jour/rectification", url.Values{"decision": {decision}, "status": {st}, "reason": {reason}, "minutes": {"10"}})
	}
	d1id := strconv.FormatInt(d1.ID, 10)

	// Refusals, each on the meeting page with the form as typed.
	another := newMeetingFixture(t, db, 3)
	var foreign int64
	if err := db.NewRaw(`INSERT INTO decisions (council_id, meeting_id, agenda_item_id, outcome, title, motivation_md, motivation_html, decided_at, actor_name)
		VALUES (?, ?, ?, 'adoptee', 'Décision d''un autre conseil', 'x', '<p>x</p>', now(), 'Autre') RETURNING id`,
		another.councilID, another.meeting.ID, another.freeItem(t, "Ailleurs").ID).Scan(ctx, &foreign); err != nil {
		t.Fatal(err)
	}
	var docs []browsertest.Document
	for _, c := range []struct {
		name, decision, status, want string
		code                         int
	}{
		{"same status", d1id, "conventionne", "est déjà « Conventionné » au registre : rien à changer", http.StatusUnprocessableEntity},
		{"unknown decision", "999999", "non_conventionne", "pas de décision n° 999999", http.StatusUnprocessableEntity},
		{"another council decision", strconv.FormatInt(foreign, 10), "", "pas de décision n° " + strconv.FormatInt(foreign, 10), http.StatusUnprocessableEntity},
		{"no number", "la dernière", "", "numéro de la décision", http.StatusUnprocessableEntity},
	} {
		res, body := schedule(c.decision, c.status, "Le décompte était faux ("+c.name+")")
		if res.StatusCode != c.code || !strings.Contains(body, c.want) || !strings.Contains(body, "Le décompte était faux ("+c.name+")</textarea>") ||
			!strings.Contains(body, `value="`+c.decision+`"`) {
			i := strings.Index(body, "r-decision")
			t.Fatalf("%s: %d, want %d with %q and the form as typed: %.3000s", c.name, res.StatusCode, c.code, c.want, body[max(i-1500, 0):])
		}
		if c.name == "same status" {
			docs = append(docs, browsertest.Document{Name: "meeting page, rectification refused", HTML: []byte(body)})
		}
	}
	// Another council's meeting through this council's address: not found,
	// nothing on its agenda.
	foreignPath := "/seances/" + strconv.FormatInt(another.meeting.ID, 10) + "/ordre-du-jour/rectification"
	if res, _ := fac.PostForm(foreignPath, url.Values{"decision": {d1id}, "reason": {"x"}, "minutes": {"10"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("rectification on another council's meeting: %d", res.StatusCode)
	}
	if n, err := db.NewSelect().Table("agenda_items").Where("meeting_id = ? AND rectifies_id IS NOT NULL", another.meeting.ID).Count(ctx); err != nil || n != 0 {
		t.Errorf("another council's agenda got %d rectification items (%v)", n, err)
	}
	if _, err := assembly.ScheduleRectification(ctx, db, another.facilitator, another.councilID, another.meeting.ID,
		&assembly.VotedRectification{DecisionID: d1.ID, Reason: "x", Minutes: 5}); apperr.FieldsOf(err)["decision"] == "" {
		t.Fatalf("another council rectifying this one's decision: %v", err)
	}

	// Scheduled: on the agenda, the original's page is unchanged for now, a
	// second request and a clerical rectification wait for the vote.
	res, body := schedule(d1id, "non_conventionne", "Le décompte de la séance était faux : la proposition était rejetée.")
	location(t, res, body)
	if _, body = fac.Get(mpath); !strings.Contains(body, "Rectifier la décision n° "+d1id) || !strings.Contains(body, "nouveau statut : Non conventionné") {
		t.Fatalf("the agenda does not show the rectification: %.3000s", body)
	}
	res, body = schedule(d1id, "sous_conditions", "Encore")
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "déjà à l&#39;ordre du jour") || !strings.Contains(body, "Encore</textarea>") {
		t.Fatalf("a second request while the first waits: %d %.3000s", res.StatusCode, body)
	}
	if _, err := assembly.RectifyDecision(ctx, db, f.facilitator, co.ID, d1.ID, &assembly.Rectification{Title: "Autre intitulé", Motivation: "m", Reason: "r"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a clerical rectification while a voted one waits: %v", err)
	}
	agenda, err := assembly.Agenda(ctx, db, co.ID, f.meeting.ID)
	if err != nil {
		t.Fatal(err)
	}
	rectItem := &agenda[len(agenda)-1]
	if rectItem.Kind != assembly.AgendaRectification || *rectItem.RectifiesID != d1.ID || rectItem.Minutes != 10 {
		t.Fatalf("agenda item %+v", rectItem)
	}
	if err := assembly.OpenVote(ctx, db, f.facilitator, &assembly.Vote{CouncilID: co.ID, MeetingID: f.meeting.ID, AgendaItemID: rectItem.ID,
		Question: "Rectifier ?", Method: assembly.MethodJudgment, Mode: assembly.ModeOnline, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast,
		Options: []assembly.VoteOption{{Label: "Oui"}, {Label: "Non"}}}); apperr.FieldsOf(err)["method"] == "" {
		t.Fatalf("a rectification voted by majority judgment: %v", err)
	}

	// Adopted: a decision superseding d1, a register version, both pages linked.
	v0 := registerVersion(t, f)
	_, d2 := decide("kombucha", assembly.ChoiceFor, rectItem)
	if d2 == nil || d2.SupersedesID == nil || *d2.SupersedesID != d1.ID || d2.RegisterVersion == nil || *d2.RegisterVersion != v0+1 ||
		d2.RectificationReason != "Le décompte de la séance était faux : la proposition était rejetée." {
		t.Fatalf("rectifying decision %+v (register was %d)", d2, v0)
	}
	if got := status("kombucha"); got != catalog.NonConventionne {
		t.Fatalf("kombucha after the rectification: %s", got)
	}
	var ref string
	if err := db.NewRaw("SELECT decision_ref FROM register_versions WHERE council_id = ? AND number = ?", co.ID, *d2.RegisterVersion).Scan(ctx, &ref); err != nil || ref != d2.Ref() {
		t.Fatalf("the version's decision %q, want %q (%v)", ref, d2.Ref(), err)
	}
	if _, body = anon.Get(d1.Path()); !strings.Contains(body, "Décision rectifiée") || !strings.Contains(body, `href="`+d2.Path()+`"`) {
		t.Fatalf("the original does not link its rectification: %.3000s", body)
	}
	if _, body = anon.Get(d2.Path()); !strings.Contains(body, "votée en séance, rectifie la") || !strings.Contains(body, `href="`+d1.Path()+`"`) ||
		!strings.Contains(body, "nouvelle version") {
		t.Fatalf("the rectification does not link the original: %.3000s", body)
	}
	res, body = schedule(d1id, "sous_conditions", "Encore une fois")
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "déjà été rectifiée par la décision n° "+strconv.FormatInt(d2.ID, 10)) {
		t.Fatalf("rectifying a rectified decision: %d %.3000s", res.StatusCode, body)
	}

	// Rejected, asked from the decision's page: the decision stands.
	item, _ = f.proposalItem(t, "item_status", "riz-de-camargue", "conventionne", "")
	_, d3 := decide("riz-de-camargue", assembly.ChoiceFor, item)
	fac.Get(d3.Path())
	res, body = fac.PostForm(d3.Path()+"/rectification-votee", url.Values{"meeting": {strconv.FormatInt(f.meeting.ID, 10)}, "status": {"non_conventionne"}, "reason": {""}, "minutes": {"12"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Dites ce que la rectification corrige") || !strings.Contains(body, `value="12"`) {
		t.Fatalf("a voted rectification without a reason: %d %.3000s", res.StatusCode, body)
	}
	docs = append(docs, browsertest.Document{Name: "decision page, voted rectification refused", HTML: []byte(body)})
	_, body = anon.Get(d2.Path())
	docs = append(docs, browsertest.Document{Name: "rectifying decision", HTML: []byte(body)})
	errs, err := browsertest.ValidateHTML(docs)
	if err != nil {
		t.Fatal(err)
	}
	for name, msgs := range errs {
		for _, m := range msgs {
			t.Errorf("%s: %s", name, m)
		}
	}
	res, body = fac.PostForm(d3.Path()+"/rectification-votee", url.Values{"meeting": {strconv.FormatInt(f.meeting.ID, 10)}, "status": {"non_conventionne"}, "reason": {"Riz importé"}, "minutes": {"12"}})
	if loc := location(t, res, body); loc != mpath+"#ordre-du-jour" {
		t.Fatalf("scheduled from the decision page: redirected to %s", loc)
	}
	agenda, _ = assembly.Agenda(ctx, db, co.ID, f.meeting.ID)
	v1 := registerVersion(t, f)
	_, d4 := decide("riz-de-camargue", assembly.ChoiceAgainst, &agenda[len(agenda)-1])
	if d4 != nil || registerVersion(t, f) != v1 || status("riz-de-camargue") != catalog.Conventionne {
		t.Fatalf("a rejected rectification changed something: %+v, register %d→%d, riz %s", d4, v1, registerVersion(t, f), status("riz-de-camargue"))
	}
	if _, body = anon.Get(d3.Path()); strings.Contains(body, "Décision rectifiée") {
		t.Fatalf("a rejected rectification marks the decision rectified: %.2000s", body)
	}
	if n, m, r := audits("decision.rectify_scheduled"), audits("decision.rectify"), audits("decision.rectify_rejected"); n != 2 || m != 1 || r != 1 {
		t.Fatalf("audit: %d scheduled, %d rectified, %d rejected; want 2, 1, 1", n, m, r)
	}

	// The minutes say what was put to the vote, adopted or not.
	if err := assembly.SetMeetingState(ctx, db, co.ID, f.meeting.ID, assembly.MeetingClosed); err != nil {
		t.Fatal(err)
	}
	mins, err := assembly.GetMinutes(ctx, db, co.ID, f.meeting.ID)
	if err != nil || mins == nil {
		t.Fatalf("minutes: %v", err)
	}
	for _, want := range []string{
		"Décision rectificative proposée pour la décision n° " + d1id + " (nouveau statut : Non conventionné). Motif : Le décompte de la séance était faux",
		"Décision rectificative proposée pour la décision n° " + strconv.FormatInt(d3.ID, 10) + " (nouveau statut : Non conventionné). Motif : Riz importé",
		"**Décision** : " + d2.Title,
	} {
		if !strings.Contains(mins.BodyMD, want) {
			t.Fatalf("the minutes lack %q: %s", want, mins.BodyMD)
		}
	}
}
