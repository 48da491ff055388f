package notify

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"cla/governance/application"
	"cla/governance/assembly"
	"cla/governance/notify/event"
	"cla/internal/apperr"
	"cla/internal/council"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/web"
)

// Mails to a shop applicant, at the address the applicant gave: the receipt
// with the private follow-up link, each question of the council, the
// decision with its reasons. The follow-up link exists only in the receipt's
// job (the application stores its token's hash): the receipt keeps it as its
// link, and later mails read it from there.

type applicationReceivedWorker struct {
	jobs.WorkerDefaults[event.ApplicationReceived]
	s *Service
}

// Work queues the receipt.
func (w *applicationReceivedWorker) Work(ctx context.Context, job *jobs.Job[event.ApplicationReceived]) error {
	a := job.Args
	return w.s.applicantMail(ctx, a.CouncilID, a.ApplicationID, "application-receipt-"+itoa(a.ApplicationID),
		func(app *application.Application, base string, c *content) error {
			c.Subject = "Votre candidature : lien de suivi"
			c.Lead = []string{"Votre candidature « " + app.ShopName + " » pour devenir point de vente de " + c.Council + " est bien arrivée.",
				"Suivez-la, lisez les questions du Conseil et répondez-y avec le lien privé ci-dessous : gardez-le, ne le partagez pas.",
				"Si vous n'avez pas envoyé cette candidature, ignorez ce message."}
			c.Link, c.LinkLabel = base+job.Args.Link, "Suivre votre candidature"
			return nil
		})
}

type applicationQuestionWorker struct {
	jobs.WorkerDefaults[event.ApplicationQuestion]
	s *Service
}

// Work queues the question.
func (w *applicationQuestionWorker) Work(ctx context.Context, job *jobs.Job[event.ApplicationQuestion]) error {
	a := job.Args
	q, err := application.Question(ctx, w.s.DB, a.CouncilID, a.ApplicationID, a.MessageID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	} else if err != nil {
		return err
	}
	return w.s.applicantMail(ctx, a.CouncilID, a.ApplicationID, "application-question-"+itoa(q.ID),
		func(app *application.Application, base string, c *content) error {
			c.Subject = "Une question du Conseil sur votre candidature"
			c.Lead = []string{"Le " + c.Council + " vous pose une question sur la candidature « " + app.ShopName + " » :"}
			c.Lead = append(c.Lead, strings.Split(q.Body, "\n")...)
			if app.Effective.Incomplete() {
				c.Lead = append(c.Lead, "Le Conseil vous demande de compléter votre candidature : vous pouvez la corriger depuis votre page de suivi.")
			}
			return w.s.followUpLink(ctx, app, base, c)
		})
}

type applicationRefusedWorker struct {
	jobs.WorkerDefaults[event.ApplicationRefused]
	s *Service
}

// Work queues the refusal, with its reasons.
func (w *applicationRefusedWorker) Work(ctx context.Context, job *jobs.Job[event.ApplicationRefused]) error {
	a := job.Args
	return w.s.applicantMail(ctx, a.CouncilID, a.ApplicationID, "application-decision-"+itoa(a.ApplicationID),
		func(app *application.Application, base string, c *content) error {
			if app.Effective != application.AppRefused {
				return errObsolete // moved again since
			}
			c.Subject = "Décision sur votre candidature : " + application.AppRefused.Label()
			c.Lead = []string{"Le " + c.Council + " n'a pas retenu la candidature « " + app.ShopName + " »."}
			if a.Reason != "" {
				c.Lead = append(c.Lead, "Ses motifs :")
				c.Lead = append(c.Lead, strings.Split(a.Reason, "\n")...)
			}
			return w.s.followUpLink(ctx, app, base, c)
		})
}

// applicationDecisions mails the applicants whose application's proposal
// the vote decided, with the decision's motivation.
func (s *Service) applicationDecisions(ctx context.Context, v *assembly.Vote) error {
	ds, err := assembly.MeetingDecisions(ctx, s.DB, v.CouncilID, v.MeetingID)
	if err != nil {
		return err
	}
	var ids []int64
	byProposal := map[int64]*assembly.Decision{}
	for i := range ds {
		d := &ds[i]
		if d.VoteID != nil && *d.VoteID == v.ID && d.ProposalID != nil {
			ids = append(ids, *d.ProposalID)
			byProposal[*d.ProposalID] = d
		}
	}
	apps, err := application.ByProposals(ctx, s.DB, v.CouncilID, ids)
	if err != nil {
		return err
	}
	for i := range apps {
		app := &apps[i]
		d := byProposal[*app.ProposalID]
		if d == nil || app.Effective.Pending() {
			continue // adjourned: no decision on the application yet
		}
		err := s.applicantMail(ctx, v.CouncilID, app.ID, "application-decision-"+itoa(app.ID),
			func(fresh *application.Application, base string, c *content) error {
				c.Subject = "Décision sur votre candidature : " + fresh.Effective.Label()
				c.Lead = []string{fresh.Effective.Explain(), "Décision du Conseil : « " + d.Title + " » (" + d.Outcome.Label() + ")."}
				if m := strings.TrimSpace(d.MotivationMD); m != "" {
					c.Lead = append(c.Lead, "Ses motifs :")
					c.Lead = append(c.Lead, strings.Split(m, "\n")...)
				}
				c.Lead = append(c.Lead, "La décision : "+base+d.Path())
				return s.followUpLink(ctx, fresh, base, c)
			})
		if err != nil {
			return err
		}
	}
	return nil
}

// followUpLink points c to the application's follow-up page, whose link the
// receipt keeps; without it (sent before this version), to the council's
// application page with a word on the link.
func (s *Service) followUpLink(ctx context.Context, app *application.Application, base string, c *content) error {
	var links []string
	err := s.DB.NewSelect().Model((*Notification)(nil)).Column("link").
		Where("council_id = ? AND recipient = ? AND event_key = ?", app.CouncilID, applicantPrefix+itoa(app.ID), "application-receipt-"+itoa(app.ID)).
		Scan(ctx, &links)
	if err != nil {
		return err
	}
	if len(links) == 1 && links[0] != "" {
		c.Link, c.LinkLabel = links[0], "Votre page de suivi (pour répondre)"
		return nil
	}
	c.Link, c.LinkLabel = base+"/devenir-point-de-vente", "Le Conseil et ses points de vente"
	c.Lead = append(c.Lead, "Répondez depuis le lien de suivi reçu quand vous avez envoyé votre candidature.")
	return nil
}

// applicantMail renders one mail to an application's applicant, unless the
// applicant left these mails, and queues it.
func (s *Service) applicantMail(ctx context.Context, councilID, applicationID int64, eventKey string,
	fill func(app *application.Application, base string, c *content) error) error {
	app, err := application.GetApplication(ctx, s.DB, councilID, applicationID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	} else if err != nil {
		return err
	}
	recipient := applicantPrefix + itoa(app.ID)
	if left, err := optedOut(ctx, s.DB, councilID, recipient, KindApplication); err != nil || left {
		return err
	}
	co, err := council.ByID(ctx, s.DB, councilID)
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
	c := &content{Council: co.Name, Name: app.ContactName,
		Why:         "Vous recevez ce message parce que cette adresse a été donnée dans une candidature de point de vente.",
		Unsubscribe: base + "/desabonnement/" + recipientToken(key, councilID, recipient, KindApplication)}
	if err := fill(app, base, c); err == errObsolete {
		return nil
	} else if err != nil {
		return err
	}
	n, err := c.notification(councilID, recipient, app.Email, KindApplication, eventKey, s.messageHost(base))
	if err != nil {
		return err
	}
	return s.queue(ctx, []*Notification{n})
}

// notification renders c as a queued notification.
func (c *content) notification(councilID int64, recipient, email string, kind Kind, eventKey, host string) (*Notification, error) {
	text, html, err := c.bodies()
	if err != nil {
		return nil, err
	}
	return &Notification{CouncilID: councilID, Recipient: recipient, Email: email, Kind: kind, EventKey: eventKey,
		Subject: c.Subject, BodyText: text, BodyHTML: html, Link: c.Link,
		MessageID: mail.MessageID(eventKey, email, host), State: Queued}, nil
}

// optedOut reports whether a recipient without an account left kind.
func optedOut(ctx context.Context, db bun.IDB, councilID int64, recipient string, kind Kind) (bool, error) {
	return db.NewSelect().Table("notification_optouts").
		Where("council_id = ? AND recipient = ? AND kind = ?", councilID, recipient, kind).Exists(ctx)
}

// optOut records that a recipient without an account left kind.
func optOut(ctx context.Context, db bun.IDB, councilID int64, recipient string, kind Kind) error {
	_, err := db.NewRaw(`INSERT INTO notification_optouts (council_id, recipient, kind) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, councilID, recipient, kind).Exec(ctx)
	return err
}

// leave is the one-click unsubscribe of a recipient without an account: a
// subscriber's address is deleted; a shop or an applicant is opted out of
// the kind.
func leave(ctx context.Context, db bun.IDB, claim tokenClaim) error {
	if id, ok := strings.CutPrefix(claim.Recipient, subscriberPrefix); ok {
		return deleteSubscriber(ctx, db, claim.CouncilID, id)
	}
	return optOut(ctx, db, claim.CouncilID, claim.Recipient, claim.Kind)
}
