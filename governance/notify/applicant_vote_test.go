package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cla/demo"
	"cla/governance/application"
	"cla/governance/assembly"
	"cla/governance/notify"
	"cla/governance/proposal"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

// An application decided by the council's vote on its proposal: the shop
// gets the decision with the vote's motivation, at once.
func TestApplicantDecisionByVote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var facID int64
	if err := db.NewRaw("SELECT account_id FROM memberships WHERE council_id = ? AND role = 'facilitator' LIMIT 1", co.ID).Scan(ctx, &facID); err != nil {
		t.Fatal(err)
	}
	fac := audit.Actor{AccountID: facID, Name: "Animatrice", Role: authz.Facilitator}
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org", TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, councilID: co.ID, srv: srv, fac: fac,
		svc: &notify.Service{DB: db, Sender: sender, From: "cla@example.org", BaseURL: "https://cla.example.org"}}
	a := &application.Application{CouncilID: co.ID, ShopName: "Fromagerie du Jabron", Kind: "marche", Address: "Le village",
		Commune: "Dieulefit", ContactName: "Inès", Email: "ines@jabron.example",
		Categories: []string{"pain"}, LocalShare: 100, OrganicShare: 50, CharterAccepted: true}
	if _, err := application.SubmitApplication(ctx, db, a, "192.0.2.11"); err != nil {
		t.Fatal(err)
	}
	if a, err = application.GetApplication(ctx, db, co.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	p, err := application.ProposeApplication(ctx, db, a, application.DraftProposal(a, nil), fac)
	if err != nil {
		t.Fatal(err)
	}
	if err := proposal.TransitionProposal(ctx, db, co.ID, p.ID, fac, proposal.ProposalOpen, ""); err != nil {
		t.Fatal(err)
	}
	m := f.meeting(-time.Hour, "Salle")
	if err := assembly.SetMeetingState(ctx, db, co.ID, m.ID, assembly.MeetingOpen); err != nil {
		t.Fatal(err)
	}
	var all []int64
	if err := db.NewRaw("SELECT account_id FROM memberships WHERE council_id = ? AND disabled_at IS NULL", co.ID).Scan(ctx, &all); err != nil {
		t.Fatal(err)
	}
	roll := map[int64]assembly.AttendanceStatus{}
	for _, id := range all {
		roll[id] = assembly.Present
	}
	if err := assembly.RecordAttendance(ctx, db, co.ID, m.ID, roll); err != nil {
		t.Fatal(err)
	}
	it := &assembly.AgendaItem{CouncilID: co.ID, MeetingID: m.ID, Kind: assembly.AgendaProposal, ProposalID: &p.ID, Title: p.Title}
	if err := assembly.AddAgendaItem(ctx, db, fac, it); err != nil {
		t.Fatal(err)
	}
	v := &assembly.Vote{CouncilID: co.ID, MeetingID: m.ID, AgendaItemID: it.ID, Question: "Conventionner la fromagerie ?", Method: assembly.MethodMajority,
		Mode: assembly.ModeOnline, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast}
	if err := assembly.OpenVote(ctx, db, fac, v); err != nil {
		t.Fatal(err)
	}
	f.run()
	srv.Wait(t, 1) // the receipt
	if _, d, err := assembly.CloseVote(ctx, db, co.ID, v.ID, fac, assembly.CloseInput{Motivation: "Pas de lait local pour l'instant."}); err != nil || d == nil {
		t.Fatalf("close: %v %v", d, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range srv.Messages() {
			if r.To[0] != "ines@jabron.example" {
				continue
			}
			msg := mailtest.Parse(t, r.Data)
			if strings.HasPrefix(msg.Get("Subject"), "Décision sur votre candidature") {
				if !strings.Contains(msg.Text, "Pas de lait local pour l'instant.") || !strings.Contains(msg.Text, "/decisions/") {
					t.Errorf("decision mail:\n%s", msg.Text)
				}
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no decision mail to the applicant")
}
