package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/assembly"
	"cla/governance/debate"
	"cla/governance/proposal"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/jobs"
	"cla/internal/mail"
	"cla/internal/web"
)

// The weekly digest: on its council's day, each active member who takes it
// gets one mail listing what the council did since the last digest (new
// proposals, debates with new arguments, requested debates, decisions), what
// the member chose to read in the digest rather than at once, and the next
// meeting. Nothing new, no mail.
//
// It is built in batch, per council: the part every member shares is read
// once, the members, their choices and what each kept for the digest in a few
// statements, and the messages are recorded and queued in one transaction,
// then sent by send jobs of sendBatch messages each (see send.go). A job per
// member cost a dozen statements and a job fetch each: 62 s for 2,000
// members (docs/perf.md).

// digestSweep is the daily job that sends the digests of the councils whose
// day it is.
type digestSweep struct{}

// Kind names the job.
func (digestSweep) Kind() string { return "notify.digest_sweep" }

type digestSweepWorker struct {
	jobs.WorkerDefaults[digestSweep]
	s *Service
}

// digestKey names a week's digest (ISO year and week, Paris time).
func digestKey(t time.Time) string {
	y, w := t.In(web.Paris()).ISOWeek()
	return fmt.Sprintf("digest-%d-W%02d", y, w)
}

// Work queues the digests of the councils whose day it is.
func (w *digestSweepWorker) Work(ctx context.Context, _ *jobs.Job[digestSweep]) error {
	now := w.s.now().In(web.Paris())
	weekday := int(now.Weekday())
	if weekday == 0 {
		weekday = 7
	}
	ids, err := councilsWithDigestOn(ctx, w.s.DB, weekday)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, w.s.memberDigests(ctx, id, digestKey(now)))
		errs = append(errs, w.s.publicDigests(ctx, id, "public-"+digestKey(now)))
	}
	return errors.Join(errs...)
}

// Limits of a digest's lists: a digest is a summary, the site has the rest.
const (
	digestMaxPerList = 30
	// digestMaxWindow bounds "since the last digest" for a council that has
	// sent none for long (or never): a month at most.
	digestMaxWindow = 31 * 24 * time.Hour
)

// news is what a council did since its last digest, shared by every
// recipient of its digest.
type news struct {
	Proposals []proposal.Headline
	Debates   []debate.Activity
	Requested []debate.Requested
	Opened    []debate.Requested // debates opened (the public digest)
	Decisions []assembly.Decision
	Next      *assembly.Meeting
}

// lines writes the member's part of the news, with links on base.
func (n *news) memberLines(base string) []string {
	var out []string
	for _, p := range n.Proposals {
		out = append(out, "Nouvelle proposition — "+p.Title+" : "+base+p.Path())
	}
	for _, d := range n.Debates {
		out = append(out, "Débat — "+d.Title+" : "+plural(d.Arguments, "nouvel argument", "nouveaux arguments")+" : "+base+d.Path())
	}
	for _, r := range n.Requested {
		out = append(out, "Débat souhaité — "+r.Title+" : "+base+r.Path())
	}
	for _, d := range n.Decisions {
		out = append(out, "Décision — "+d.Title+" ("+d.Outcome.Label()+") : "+base+d.Path())
	}
	return out
}

// plural is "1 nouvel argument", "3 nouveaux arguments".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// digestSince is when the council's previous digest of this kind went out
// (another week's key), within digestMaxWindow; a first digest looks back a
// week.
func (s *Service) digestSince(ctx context.Context, councilID int64, kind Kind, eventKey string, now time.Time) (time.Time, error) {
	var last []time.Time
	err := s.DB.NewSelect().Model((*Notification)(nil)).ColumnExpr("max(created_at)").
		Where("council_id = ? AND kind = ? AND event_key <> ? AND created_at > ?", councilID, kind, eventKey, now.Add(-digestMaxWindow)).
		Having("max(created_at) IS NOT NULL").Scan(ctx, &last)
	if err != nil {
		return time.Time{}, err
	}
	if len(last) == 0 {
		return now.AddDate(0, 0, -7), nil
	}
	return last[0], nil
}

// readNews reads what the council did after since: a fixed number of
// statements whatever the council's size.
func (s *Service) readNews(ctx context.Context, councilID int64, since, now time.Time, public bool) (*news, error) {
	n := new(news)
	var err error
	if n.Decisions, err = assembly.DecisionsSince(ctx, s.DB, councilID, since, digestMaxPerList); err != nil {
		return nil, err
	}
	if n.Next, err = assembly.NextMeeting(ctx, s.DB, councilID, now); err != nil {
		return nil, err
	}
	if public {
		n.Opened, err = debate.OpenedSince(ctx, s.DB, councilID, since, digestMaxPerList)
		return n, err
	}
	if n.Proposals, err = proposal.OpenedSince(ctx, s.DB, councilID, since, digestMaxPerList); err != nil {
		return nil, err
	}
	if n.Debates, err = debate.ActiveSince(ctx, s.DB, councilID, since, digestMaxPerList); err != nil {
		return nil, err
	}
	n.Requested, err = debate.RequestedSince(ctx, s.DB, councilID, since, digestMaxPerList)
	return n, err
}

// memberDigests records and queues the week's digest of every active member
// of a council who takes it and has something new.
func (s *Service) memberDigests(ctx context.Context, councilID int64, eventKey string) error {
	now := s.now()
	co, err := council.ByID(ctx, s.DB, councilID)
	if err != nil {
		return err
	}
	since, err := s.digestSince(ctx, councilID, KindDigest, eventKey, now)
	if err != nil {
		return err
	}
	nw, err := s.readNews(ctx, councilID, since, now, false)
	if err != nil {
		return err
	}
	members, err := auth.Members(ctx, s.DB, councilID, false)
	if err != nil {
		return err
	}
	left, err := leftKind(ctx, s.DB, councilID, KindDigest)
	if err != nil {
		return err
	}
	held, err := heldSince(ctx, s.DB, councilID, since)
	if err != nil {
		return err
	}
	done, err := recipientsOf(ctx, s.DB, councilID, eventKey)
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
	shared := nw.memberLines(base)
	var ns []*Notification
	for i := range members {
		m := &members[i]
		recipient := accountRecipient(m.AccountID)
		if left[m.AccountID] || done[recipient] {
			continue
		}
		var list []string
		for _, h := range held[m.AccountID] {
			list = append(list, h.Subject+" : "+h.Link)
		}
		list = append(list, shared...)
		if len(list) == 0 {
			continue // nothing new for this member: no mail
		}
		c := &content{Council: co.Name, Name: m.Name, Prefs: base + "/compte/notifications", List: list,
			Subject: "Résumé de la semaine — " + co.Name, ListTitle: "Depuis le dernier résumé",
			Lead: []string{"Voici ce qui s'est passé au " + co.Name + " depuis le dernier résumé."},
			Link: base + "/decisions", LinkLabel: "Toutes les décisions",
			Why:         "Vous recevez ce résumé comme membre du conseil.",
			Unsubscribe: base + "/desabonnement/" + tokenFor(key, councilID, m.AccountID, KindDigest)}
		if nw.Next != nil {
			c.Lead = append(c.Lead, "Prochaine séance : « "+nw.Next.Title+" », le "+frDateTime(nw.Next.StartsAt)+" — "+base+assembly.MeetingPath(nw.Next.ID))
		}
		text, html, err := c.bodies()
		if err != nil {
			return err
		}
		accountID := m.AccountID
		ns = append(ns, &Notification{CouncilID: councilID, Recipient: recipient, AccountID: &accountID, Email: m.Email,
			Kind: KindDigest, EventKey: eventKey, Subject: c.Subject, BodyText: text, BodyHTML: html, Link: c.Link,
			MessageID: mail.MessageID(eventKey, m.Email, host), State: Queued})
	}
	return s.queue(ctx, ns)
}

// leftKind returns the accounts of a council that chose never to get kind.
func leftKind(ctx context.Context, db bun.IDB, councilID int64, kind Kind) (map[int64]bool, error) {
	var ids []int64
	err := db.NewSelect().Model((*Pref)(nil)).Column("account_id").
		Where("council_id = ? AND kind = ? AND delivery = ?", councilID, kind, Never).Scan(ctx, &ids)
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// heldSince returns, per account, the notifications of a council kept for the
// digest since since, oldest first (at most digestMaxPerList each); one
// statement for the whole council.
func heldSince(ctx context.Context, db bun.IDB, councilID int64, since time.Time) (map[int64][]Notification, error) {
	var ns []Notification
	err := db.NewSelect().Model(&ns).Column("id", "account_id", "subject", "link", "created_at").
		Where("council_id = ? AND state = ? AND created_at > ? AND account_id IS NOT NULL", councilID, InDigest, since).
		Order("account_id", "created_at", "id").Scan(ctx)
	out := map[int64][]Notification{}
	for _, n := range ns {
		if l := out[*n.AccountID]; len(l) < digestMaxPerList {
			out[*n.AccountID] = append(l, n)
		}
	}
	return out, err
}

// recipientsOf returns who already has a notification of an event in a
// council (a sweep run twice sends nothing twice).
func recipientsOf(ctx context.Context, db bun.IDB, councilID int64, eventKey string) (map[string]bool, error) {
	var rs []string
	err := db.NewSelect().Model((*Notification)(nil)).Column("recipient").
		Where("council_id = ? AND event_key = ?", councilID, eventKey).Scan(ctx, &rs)
	out := make(map[string]bool, len(rs))
	for _, r := range rs {
		out[r] = true
	}
	return out, err
}
