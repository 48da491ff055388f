package assembly_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/assembly"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// closeAndPublish closes an in-room vote with its counts and publishes them
// at once, as a facilitator who checked them with the room and found nothing
// to correct.
func closeAndPublish(ctx context.Context, db *bun.DB, councilID, voteID int64, actor audit.Actor, in assembly.CloseInput) (*assembly.Vote, *assembly.Decision, error) {
	if _, _, err := assembly.CloseVote(ctx, db, councilID, voteID, actor, in); err != nil {
		return nil, nil, err
	}
	return assembly.PublishVote(ctx, db, councilID, voteID, actor, in)
}

// Issue 19, point 9: the counts of a show of hands are checked before the
// result is published. The close records them "à vérifier" (no outcome, no
// way to close the meeting); a correction needs a reason and the bounds of
// the first entry, refused on its form with the input kept; it is audited
// with the counts before and after; the published result, and the minutes,
// say the count was corrected and why; after publication nothing corrects.
func TestInRoomCountCorrectedBeforePublication(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 3) // 4 present
	a := apptest.New(t, db, app.Config{})
	fac, _ := webtest.SignIn(t, a, db, f.councilID, authz.Facilitator)
	member, _ := webtest.SignIn(t, a, db, f.councilID, authz.Member)
	v := f.openVote(t, f.freeItem(t, "Main levée"), &assembly.Vote{Question: "Adopter le règlement ?", Method: assembly.MethodMajority, Mode: assembly.ModeInRoom})
	path := "/votes/" + strconv.FormatInt(v.ID, 10)
	if status, body := closeForm(t, fac, v, url.Values{"pour": {"3"}, "contre": {"1"}, "abstention": {"0"}}); status != http.StatusSeeOther {
		t.Fatalf("close: %d %.2000s", status, body)
	}
	_, body := fac.Get(path)
	if !containsAll(body, "Décompte à vérifier avant publication : 3 pour, 1 contre, 0 abstention.", `action="`+path+`/correction"`,
		`action="`+path+`/publication"`, `name="pour" value="3"`) || strings.Contains(body, "Résultat :") {
		t.Fatalf("counted vote, facilitator: %.4000s", body)
	}
	if _, body := member.Get(path); !strings.Contains(body, "Décompte à vérifier") || strings.Contains(body, "/correction") {
		t.Fatalf("counted vote, member: %.4000s", body)
	}
	fac.Get(assembly.MeetingPath(f.meeting.ID))
	if res, body := fac.PostForm(assembly.MeetingPath(f.meeting.ID)+"/etat", url.Values{"to": {"close"}}); res.StatusCode != http.StatusConflict ||
		!strings.Contains(body, "attend sa vérification") {
		t.Fatalf("meeting closed over a count to check: %d %.2000s", res.StatusCode, body)
	}

	fac.Get(path)
	refused := []struct {
		form    url.Values
		field   string
		message string
		kept    string
	}{
		{url.Values{"pour": {"2"}, "contre": {"2"}, "abstention": {"0"}}, "correction_reason", "Dites pourquoi le décompte est corrigé", `name="pour" value="2"`},
		{url.Values{"pour": {"9"}, "contre": {"2"}, "abstention": {"0"}, "correction_reason": {"Recompté"}}, "pour", "Au plus 4", "Recompté</textarea>"},
		{url.Values{"pour": {"x"}, "contre": {"2"}, "abstention": {"0"}, "correction_reason": {"Recompté"}}, "pour", "Saisissez un nombre", `value="x"`},
		{url.Values{"pour": {"3"}, "contre": {"1"}, "abstention": {"0"}, "correction_reason": {"Rien"}}, "", "Ce décompte est celui déjà saisi", "Rien</textarea>"},
	}
	for _, r := range refused {
		res, body := fac.PostForm(path+"/correction", r.form)
		if res.StatusCode != http.StatusUnprocessableEntity || !containsAll(body, r.message, r.kept) {
			t.Fatalf("correction %v: %d, want 422 with %q and %q; %.4000s", r.form, res.StatusCode, r.message, r.kept, body)
		}
		if r.field != "" && !strings.Contains(body, `id="`+r.field+`-error"`) {
			t.Errorf("correction %v: no message beside %s", r.form, r.field)
		}
	}
	res, body := fac.PostForm(path+"/correction", url.Values{"pour": {"2"}, "contre": {"2"}, "abstention": {"0"}, "correction_reason": {"Une main comptée deux fois"}})
	location(t, res, body)
	var entry struct {
		Summary string `bun:"summary"`
		Before  string `bun:"before_json"`
		After   string `bun:"after_json"`
	}
	if err := db.NewRaw("SELECT summary, before_json, after_json FROM audit_log WHERE action = 'vote.correct' AND object_id = ?", strconv.FormatInt(v.ID, 10)).
		Scan(ctx, &entry); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(entry.Summary, "3 pour, 1 contre, 0 abstention → 2 pour, 2 contre, 0 abstention") || !strings.Contains(entry.Summary, "Une main comptée deux fois") ||
		!strings.Contains(entry.Before, `"pour":3`) || !strings.Contains(entry.After, `"pour":2`) {
		t.Fatalf("audit entry: %+v", entry)
	}

	fac.Get(path)
	res, body = fac.PostForm(path+"/publication", nil)
	location(t, res, body)
	const note = "Décompte corrigé avant publication (il était de 3 pour, 1 contre, 0 abstention) — motif : « Une main comptée deux fois »."
	if _, body := member.Get(path); !containsAll(body, "Résultat : 2 pour, 2 contre, 0 abstention — Rejeté", html.EscapeString(note)) {
		t.Fatalf("published result: %.4000s", body)
	}
	fac.Get(path)
	if res, body := fac.PostForm(path+"/correction", url.Values{"pour": {"3"}, "contre": {"1"}, "abstention": {"0"}, "correction_reason": {"Trop tard"}}); res.StatusCode != http.StatusConflict ||
		!strings.Contains(body, "Le résultat de ce vote est publié") {
		t.Fatalf("correction after publication: %d %.3000s", res.StatusCode, body)
	}
	if err := assembly.SetMeetingState(ctx, db, f.councilID, f.meeting.ID, assembly.MeetingClosed); err != nil {
		t.Fatal(err)
	}
	if _, body := fac.Get(assembly.MeetingPath(f.meeting.ID) + "/compte-rendu"); !strings.Contains(body, html.EscapeString(note)) {
		t.Fatalf("minutes: %.6000s", body)
	}
}
