package debate_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/debate"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// An argument hidden by mistake is shown again with a reason; the hiding
// stays in its moderation history and both steps in the audit trail.
func TestShowArgumentAgainKeepsTheTrace(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	memberID, _ := webtest.CreateMember(t, db, co.ID, authz.Member, "Anaïs")
	facID, _ := webtest.CreateMember(t, db, co.ID, authz.Facilitator, "Bruno")
	member := audit.Actor{AccountID: memberID, Name: "Anaïs", Role: authz.Member}
	fac := audit.Actor{AccountID: facID, Name: "Bruno", Role: authz.Facilitator}
	a, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", member, debate.ArgumentInput{Stance: debate.StanceFor, BodyMD: "Du riz local."})
	if err != nil {
		t.Fatal(err)
	}
	if err := debate.ShowArgument(ctx, db, co.ID, a.ID, fac, "Erreur"); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("showing an argument not hidden: %v", err)
	}
	if _, err := debate.HideArgument(ctx, db, co.ID, a.ID, fac, "Hors sujet"); err != nil {
		t.Fatal(err)
	}
	if err := debate.ShowArgument(ctx, db, co.ID, a.ID, fac, " "); apperr.FieldsOf(err)["show_reason"] == "" {
		t.Fatalf("shown again without a reason: %v", err)
	}
	if err := debate.ShowArgument(ctx, db, co.ID, a.ID, fac, "Masqué par erreur : l'argument est dans le sujet."); err != nil {
		t.Fatal(err)
	}
	d, _ := debate.DebateBySlug(ctx, db, co.ID, "riz-de-camargue")
	got, err := debate.ArgumentThread(ctx, db, co.ID, d.ID, a.ID)
	if err != nil || got.Hidden() {
		t.Fatalf("argument after showing again: %+v %v", got, err)
	}
	ms, err := debate.Moderations(ctx, db, co.ID, a.ID)
	if err != nil || len(ms) != 2 || ms[0].Action != debate.ModerationHidden || ms[0].Reason != "Hors sujet" || ms[0].ByName != "Bruno" || ms[1].Reason == "" ||
		ms[1].Action != debate.ModerationShown {
		t.Fatalf("moderation history: %+v %v", ms, err)
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM audit_log WHERE council_id = ? AND action IN ('argument.hide', 'argument.show') AND object_id = ?", co.ID, strconv.FormatInt(a.ID, 10)).Scan(ctx, &n); err != nil || n != 2 {
		t.Fatalf("audit entries: %d %v", n, err)
	}
	// Hidden again, then shown again: the history grows.
	if _, err := debate.HideArgument(ctx, db, co.ID, a.ID, fac, "Doublon"); err != nil {
		t.Fatal(err)
	}
	if err := debate.ShowArgument(ctx, db, co.ID, a.ID, fac, "Pas un doublon"); err != nil {
		t.Fatal(err)
	}
	if ms, _ = debate.Moderations(ctx, db, co.ID, a.ID); len(ms) != 4 {
		t.Fatalf("history after a second round: %+v", ms)
	}
}

// The audit trail names whose argument was hidden (issue 20, point 7): the
// argument is hidden through the real form, and the journal page reads as
// one French sentence naming both people, even after the author renames
// themself (the name is the one stored when the entry was written).
func TestJournalNamesTheAuthorOfAHiddenArgument(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	authorID, _ := webtest.CreateMember(t, db, co.ID, authz.Member, "Lucas Morel")
	_, facEmail := webtest.CreateMember(t, db, co.ID, authz.Facilitator, "Karim Benali")
	arg, err := debate.AddArgument(ctx, db, co.ID, "riz-de-camargue", audit.Actor{AccountID: authorID, Name: "Lucas Morel", Role: authz.Member},
		debate.ArgumentInput{Stance: debate.StanceFor, BodyMD: "Du riz local."})
	if err != nil {
		t.Fatal(err)
	}
	fac := webtest.New(t, a)
	fac.Host = webtest.HostFor(t, db, co.ID)
	fac.SignInAs(facEmail, webtest.Password)
	resp, body := fac.PostForm("/debats/riz-de-camargue/arguments/"+strconv.FormatInt(arg.ID, 10)+"/masquer", url.Values{"reason": {"Propos hors sujet"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hiding: status %d %.300s", resp.StatusCode, body)
	}
	if _, err := db.NewRaw("UPDATE accounts SET name = 'Lucas M.' WHERE id = ?", authorID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	resp, body = fac.Get("/gestion/journal")
	want := "</a> a masqué un argument de Lucas Morel : Propos hors sujet"
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, ">Karim Benali"+want) {
		i := strings.Index(body, "a masqué")
		t.Fatalf("journal: status %d, want %q, got around %q", resp.StatusCode, "Karim Benali"+want, body[max(0, i-200):min(len(body), max(0, i)+200)])
	}
	if _, err := audit.Verify(ctx, db); err != nil {
		t.Fatalf("the trail with a subject does not verify: %v", err)
	}
}
