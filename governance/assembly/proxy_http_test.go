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
	"cla/demo"
	"cla/governance/assembly"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// Proxies and paper ballots over HTTP: a member gives a proxy (a second one
// is refused on the form, with the choice kept), the holder casts the
// giver's ballot beside their own, the facilitator enters a paper ballot
// (refused for a member not present, the form re-shown), the proxy is
// revoked and the holder's next ballot for it is refused on the vote page.
func TestProxyPages(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	fac, facID := webtest.SignIn(t, a, db, co.ID, authz.Facilitator)
	giver, giverID := webtest.SignIn(t, a, db, co.ID, authz.Member)
	holder, holderID := webtest.SignIn(t, a, db, co.ID, authz.Member)
	_, paperID := webtest.SignIn(t, a, db, co.ID, authz.Member)
	_, absentID := webtest.SignIn(t, a, db, co.ID, authz.Member)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	start := time.Now().Add(-time.Hour)
	m := &assembly.Meeting{CouncilID: co.ID, Title: "Séance aux procurations", StartsAt: start, EndsAt: start.Add(3 * time.Hour)}
	if err := assembly.CreateMeeting(ctx, db, m); err != nil {
		t.Fatal(err)
	}
	if err := assembly.SetMeetingState(ctx, db, co.ID, m.ID, assembly.MeetingOpen); err != nil {
		t.Fatal(err)
	}
	mpath := "/seances/" + id(m.ID)

	res, body := giver.PostForm(mpath+"/procurations", url.Values{"holder": {id(holderID)}})
	location(t, res, body)
	res, body = giver.PostForm(mpath+"/procurations", url.Values{"holder": {id(paperID)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "déjà donné une procuration") ||
		!strings.Contains(body, `value="`+id(paperID)+`" selected`) {
		t.Fatalf("second proxy: %d %.2000s", res.StatusCode, body)
	}
	if _, body = giver.Get(mpath); !strings.Contains(body, "Révoquer") {
		t.Fatalf("the giver's page offers no revocation: %.3000s", body)
	}

	res, body = fac.PostForm(mpath+"/appel", url.Values{"m" + id(facID): {"present"}, "m" + id(holderID): {"present"}, "m" + id(paperID): {"present"}, "m" + id(absentID): {"absent"}})
	location(t, res, body)
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 4, ProxiesPerHolder: 1, ProxiesInQuorum: true}); err != nil {
		t.Fatal(err)
	}
	// Three present and one represented make the quorum of four.
	if _, body = fac.Get(mpath); !strings.Contains(body, "Quorum atteint") {
		t.Fatalf("quorum with the proxy: %.3000s", body)
	}
	it := &assembly.AgendaItem{CouncilID: co.ID, MeetingID: m.ID, Kind: assembly.AgendaFree, Title: "Point aux procurations"}
	facActor := audit.Actor{AccountID: facID, Name: "Animatrice", Role: authz.Facilitator}
	if err := assembly.AddAgendaItem(ctx, db, facActor, it); err != nil {
		t.Fatal(err)
	}
	v := &assembly.Vote{CouncilID: co.ID, MeetingID: m.ID, AgendaItemID: it.ID, Question: "Adopter le point ?", Method: assembly.MethodMajority,
		Mode: assembly.ModeOnline, Secrecy: assembly.SecrecyNominal, Threshold: assembly.ThresholdCast}
	if err := assembly.OpenVote(ctx, db, facActor, v); err != nil {
		t.Fatal(err)
	}
	vpath := "/votes/" + id(v.ID)
	if _, body = holder.Get(vpath); !strings.Contains(body, "par procuration</h2>") {
		t.Fatalf("the holder's vote page has no proxy ballot: %.3000s", body)
	}
	res, body = holder.PostForm(vpath+"/procuration", url.Values{"member": {id(giverID)}, "choice": {"peut-être"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choisissez pour, contre ou abstention") {
		t.Fatalf("bad proxy ballot: %d %.2000s", res.StatusCode, body)
	}
	res, body = holder.PostForm(vpath+"/procuration", url.Values{"member": {id(giverID)}, "choice": {"pour"}})
	location(t, res, body)
	res, body = holder.PostForm(vpath+"/bulletin", url.Values{"choice": {"contre"}})
	location(t, res, body)

	res, body = fac.PostForm(vpath+"/papier", url.Values{"member": {id(absentID)}, "choice": {"abstention"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Seuls les membres présents") || !strings.Contains(body, `value="abstention" checked`) {
		t.Fatalf("paper ballot of an absent member: %d %.2000s", res.StatusCode, body)
	}
	res, body = fac.PostForm(vpath+"/papier", url.Values{"member": {id(paperID)}, "choice": {"pour"}})
	location(t, res, body)
	var n int
	if err := db.NewRaw("SELECT count(*) FROM audit_log WHERE council_id = ? AND action = 'ballot.paper' AND summary LIKE '%saisi par%'", co.ID).Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("paper ballot audit entries: %d, %v", n, err)
	}

	// The giver has not answered the roll: the proxy is revoked, its ballot
	// withdrawn, and the holder is told on the vote page.
	var pid int64
	if err := db.NewRaw("SELECT id FROM proxies WHERE meeting_id = ? AND giver_id = ?", m.ID, giverID).Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	res, body = giver.PostForm(mpath+"/procurations/"+id(pid)+"/revoquer", nil)
	location(t, res, body)
	res, body = holder.PostForm(vpath+"/procuration", url.Values{"member": {id(giverID)}, "choice": {"pour"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "plus valable") {
		t.Fatalf("ballot by a revoked proxy: %d %.2000s", res.StatusCode, body)
	}
	closed, _, err := assembly.CloseVote(ctx, db, co.ID, v.ID, facActor, assembly.CloseInput{})
	if err != nil {
		t.Fatal(err)
	}
	if closed.Tally.ByProxy != 0 || closed.Tally.OnPaper != 1 || closed.Tally.Ballots != 2 {
		t.Fatalf("tally: %+v", closed.Tally)
	}
	if _, body = fac.Get(vpath); !strings.Contains(body, "bulletin papier saisi par") {
		t.Fatalf("the nominal ballots do not say who entered the paper one: %.3000s", body)
	}
}
