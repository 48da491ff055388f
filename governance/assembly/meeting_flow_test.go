package assembly_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/catalog"
	"cla/demo"
	"cla/governance/assembly"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/web"
	"cla/internal/webtest"
)

// A meeting run over HTTP leaves every step in the audit trail, by the
// facilitator; refused actions re-show the page with the reason beside the
// button; opening on another day asks for confirmation and dates the
// meeting that day; minutes need the quorum; the agenda shows its total.
func TestMeetingStepsRefusalsAndTrail(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 2)
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)

	// Scheduled for the day after tomorrow, opened today.
	start := time.Now().In(web.Paris()).AddDate(0, 0, 2).Format("2006-01-02") + "T18:30"
	res, body := fac.PostForm("/seances", url.Values{"title": {"Séance suivante"}, "starts_at": {start}, "duration": {"60"}})
	mpath := location(t, res, body)
	mid := idOf(t, mpath)
	res, body = fac.PostForm(mpath+"/ordre-du-jour", url.Values{"kind": {"free"}, "title": {"Premier point"}, "minutes": {"abc"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !containsAll(body, `id="free-minutes-error"`, `value="abc"`, `value="Premier point"`) {
		t.Fatalf("a duration typed as nonsense: %d %.3000s", res.StatusCode, body)
	}
	for _, it := range []url.Values{{"title": {"Premier point"}, "minutes": {"40"}}, {"title": {"Second point"}, "minutes": {"35"}}} {
		it.Set("kind", "free")
		res, body = fac.PostForm(mpath+"/ordre-du-jour", it)
		location(t, res, body)
	}
	if _, body = fac.Get(mpath); !containsAll(body, "Durée prévue : 1 h 15 ; fin prévue vers 19h45", "au-delà de la fin de la séance (19h30)", "40 min, vers 18h30", "35 min, vers 19h10") {
		t.Fatalf("agenda durations: %.5000s", body)
	}
	var items []int64
	if err := db.NewRaw("SELECT id FROM agenda_items WHERE meeting_id = ? ORDER BY position", mid).Scan(ctx, &items); err != nil {
		t.Fatal(err)
	}
	res, body = fac.PostForm(mpath+"/ordre-du-jour/"+strconv.FormatInt(items[1], 10)+"/deplacer", url.Values{"dir": {"up"}})
	location(t, res, body)

	res, body = fac.PostForm(mpath+"/etat", url.Values{"to": {"en_cours"}})
	if res.StatusCode != http.StatusConflict || !containsAll(body, `id="state-error"`, "prévue un autre jour", `name="other_day" value="1"`) {
		t.Fatalf("opening on another day: %d %.3000s", res.StatusCode, body)
	}
	res, body = fac.PostForm(mpath+"/etat", url.Values{"to": {"en_cours"}, "other_day": {"1"}})
	location(t, res, body)
	m, err := assembly.GetMeeting(ctx, db, f.councilID, mid)
	if err != nil || m.PlannedStartsAt == nil || web.FrenchDate(m.StartsAt) != web.FrenchDate(time.Now()) || m.EndsAt.Sub(m.StartsAt) != time.Hour {
		t.Fatalf("opened on another day: %+v %v", m, err)
	}

	// No roll yet: no quorum; approving the previous minutes and opening a
	// vote are refused on the page, with the reason beside the button.
	if err := assembly.SetMeetingState(ctx, db, f.councilID, f.meeting.ID, assembly.MeetingClosed); err != nil {
		t.Fatal(err)
	}
	res, body = fac.PostForm(assembly.MeetingPath(f.meeting.ID)+"/compte-rendu/approuver", url.Values{"in": {strconv.FormatInt(mid, 10)}})
	if res.StatusCode != http.StatusConflict || !containsAll(body, `id="approve-error"`, "Le quorum n&#39;est pas atteint (0 présent·e pour") {
		t.Fatalf("approving minutes without quorum: %d %.3000s", res.StatusCode, body)
	}
	res, body = fac.PostForm(mpath+"/votes", url.Values{"item": {strconv.FormatInt(items[0], 10)}, "question": {"Adopter le premier point ?"},
		"method": {"majorite"}, "threshold": {"exprimes"}, "mode": {"en_ligne"}, "secrecy": {"anonyme"}})
	if res.StatusCode != http.StatusConflict || !containsAll(body, `id="r`+strconv.FormatInt(items[0], 10)+`-error"`, "Le quorum n&#39;est pas atteint", `value="Adopter le premier point ?"`) {
		t.Fatalf("a vote without quorum: %d %.3000s", res.StatusCode, body)
	}
	// An error page leads back to the page concerned.
	res, body = fac.PostForm(mpath+"/ordre-du-jour/999999/retirer", nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, `<a href="`+mpath+`">Revenir à la page concernée</a>`) {
		t.Fatalf("error page: %d %.3000s", res.StatusCode, body)
	}

	roll := url.Values{}
	for _, id := range append([]int64{f.facilitator.AccountID}, f.members...) {
		roll.Set("m"+strconv.FormatInt(id, 10), "present")
	}
	res, body = fac.PostForm(mpath+"/appel", roll)
	location(t, res, body)
	res, body = fac.PostForm(assembly.MeetingPath(f.meeting.ID)+"/compte-rendu/approuver", url.Values{"in": {strconv.FormatInt(mid, 10)}})
	location(t, res, body)
	v := &assembly.Vote{CouncilID: f.councilID, MeetingID: mid, AgendaItemID: items[0], Question: "Adopter ?", Method: assembly.MethodMajority,
		Mode: assembly.ModeInRoom, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast}
	if err := assembly.OpenVote(ctx, db, f.facilitator, v); err != nil {
		t.Fatal(err)
	}
	status, _ := closeForm(t, fac, v, url.Values{"pour": {"2"}, "contre": {"1"}, "abstention": {"0"}})
	if status != http.StatusSeeOther {
		t.Fatalf("close: %d", status)
	}
	publishForm(t, fac, v)
	res, body = fac.PostForm(mpath+"/etat", url.Values{"to": {"close"}})
	location(t, res, body)

	var trail []struct {
		Action string `bun:"action"`
		Actor  string `bun:"actor_name"`
	}
	if err := db.NewRaw(`SELECT action, actor_name FROM audit_log WHERE council_id = ? AND (object_type = 'meeting' AND object_id = ? OR object_type = 'vote' AND object_id = ?) ORDER BY id`,
		f.councilID, strconv.FormatInt(mid, 10), strconv.FormatInt(v.ID, 10)).Scan(ctx, &trail); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range trail {
		got = append(got, e.Action)
	}
	want := "meeting.create agenda.add agenda.add agenda.move meeting.state meeting.roll vote.open vote.count vote.close meeting.state minutes.draft"
	if strings.Join(got, " ") != want {
		t.Fatalf("trail:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	var approved int
	if err := db.NewRaw(`SELECT count(*) FROM audit_log WHERE action = 'minutes.approve' AND object_id = ? AND actor_name <> 'système'`,
		strconv.FormatInt(f.meeting.ID, 10)).Scan(ctx, &approved); err != nil || approved != 1 {
		t.Fatalf("minutes approval in the trail: %d %v", approved, err)
	}
	for _, e := range trail {
		if e.Action != "vote.open" && e.Actor == "système" {
			t.Errorf("%s recorded without its facilitator", e.Action)
		}
	}
}

// A proposal is voted once per agenda: after its vote the meeting page offers
// no second one, and a second opening sent anyway is refused on the page,
// the reason beside the button (409), the question as typed.
func TestNoSecondVoteOnAVotedProposal(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := newMeetingFixtureIn(t, db, co.ID, 3)
	// The demo council has more members than are here: a quorum of three.
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 3}); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, co.ID, authz.Facilitator)
	item, err := catalog.ItemBySlug(ctx, db, co.ID, "riz-de-camargue")
	if err != nil {
		t.Fatal(err)
	}
	var pid int64
	if err := db.NewRaw(`INSERT INTO proposals (council_id, kind, state, title, target_item_id, proposed_status, outcome, author_name)
		VALUES (?, 'item_status', 'ouverte', 'Conventionner le riz', ?, 'conventionne', 'Le riz devient conventionné.', 'Test')
		RETURNING id`, co.ID, item.ID).Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	it := &assembly.AgendaItem{CouncilID: co.ID, MeetingID: f.meeting.ID, Kind: assembly.AgendaProposal, ProposalID: &pid}
	if err := assembly.AddAgendaItem(ctx, db, f.facilitator, it); err != nil {
		t.Fatal(err)
	}
	// The builder of another meeting knows this meeting's agenda.
	next := &assembly.Meeting{CouncilID: co.ID, Title: "Séance d'après", StartsAt: time.Now().AddDate(0, 1, 0), EndsAt: time.Now().AddDate(0, 1, 0).Add(time.Hour)}
	if err := assembly.CreateMeeting(ctx, db, next); err != nil {
		t.Fatal(err)
	}
	if _, body := fac.Get(assembly.MeetingPath(next.ID)); !strings.Contains(body, "Déjà à l&#39;ordre du jour de la séance « Séance de test » du "+web.FrenchDate(f.meeting.StartsAt)) ||
		strings.Contains(body, "pas encore à une séance") {
		t.Fatalf("the agenda builder of another meeting: %.6000s", body)
	}
	mpath := assembly.MeetingPath(f.meeting.ID)
	if _, body := fac.Get(mpath); !strings.Contains(body, "Ouvrir un vote sur ce point") {
		t.Fatalf("no vote offered before any: %.3000s", body)
	}
	v := f.openVote(t, it, &assembly.Vote{Question: "Conventionner le riz ?", Method: assembly.MethodMajority})
	if _, _, err := assembly.CloseVote(ctx, db, co.ID, v.ID, f.facilitator, assembly.CloseInput{}); err != nil {
		t.Fatal(err)
	}
	if _, body := fac.Get(mpath); strings.Contains(body, "Ouvrir un vote sur ce point") {
		t.Fatalf("a second vote is offered on a voted proposal")
	}
	res, body := fac.PostForm(mpath+"/votes", url.Values{"item": {strconv.FormatInt(it.ID, 10)}, "question": {"Encore une fois ?"},
		"method": {"majorite"}, "threshold": {"exprimes"}, "mode": {"en_ligne"}, "secrecy": {"anonyme"}})
	if res.StatusCode != http.StatusConflict || !containsAll(body, "déjà été votée", `id="r`+strconv.FormatInt(it.ID, 10)+`-error"`, `value="Encore une fois ?"`) {
		t.Fatalf("second vote: %d %.3000s", res.StatusCode, body)
	}
}
