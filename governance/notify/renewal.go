package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"cla/governance/application"
	"cla/internal/auth"
	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/jobs"
	"cla/internal/web"
)

// Renewals: a daily sweep reminds the facilitators (and admins) of each
// council, and the shop at the address of its latest application, 60 and 15
// days before a convention's end. Each reminder is an event named by the
// shop, the end date and the threshold, so it goes out once per recipient
// (the notifications table is unique per recipient and event); a convention
// renewed gets a new end date, hence new reminders.

// renewalThresholds are the days before the end when reminders go out,
// widest first.
var renewalThresholds = []int{60, 15}

// renewalSweep is the daily job that sends the renewal reminders due.
type renewalSweep struct{}

// Kind names the job.
func (renewalSweep) Kind() string { return "notify.renewal_sweep" }

type renewalSweepWorker struct {
	jobs.WorkerDefaults[renewalSweep]
	s *Service
}

// Work queues the reminders due today in every council.
func (w *renewalSweepWorker) Work(ctx context.Context, _ *jobs.Job[renewalSweep]) error {
	ids, err := council.IDs(ctx, w.s.DB)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, w.s.renewals(ctx, id))
	}
	return errors.Join(errs...)
}

// parisDay is t's date in Paris, at midnight UTC (dates of conventions are
// calendar dates).
func parisDay(t time.Time) time.Time {
	y, m, d := t.In(web.Paris()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// renewals queues a council's renewal reminders due today.
func (s *Service) renewals(ctx context.Context, councilID int64) error {
	today := parisDay(s.now())
	due, err := application.RenewalsDue(ctx, s.DB, councilID, today, renewalThresholds[0])
	if err != nil || len(due) == 0 {
		return err
	}
	co, err := council.ByID(ctx, s.DB, councilID)
	if err != nil {
		return err
	}
	members, err := auth.Members(ctx, s.DB, councilID, false)
	if err != nil {
		return err
	}
	left, err := leftKind(ctx, s.DB, councilID, KindRenewal)
	if err != nil {
		return err
	}
	base, err := s.baseURL(ctx, councilID)
	if err != nil {
		return err
	}
	key, err := web.InstanceSecret(ctx, s.DB, tokenSecretName)
	if err != nil {
		return err
	}
	host := s.messageHost(base)
	var ns []*Notification
	for _, r := range due {
		end := time.Date(r.RenewalOn.Year(), r.RenewalOn.Month(), r.RenewalOn.Day(), 0, 0, 0, 0, time.UTC)
		days := int(end.Sub(today).Hours() / 24)
		threshold := renewalThresholds[0]
		for _, t := range renewalThresholds {
			if days <= t {
				threshold = t
			}
		}
		eventKey := fmt.Sprintf("renewal-%d-%s-%d", r.ShopID, end.Format("2006-01-02"), threshold)
		done, err := recipientsOf(ctx, s.DB, councilID, eventKey)
		if err != nil {
			return err
		}
		when := web.FrenchDate(end) + " (" + inDays(days) + ")"
		for i := range members {
			m := &members[i]
			recipient := accountRecipient(m.AccountID)
			if m.Role == authz.Member || left[m.AccountID] || done[recipient] {
				continue
			}
			c := &content{Council: co.Name, Name: m.Name, Prefs: base + "/compte/notifications",
				Subject: "Convention à renouveler : " + r.Name + " (" + web.FrenchDate(end) + ")",
				Lead: []string{"La convention du point de vente « " + r.Name + " » (" + r.Commune + ") arrive à échéance le " + when + ".",
					"Pensez à la renouveler avec lui, ou à inscrire son renouvellement à une prochaine séance."},
				Link: base + "/gestion/renouvellements", LinkLabel: "Les conventions à renouveler",
				Why:         "Vous recevez ce rappel comme animateur·ice du conseil.",
				Unsubscribe: base + "/desabonnement/" + tokenFor(key, councilID, m.AccountID, KindRenewal)}
			n, err := c.notification(councilID, recipient, m.Email, KindRenewal, eventKey, host)
			if err != nil {
				return err
			}
			accountID := m.AccountID
			n.AccountID = &accountID
			ns = append(ns, n)
		}
		recipient := shopPrefix + strconv.FormatInt(r.ShopID, 10)
		if r.Email == "" || done[recipient] {
			continue
		}
		if out, err := optedOut(ctx, s.DB, councilID, recipient, KindRenewal); err != nil {
			return err
		} else if out {
			continue
		}
		c := &content{Council: co.Name, Name: r.Name,
			Subject: "Votre convention avec " + co.Name + " arrive à échéance le " + web.FrenchDate(end),
			Lead: []string{"La convention de « " + r.Name + " » comme point de vente de " + co.Name + " arrive à échéance le " + when + ".",
				"Pour la renouveler, répondez au Conseil ou prenez contact avec lui : ses coordonnées sont sur son site."},
			Link: base + "/points-de-vente/" + url.PathEscape(r.Slug), LinkLabel: "Votre fiche de point de vente",
			Why:         "Vous recevez ce rappel parce que cette adresse a été donnée dans la candidature de ce point de vente.",
			Unsubscribe: base + "/desabonnement/" + recipientToken(key, councilID, recipient, KindRenewal)}
		n, err := c.notification(councilID, recipient, r.Email, KindRenewal, eventKey, host)
		if err != nil {
			return err
		}
		ns = append(ns, n)
	}
	return s.queue(ctx, ns)
}

// inDays is "dans 15 jours", "demain", "aujourd'hui".
func inDays(n int) string {
	switch {
	case n <= 0:
		return "aujourd'hui"
	case n == 1:
		return "demain"
	}
	return "dans " + strconv.Itoa(n) + " jours"
}
