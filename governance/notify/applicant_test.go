package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/governance/application"
	"cla/governance/notify"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

// A shop applicant gets, at the address it gave: the receipt with its
// private follow-up link, each question of the council (with that link),
// and the refusal with its reasons; each mail can be left with one click
// (RFC 8058), and after that no more of them is sent.
func TestApplicantMails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org", TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ws := jobs.NewWorkers()
	notify.Register(ws, &notify.Service{DB: db, Sender: sender, From: "cla@example.org", BaseURL: "https://cla.example.org"})
	r, err := jobs.Start(ctx, db, jobs.Config{Workers: ws, PollInterval: 50 * time.Millisecond,
		Backoff: jobs.Backoff{First: 200 * time.Millisecond, Max: time.Second}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	a := &application.Application{CouncilID: co.ID, ShopName: "Épicerie du Lavoir", Kind: "marche",
		Address: "1 place", Commune: "Dieulefit", ContactName: "Camille", Email: "camille@epicerie.example",
		Categories: []string{"pain"}, LocalShare: 50, OrganicShare: 25, CharterAccepted: true}
	token, err := application.SubmitApplication(ctx, db, a, "192.0.2.7")
	if err != nil {
		t.Fatal(err, apperr.FieldsOf(err))
	}
	follow := "https://cla.example.org/candidature/" + token
	got := srv.Wait(t, 1)
	receipt := mailtest.Parse(t, got[0].Data)
	if got[0].To[0] != "camille@epicerie.example" || receipt.Get("Subject") != "Votre candidature : lien de suivi" ||
		!strings.Contains(receipt.Text, follow) || !strings.Contains(receipt.HTML, `href="`+follow+`"`) || !strings.Contains(receipt.Get("From"), co.Name) {
		t.Errorf("receipt to %v: %q\n%s", got[0].To, receipt.Get("Subject"), receipt.Text)
	}
	if strings.Contains(receipt.Text, "Vos choix de notifications") {
		t.Errorf("an applicant has no account to choose in:\n%s", receipt.Text)
	}

	fac := audit.Actor{Name: "Karim", Role: authz.Facilitator}
	q := &application.ApplicationMessage{Kind: application.MsgQuestion, Body: "Vendez-vous du pain au levain ?\nEt de quel moulin ?"}
	if err := application.AddApplicationMessage(ctx, db, a, q, fac, true); err != nil {
		t.Fatal(err)
	}
	comment := &application.ApplicationMessage{Kind: "commentaire", Body: "Interne : à vérifier."}
	_ = application.AddApplicationMessage(ctx, db, a, comment, fac, false)
	got = srv.Wait(t, 2)
	question := mailtest.Parse(t, got[1].Data)
	for _, want := range []string{"Vendez-vous du pain au levain ?", "Et de quel moulin ?", follow, "compléter votre candidature"} {
		if !strings.Contains(question.Text, want) {
			t.Errorf("question lacks %q:\n%s", want, question.Text)
		}
	}
	a, err = application.GetApplication(ctx, db, co.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := application.SetApplicationState(ctx, db, a, application.AppRefused, fac, "Trop loin du territoire.\nRevenez l'an prochain."); err != nil {
		t.Fatal(err)
	}
	got = srv.Wait(t, 3)
	refusal := mailtest.Parse(t, got[2].Data)
	if !strings.HasPrefix(refusal.Get("Subject"), "Décision sur votre candidature : Refusée") || !strings.Contains(refusal.Text, "Trop loin du territoire.") ||
		!strings.Contains(refusal.Text, "Revenez l'an prochain.") {
		t.Errorf("refusal %q:\n%s", refusal.Get("Subject"), refusal.Text)
	}
	time.Sleep(time.Second)
	if n := len(srv.Messages()); n != 3 {
		t.Fatalf("%d mails, want 3 (an internal comment is not mailed)", n)
	}

	// One click leaves these mails: a new question is not sent.
	unsub := receipt.Get("List-Unsubscribe")
	m := regexp.MustCompile(`<https://cla\.example\.org(/desabonnement/[^>]+)>`).FindStringSubmatch(unsub)
	if m == nil || receipt.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q", unsub)
	}
	web := apptest.New(t, db, app.Config{})
	req := httptest.NewRequest("POST", m[1], strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := web.Test(req, 10000)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %v %v", resp, err)
	}
	forged := httptest.NewRequest("POST", m[1][:len(m[1])-3]+"AAA", nil)
	if resp, err := web.Test(forged, 10000); err != nil || resp.StatusCode != 404 {
		t.Errorf("forged token: %v %v", resp, err)
	}
	b := &application.Application{CouncilID: co.ID}
	*b = *a
	q2 := &application.ApplicationMessage{Kind: application.MsgQuestion, Body: "Encore une question ?"}
	if err := application.AddApplicationMessage(ctx, db, b, q2, fac, false); err == nil {
		t.Log("question after the refusal recorded") // the council may still write
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("%d mails after leaving, want 3", n)
	}
}
