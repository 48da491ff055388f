package assembly_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/assembly"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// TestSharedMeetingParts: the agenda and the facilitator's part, rendered
// once per meeting and role (MeetingView.sharedAgenda,
// Handlers.sharedManage), give each viewer forms with their own CSRF token,
// never the stand-in nor another's; readers never get the facilitators' forms
// nor the reverse; the page is byte for byte what the template renders
// inline; a vote opened and a roll taken through the page's forms show at
// once, a debate requested elsewhere (SQL: any writer) joins the agenda
// builder's suggestions within the NOTIFY's delay.
func TestSharedMeetingParts(t *testing.T) {
	db := testdb.New(t)
	f := newMeetingFixture(t, db, 3)
	a := apptest.New(t, db, app.Config{})
	first := f.freeItem(t, "Premier point <b>gras</b>")
	f.freeItem(t, "Second point")
	mpath := assembly.MeetingPath(f.meeting.ID)
	member, _ := webtest.SignIn(t, a, db, f.councilID, authz.Member)
	fac1, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)
	fac2, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)
	tokens := regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

	// The member first: the readers' rendering must not become the
	// facilitators'.
	if _, body := member.Get(mpath); strings.Contains(body, "Ouvrir un vote sur ce point") || !strings.Contains(body, "Premier point &lt;b&gt;gras&lt;/b&gt;") {
		t.Fatalf("member's agenda: %.4000s", body)
	}
	pages := map[*webtest.Client]string{}
	for _, fac := range []*webtest.Client{fac1, fac2, fac1} {
		res, body := fac.Get(mpath)
		if res.StatusCode != http.StatusOK || strings.Count(body, "Ouvrir un vote sur ce point") != 2 {
			t.Fatalf("facilitator's agenda: %d %.4000s", res.StatusCode, body)
		}
		if strings.Contains(body, "csrf-stand-in") {
			t.Fatal("the stand-in token reached a page")
		}
		found := tokens.FindAllStringSubmatch(body, -1)
		if len(found) < 8 {
			t.Fatalf("only %d forms with a token", len(found))
		}
		for _, m := range found {
			if m[1] != fac.CSRFToken() {
				t.Fatalf("a form carries %q, not the viewer's token %q", m[1], fac.CSRFToken())
			}
		}
		pages[fac] = body
	}
	if _, body := member.Get(mpath); strings.Contains(body, "Ouvrir un vote sur ce point") {
		t.Fatal("the member got the facilitators' agenda after them")
	}

	// The same page rendered inline, byte for byte.
	assembly.ShareAgenda(false)
	_, inline := fac1.Get(mpath)
	assembly.ShareAgenda(true)
	if inline != pages[fac1] {
		t.Errorf("the shared agenda differs from the inline rendering:\nshared: %.3000s\ninline: %.3000s", pages[fac1], inline)
	}

	// A vote opened with the page's form and token shows on the next page.
	res, body := fac2.PostForm(mpath+"/votes", url.Values{"item": {strconv.FormatInt(first.ID, 10)}, "question": {"Adopter le premier point ?"},
		"method": {"majorite"}, "threshold": {"exprimes"}, "mode": {"en_ligne"}, "secrecy": {"anonyme"}, "_csrf": {fac2.CSRFToken()}})
	location(t, res, body)
	if _, body := member.Get(mpath); !strings.Contains(body, "Adopter le premier point ?</a>") || !strings.Contains(body, "<strong>ouvert</strong>") {
		t.Fatalf("the opened vote is not on the member's page: %.4000s", body)
	}

	// The roll taken by one facilitator is on the other's page at once.
	absent := `name="m` + strconv.FormatInt(f.members[0], 10) + `" value="absent" aria-label="Membre 01 absent·e" checked`
	if _, body := fac1.Get(mpath); strings.Contains(body, absent) {
		t.Fatal("member 01 already absent")
	}
	roll := url.Values{"m" + strconv.FormatInt(f.members[0], 10): {"absent"}}
	for _, id := range f.members[1:] {
		roll.Set("m"+strconv.FormatInt(id, 10), "present")
	}
	res, body = fac2.PostForm(mpath+"/appel", roll)
	location(t, res, body)
	if _, body := fac1.Get(mpath); !strings.Contains(body, absent) {
		t.Fatalf("the roll is not on the other facilitator's page: %.6000s", body)
	}

	// A debate requested by members, written by another process.
	if _, err := db.ExecContext(context.Background(), `INSERT INTO debates (council_id, slug, theme, title, state) VALUES (?, 'debat-souhaite-partage', 'produits', 'Le pain au levain', 'souhaite')`, f.councilID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, body := fac1.Get(mpath)
		if strings.Contains(body, "<strong>Le pain au levain</strong>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the requested debate is not among the suggestions: %.6000s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
