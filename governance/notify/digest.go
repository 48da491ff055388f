package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cla/governance/assembly"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/jobs"
	"cla/internal/web"
)

// The weekly digest: on its council's day, each active member who takes it
// gets one mail listing what they chose to read in the digest during the
// week, the decisions of the week and the next meeting. Nothing new, no mail.

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

// Work fans the digest out to every active member of the councils whose day
// it is; the deliver jobs decide, member by member, whether there is news.
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
		members, err := activeMembers(ctx, w.s.DB, id)
		if err != nil {
			return err
		}
		errs = append(errs, fanOut(ctx, w.s.DB, members, deliverArgs{CouncilID: id, What: KindDigest, EventKey: digestKey(now)}))
	}
	return errors.Join(errs...)
}

// digest fills a member's digest, or returns errObsolete when there is
// nothing new.
func (s *Service) digest(ctx context.Context, co *council.Council, member *auth.Member, base string, c *content) error {
	now := s.now()
	since := now.AddDate(0, 0, -7)
	held, err := heldForDigest(ctx, s.DB, co.ID, member.AccountID, since)
	if err != nil {
		return err
	}
	decisions, err := assembly.Decisions(ctx, s.DB, co.ID, 50)
	if err != nil {
		return err
	}
	meetings, err := assembly.Meetings(ctx, s.DB, co.ID)
	if err != nil {
		return err
	}
	for _, n := range held {
		c.List = append(c.List, n.Subject+" : "+n.Link)
	}
	for _, d := range decisions {
		if d.DecidedAt.After(since) {
			c.List = append(c.List, "Décision — "+d.Title+" ("+d.Outcome.Label()+") : "+base+d.Path())
		}
	}
	if len(c.List) == 0 {
		return errObsolete // nothing new this week: no mail
	}
	var next *assembly.Meeting
	for i := range meetings { // latest first: the last planned one ahead is the next
		m := &meetings[i]
		if m.State == assembly.MeetingPlanned && m.StartsAt.After(now) {
			next = m
		}
	}
	c.Subject = "Résumé de la semaine — " + co.Name
	c.ListTitle = "Cette semaine"
	c.Lead = []string{"Voici ce qui s'est passé au " + co.Name + " cette semaine."}
	c.Link, c.LinkLabel = base+"/decisions", "Toutes les décisions"
	if next != nil {
		c.Lead = append(c.Lead, "Prochaine séance : « "+next.Title+" », le "+frDateTime(next.StartsAt)+" — "+base+assembly.MeetingPath(next.ID))
	}
	c.Why = "Vous recevez ce résumé comme membre du conseil."
	return nil
}
