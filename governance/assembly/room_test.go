package assembly_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/assembly"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// Two facilitators close the same in-room vote at once, with different
// counts; and one facilitator sends the same counts twice (a double click on
// two tabs). Exactly one close wins each time: the stored tally is the one
// close's counts, the other request is refused with the vote page as it now
// stands (409, the reason beside the result) and nothing is counted twice.
// Run with -race.
func TestConcurrentInRoomCloses(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 4) // 5 present
	a := apptest.New(t, db, app.Config{})
	fac1, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)
	fac2, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)
	// The same facilitator in a second tab: a client holding the same cookies.
	tab := webtest.New(t, a)
	tab.Host = fac1.Host
	tab.SetCookie(auth.SessionCookie, fac1.Cookie(auth.SessionCookie))
	item := f.freeItem(t, "Main levée")

	for round, pair := range [][2]*webtest.Client{{fac1, fac2}, {fac1, tab}} {
		v := f.openVote(t, item, &assembly.Vote{Question: "Adopter à main levée ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
		path := "/votes/" + strconv.FormatInt(v.ID, 10)
		forms := []url.Values{{"pour": {"3"}, "contre": {"1"}, "abstention": {"1"}}, {"pour": {"1"}, "contre": {"3"}, "abstention": {"0"}}}
		if round == 1 {
			forms[1] = forms[0] // the same counts entered twice
		}
		for _, c := range pair {
			c.Get(path) // each tab holds its CSRF token before the race
		}
		status := make([]int, 2)
		bodies := make([]string, 2)
		var wg sync.WaitGroup
		for i, c := range pair {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, body := c.PostForm(path+"/cloture", forms[i])
				status[i], bodies[i] = res.StatusCode, body
			}()
		}
		wg.Wait()
		won, lost := -1, -1
		for i, s := range status {
			switch s {
			case http.StatusSeeOther:
				won = i
			case http.StatusConflict:
				lost = i
			}
		}
		if won < 0 || lost < 0 {
			t.Fatalf("round %d: statuses %v, want one 303 and one 409; bodies %.1500s / %.1500s", round, status, bodies[0], bodies[1])
		}
		if !strings.Contains(bodies[lost], "Le décompte de ce vote est déjà saisi") || !strings.Contains(bodies[lost], "Décompte à vérifier") {
			t.Fatalf("round %d: the refused close does not show the page with its reason: %.3000s", round, bodies[lost])
		}
		got, err := assembly.GetVote(context.Background(), db, f.councilID, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.Atoi(forms[won].Get("pour"))
		if got.Tally == nil || got.Tally.For != want || got.Count() > 5 {
			t.Fatalf("round %d: tally %+v, want the winner's %v", round, got.Tally, forms[won])
		}
		entries := func(action string) int {
			var n int
			if err := db.NewRaw("SELECT count(*) FROM audit_log WHERE action = ? AND object_id = ?", action, strconv.FormatInt(v.ID, 10)).
				Scan(context.Background(), &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := entries("vote.count"); n != 1 {
			t.Fatalf("round %d: %d count entries, want 1", round, n)
		}

		// The counts checked, both publish at once: one result, one close.
		for _, c := range pair {
			c.Get(path)
		}
		for i, c := range pair {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, body := c.PostForm(path+"/publication", nil)
				status[i], bodies[i] = res.StatusCode, body
			}()
		}
		wg.Wait()
		if !(status[0] == http.StatusSeeOther && status[1] == http.StatusConflict || status[1] == http.StatusSeeOther && status[0] == http.StatusConflict) {
			t.Fatalf("round %d: publications %v, want one 303 and one 409", round, status)
		}
		for i := range status {
			if status[i] == http.StatusConflict && (!strings.Contains(bodies[i], "Ce vote était déjà clos") || !strings.Contains(bodies[i], "Résultat :")) {
				t.Fatalf("round %d: the refused publication does not show the result with its reason: %.3000s", round, bodies[i])
			}
		}
		if n := entries("vote.close"); n != 1 {
			t.Fatalf("round %d: %d close entries, want 1", round, n)
		}
	}
}

// The same correction sent twice (a double submit): the first replaces the
// counts, the second finds them already so and is refused beside the form;
// one correction is kept and audited. Run with -race.
func TestConcurrentCountCorrections(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 4) // 5 present
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)
	tab := webtest.New(t, a)
	tab.Host = fac.Host
	tab.SetCookie(auth.SessionCookie, fac.Cookie(auth.SessionCookie))
	v := f.openVote(t, f.freeItem(t, "Main levée"), &assembly.Vote{Question: "Adopter à main levée ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	path := "/votes/" + strconv.FormatInt(v.ID, 10)
	fac.Get(path)
	if res, body := fac.PostForm(path+"/cloture", url.Values{"pour": {"3"}, "contre": {"1"}, "abstention": {"1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d %.2000s", res.StatusCode, body)
	}
	pair := []*webtest.Client{fac, tab}
	for _, c := range pair {
		c.Get(path)
	}
	form := url.Values{"pour": {"2"}, "contre": {"2"}, "abstention": {"1"}, "correction_reason": {"Une main comptée deux fois"}}
	status := make([]int, 2)
	bodies := make([]string, 2)
	var wg sync.WaitGroup
	for i, c := range pair {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, body := c.PostForm(path+"/correction", form)
			status[i], bodies[i] = res.StatusCode, body
		}()
	}
	wg.Wait()
	lost := -1
	for i, s := range status {
		if s == http.StatusUnprocessableEntity {
			lost = i
		}
	}
	if lost < 0 || status[1-lost] != http.StatusSeeOther {
		t.Fatalf("statuses %v, want one 303 and one 422", status)
	}
	if !strings.Contains(bodies[lost], "Ce décompte est celui déjà saisi") || !strings.Contains(bodies[lost], "Une main comptée deux fois</textarea>") {
		t.Fatalf("the second correction is not refused on its form: %.3000s", bodies[lost])
	}
	got, err := assembly.GetVote(context.Background(), db, f.councilID, v.ID)
	if err != nil || got.Tally.For != 2 || len(got.Tally.Corrections) != 1 {
		t.Fatalf("after the double submit: %v %+v", err, got.Tally)
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM audit_log WHERE action = 'vote.correct' AND object_id = ?", strconv.FormatInt(v.ID, 10)).
		Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("%d correction entries (%v), want 1", n, err)
	}
}

// While an online vote is open, the facilitator sees how many of the members
// present have voted, never what; members do not see it.
func TestFacilitatorSeesBallotsComingIn(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 3) // 4 present
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)
	item := f.freeItem(t, "En ligne")
	v := f.openVote(t, item, &assembly.Vote{Question: "Adopter en ligne ?", Method: assembly.MethodMajority})
	path := "/votes/" + strconv.FormatInt(v.ID, 10)
	if _, body := fac.Get(path); !strings.Contains(body, "Aucun des 4 membres présents n&#39;a encore voté.") {
		t.Fatalf("before any ballot: %.3000s", body)
	}
	w := assembly.NewBallotWriter(db)
	for i, id := range f.members[:2] {
		choice := assembly.ChoiceFor
		if i == 1 {
			choice = assembly.ChoiceAgainst
		}
		if err := w.Cast(context.Background(), f.councilID, v.ID, id, &assembly.Ballot{Choice: choice}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := fac.Get(path)
	if !strings.Contains(body, "2 des 4 membres présents ont voté.") {
		t.Fatalf("after two ballots: %.3000s", body)
	}
	if strings.Contains(body, "1 pour") || strings.Contains(body, "Contre :") {
		t.Fatalf("the progress tells what was voted: %.3000s", body)
	}
	member, _ := webtest.SignIn(t, a, db, f.councilID, authz.Member)
	if _, body := member.Get(path); strings.Contains(body, "membres présents ont voté") {
		t.Fatalf("a member sees the progress")
	}
}
