package assembly_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/assembly"
	"cla/internal/apperr"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// Members present amend the draft minutes, the facilitator accepts or
// refuses with a reason, approval freezes the text with its SHA-256 in the
// audit trail, and nothing changes it afterwards.
func TestMinutesAmendedThenFrozen(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	f := newMeetingFixture(t, db, 3)
	m := f.members
	f.offRoll(t, m[2])
	if err := assembly.SetMeetingState(ctx, db, f.councilID, f.meeting.ID, assembly.MeetingClosed); err != nil {
		t.Fatal(err)
	}
	suggest := func(member int, passage, replacement string) (*assembly.Amendment, error) {
		a := &assembly.Amendment{CouncilID: f.councilID, MeetingID: f.meeting.ID, Passage: passage, Replacement: replacement}
		return a, assembly.SuggestAmendment(ctx, db, f.member(member), a)
	}
	a1, err := suggest(0, "Salle des fêtes", "Salle des fêtes de Dieulefit")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := suggest(2, "Salle des fêtes", "Ailleurs"); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("amendment by a member not present: %v", err)
	}
	if _, err := suggest(1, "Une phrase absente", "Autre"); apperr.FieldsOf(err)["passage"] == "" {
		t.Fatalf("amendment of a passage not in the draft: %v", err)
	}
	a2, err := suggest(1, "Séance de test", "Séance d'essai")
	if err != nil {
		t.Fatal(err)
	}
	if err := assembly.AnswerAmendment(ctx, db, f.facilitator, f.councilID, f.meeting.ID, a2.ID, false, " "); apperr.FieldsOf(err)["answer"] == "" {
		t.Fatalf("refused without a reason: %v", err)
	}
	if err := assembly.AnswerAmendment(ctx, db, f.facilitator, f.councilID, f.meeting.ID, a2.ID, false, "Le titre est celui de la convocation."); err != nil {
		t.Fatal(err)
	}
	if err := assembly.AnswerAmendment(ctx, db, f.facilitator, f.councilID, f.meeting.ID, a1.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := assembly.AnswerAmendment(ctx, db, f.facilitator, f.councilID, f.meeting.ID, a1.ID, false, "Trop tard"); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("answered twice: %v", err)
	}
	mins, err := assembly.GetMinutes(ctx, db, f.councilID, f.meeting.ID)
	if err != nil || !strings.Contains(mins.BodyMD, "Salle des fêtes de Dieulefit") || !strings.Contains(mins.BodyMD, "Séance de test") {
		t.Fatalf("draft after the answers (%v):\n%s", err, mins.BodyMD)
	}
	as, err := assembly.Amendments(ctx, db, f.councilID, f.meeting.ID)
	if err != nil || len(as) != 2 || as[0].State != assembly.AmendmentAccepted || as[1].State != assembly.AmendmentRefused || as[1].AuthorName == "" {
		t.Fatalf("amendments: %+v %v", as, err)
	}

	// Approval at the next meeting freezes the text.
	start := time.Now().Add(-30 * time.Minute)
	next := &assembly.Meeting{CouncilID: f.councilID, Title: "Séance suivante", StartsAt: start, EndsAt: start.Add(2 * time.Hour)}
	if err := assembly.CreateMeeting(ctx, db, next); err != nil {
		t.Fatal(err)
	}
	if err := assembly.SetMeetingState(ctx, db, f.councilID, next.ID, assembly.MeetingOpen); err != nil {
		t.Fatal(err)
	}
	if err := assembly.RecordAttendance(ctx, db, f.councilID, next.ID, map[int64]assembly.AttendanceStatus{m[0]: assembly.Present, m[1]: assembly.Present, m[2]: assembly.Present, f.facilitator.AccountID: assembly.Present}); err != nil {
		t.Fatal(err)
	}
	if err := assembly.ApproveMinutesAs(ctx, db, f.facilitator, f.councilID, f.meeting.ID, next.ID); err != nil {
		t.Fatal(err)
	}
	mins, err = assembly.GetMinutes(ctx, db, f.councilID, f.meeting.ID)
	if err != nil || mins.BodySHA256 == nil || *mins.BodySHA256 != assembly.MinutesHash(mins.BodyMD) {
		t.Fatalf("approved minutes' hash: %v (%v)", mins.BodySHA256, err)
	}
	var summary string
	if err := db.NewRaw("SELECT summary FROM audit_log WHERE council_id = ? AND action = 'minutes.freeze'", f.councilID).Scan(ctx, &summary); err != nil ||
		!strings.Contains(summary, *mins.BodySHA256) {
		t.Fatalf("audit of the approval: %q %v", summary, err)
	}
	if _, err := suggest(0, "Dieulefit", "Poët-Laval"); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("amendment after approval: %v", err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE minutes SET body_md = 'autre' WHERE meeting_id = ?", f.meeting.ID); err == nil {
		t.Fatal("the schema let approved minutes change")
	}
}

// The public page of approved minutes says when and in which meeting they
// were approved, and the hash of their text.
func TestApprovedMinutesPage(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var feb int64
	var hash string
	if err := db.NewRaw("SELECT m.id, mi.body_sha256 FROM meetings m JOIN minutes mi ON mi.meeting_id = m.id WHERE m.council_id = ? AND m.demo_key = 'fevrier-2025'", co.ID).Scan(ctx, &feb, &hash); err != nil {
		t.Fatal(err)
	}
	anon := webtest.New(t, apptest.New(t, db, app.Config{}))
	anon.Host = webtest.HostFor(t, db, co.ID)
	res, body := anon.Get("/seances/" + strconv.FormatInt(feb, 10) + "/compte-rendu")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "en séance du ") || !strings.Contains(body, hash) {
		t.Fatalf("approved minutes page: %d %.3000s", res.StatusCode, body)
	}
}
