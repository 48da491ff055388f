package notify_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cla/demo"
	"cla/governance/application"
	"cla/governance/notify"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

// A convention ending in 100 days: nothing yet. With the clock moved to 55
// days before its end, the facilitators and the shop get the 60-day reminder,
// once however often the sweep runs; at 10 days before, the 15-day one,
// once. A plain member gets none.
func TestRenewalReminders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// Only this test's convention is due: the demo's are pushed away.
	if _, err := db.ExecContext(ctx, "UPDATE shops SET renewal_on = NULL WHERE council_id = ?", co.ID); err != nil {
		t.Fatal(err)
	}
	a := &application.Application{CouncilID: co.ID, ShopName: "Ferme des Tilleuls", Kind: "marche", Address: "Route de Crest",
		Commune: "Dieulefit", ContactName: "Louise", Email: "louise@tilleuls.example",
		Categories: []string{"pain"}, LocalShare: 100, OrganicShare: 100, CharterAccepted: true}
	if _, err := application.SubmitApplication(ctx, db, a, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	end := time.Now().AddDate(0, 0, 100)
	var shopID int64
	if err := db.NewRaw(`INSERT INTO shops (council_id, slug, name, kind, commune, status, signed_on, renewal_on)
		VALUES (?, 'ferme-des-tilleuls', 'Ferme des Tilleuls', 'marche', 'Dieulefit', 'conventionne', ?::date - 265, ?::date) RETURNING id`,
		co.ID, end.Format("2006-01-02"), end.Format("2006-01-02")).Scan(ctx, &shopID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE shop_applications SET shop_id = ? WHERE id = ?", shopID, a.ID); err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org", TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var shift atomic.Int64 // days the clock is moved by
	svc := &notify.Service{DB: db, Sender: sender, From: "cla@example.org", BaseURL: "https://cla.example.org",
		Now: func() time.Time { return time.Now().AddDate(0, 0, int(shift.Load())) }}
	f := &fixture{t: t, db: db, councilID: co.ID, srv: srv, svc: svc}
	f.run()
	sweep := func() {
		t.Helper()
		if _, err := jobs.Enqueue(ctx, db, notify.RenewalSweep{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	renewalMails := func() (shop, staff int, texts []string) {
		for _, m := range srv.Messages() {
			d := mailtest.Parse(t, m.Data)
			if !strings.Contains(d.Get("Subject"), "onvention") {
				continue // the receipt of the application
			}
			texts = append(texts, d.Text)
			if m.To[0] == "louise@tilleuls.example" {
				shop++
			} else {
				staff++
				if strings.HasSuffix(m.To[0], "@dieulefit.example") && !strings.HasPrefix(m.To[0], "admin@") && !strings.HasPrefix(m.To[0], "animation@") {
					t.Errorf("a plain member got a renewal reminder: %v", m.To)
				}
			}
		}
		return
	}
	sweep()
	time.Sleep(1500 * time.Millisecond)
	if shop, staff, _ := renewalMails(); shop+staff != 0 {
		t.Fatalf("100 days before: %d + %d reminders", shop, staff)
	}
	shift.Store(45) // 55 days left
	sweep()
	sweep()
	f.waitRows(notify.KindRenewal, 3, notify.Sent) // the shop, the admin and the facilitator
	time.Sleep(1500 * time.Millisecond)
	shop, staff, texts := renewalMails()
	if shop != 1 || staff != 2 {
		t.Fatalf("at 55 days: %d to the shop, %d to the staff, want 1 and 2", shop, staff)
	}
	for _, text := range texts {
		if !strings.Contains(text, "dans 55 jours") {
			t.Errorf("reminder:\n%s", text)
		}
	}
	shift.Store(90) // 10 days left
	sweep()
	sweep()
	f.waitRows(notify.KindRenewal, 6, notify.Sent)
	time.Sleep(1500 * time.Millisecond)
	if shop, staff, texts := renewalMails(); shop != 2 || staff != 4 || !strings.Contains(texts[len(texts)-1], "dans 10 jours") {
		t.Fatalf("at 10 days: %d to the shop, %d to the staff, want 2 and 4; last:\n%s", shop, staff, texts[len(texts)-1])
	}
}
