package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/web"
)

// Messages rendered in batch (the digests, a shop's or a subscriber's mails)
// are recorded queued first, then sent by send jobs: each job owns up to
// sendBatch recorded messages of one council, named in its args, and sends
// those still queued. A job per message would cost a job fetch each (the
// runner fetches at most MaxWorkers jobs every 100 ms: 40 messages a second);
// a batch job costs one. A re-run (a temporary failure, an instance killed,
// a facilitator's re-send) sends only the messages still queued: none twice.

// sendBatch is how many messages a send job owns.
const sendBatch = 50

// sendArgs asks to send recorded messages.
type sendArgs struct {
	CouncilID int64   `json:"council_id"`
	IDs       []int64 `json:"ids"`
}

// Kind names the job.
func (sendArgs) Kind() string { return "notify.send" }

type sendWorker struct {
	jobs.WorkerDefaults[sendArgs]
	s *Service
}

// queue records ns (queued; a recipient who already has the event is
// skipped) and enqueues the send jobs that own them, in one transaction.
func (s *Service) queue(ctx context.Context, ns []*Notification) error {
	if len(ns) == 0 {
		return nil
	}
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return queueTx(ctx, tx, ns)
	})
}

// queueTx is queue inside the caller's transaction: a shop's mail is queued
// in the transaction of the change it tells.
func queueTx(ctx context.Context, tx bun.IDB, ns []*Notification) error {
	for start := 0; start < len(ns); start += sendBatch {
		chunk := ns[start:min(start+sendBatch, len(ns))]
		var ids []int64
		if err := tx.NewInsert().Model(&chunk).
			Column("council_id", "recipient", "account_id", "email", "kind", "event_key", "subject", "body_text", "body_html",
				"link", "message_id", "state").
			On("CONFLICT (council_id, recipient, event_key) DO NOTHING").Returning("id").Scan(ctx, &ids); err != nil {
			return fmt.Errorf("notify: record: %w", err)
		}
		if len(ids) == 0 {
			continue
		}
		res, err := jobs.Enqueue(ctx, tx, sendArgs{CouncilID: chunk[0].CouncilID, IDs: ids}, nil)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Notification)(nil)).Set("job_id = ?", res.Job.ID).
			Where("id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Work sends the job's messages still queued; temporary failures make the
// job run again later (with backoff) for those only.
func (w *sendWorker) Work(ctx context.Context, job *jobs.Job[sendArgs]) error {
	s, a := w.s, job.Args
	if len(a.IDs) == 0 {
		return nil
	}
	var ns []Notification
	if err := s.DB.NewSelect().Model(&ns).
		Where("council_id = ? AND id IN (?) AND state = ?", a.CouncilID, bun.List(a.IDs), Queued).Order("id").Scan(ctx); err != nil {
		return err
	}
	if len(ns) == 0 {
		return nil
	}
	co, err := council.ByID(ctx, s.DB, a.CouncilID)
	if err != nil {
		return err
	}
	base, err := s.baseURL(ctx, co.ID)
	if err != nil {
		return err
	}
	key, err := web.InstanceSecret(ctx, s.DB, tokenSecretName)
	if err != nil {
		return err
	}
	gone, err := s.goneRecipients(ctx, a.CouncilID, ns)
	if err != nil {
		return err
	}
	var errs []error
	for i := range ns {
		n := &ns[i]
		if gone[n.Recipient] {
			if err := s.setState(ctx, n.ID, Failed, "Destinataire retiré avant l'envoi : rien n'est parti."); err != nil {
				return err
			}
			continue
		}
		if s.Sender == nil {
			if err := s.setState(ctx, n.ID, Recorded, ""); err != nil {
				return err
			}
			continue
		}
		msg := &mail.Message{From: mail.Address{Name: co.Name}, To: mail.Address{Name: recipientName(n), Email: n.Email},
			Subject: n.Subject, Text: n.BodyText, HTML: n.BodyHTML, MessageID: n.MessageID}
		if u := unsubscribeURL(key, base, n); strings.HasPrefix(u, "https://") {
			msg.Unsubscribe = u // RFC 8058 wants https; over http the link is in the text only
		}
		if _, err := s.DB.NewUpdate().Model((*Notification)(nil)).Set("attempts = attempts + 1").Where("id = ?", n.ID).Exec(ctx); err != nil {
			return err
		}
		if err := s.Sender.Send(ctx, msg); err != nil {
			if mail.IsPermanent(err) {
				if serr := s.setState(ctx, n.ID, Failed, err.Error()); serr != nil {
					return serr
				}
				continue // refused for good: not retried
			}
			if serr := s.setAnswer(ctx, n.ID, err.Error()); serr != nil {
				return serr
			}
			errs = append(errs, err)
			continue
		}
		if err := s.setState(ctx, n.ID, Sent, ""); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		// Temporary: the job runs again (backoff) for the ones still queued.
		return fmt.Errorf("notify: %d of %d messages not sent yet: %w", len(errs), len(ns), errors.Join(errs...))
	}
	return nil
}

// recipientName is the display name of a message's recipient: none, since
// the stored row keeps the address only (the greeting names them).
func recipientName(*Notification) string { return "" }

// goneRecipients returns the recipients of ns who should no longer get
// anything: a member disabled (or removed) since the message was rendered, a
// subscriber who left.
func (s *Service) goneRecipients(ctx context.Context, councilID int64, ns []Notification) (map[string]bool, error) {
	gone := map[string]bool{}
	var members, subscribers bool
	for _, n := range ns {
		members = members || n.AccountID != nil
		subscribers = subscribers || strings.HasPrefix(n.Recipient, subscriberPrefix)
	}
	if members {
		ms, err := auth.Members(ctx, s.DB, councilID, false)
		if err != nil {
			return nil, err
		}
		active := make(map[int64]bool, len(ms))
		for _, m := range ms {
			active[m.AccountID] = true
		}
		for _, n := range ns {
			if n.AccountID != nil && !active[*n.AccountID] {
				gone[n.Recipient] = true
			}
		}
	}
	if subscribers {
		live, err := liveSubscribers(ctx, s.DB, councilID)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			// Left (deleted), or a digest to an address never confirmed.
			confirmed, present := live[n.Recipient]
			if strings.HasPrefix(n.Recipient, subscriberPrefix) && (!present || (n.Kind != KindSubscription && !confirmed)) {
				gone[n.Recipient] = true
			}
		}
	}
	return gone, nil
}

// unsubscribeURL is the one-click leave link of a recorded message, "" for
// a kind one cannot leave.
func unsubscribeURL(key []byte, base string, n *Notification) string {
	switch {
	case n.Kind == KindConvocation:
		return ""
	case n.AccountID != nil:
		return base + "/desabonnement/" + tokenFor(key, n.CouncilID, *n.AccountID, n.Kind)
	case otherKinds[n.Kind] && isOtherRecipient(n.Recipient):
		return base + "/desabonnement/" + recipientToken(key, n.CouncilID, n.Recipient, n.Kind)
	}
	return ""
}
