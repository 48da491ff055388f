package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/assembly"
	"cla/governance/notify/event"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/jobs"
	"cla/internal/mail"
)

// Service renders and sends the notifications. cmd/cla builds one and
// registers its workers (Register).
type Service struct {
	DB *bun.DB
	// Sender sends mail; nil when no SMTP is configured: messages are then
	// recorded on the site only (state Recorded), without error.
	Sender mail.Sender
	// From is the sender address (--smtp-from), for the .ics organizer and
	// the Message-ID's host.
	From string
	// BaseURL is the public base URL of the default council; a council with
	// a host of its own gets links on that host, same scheme.
	BaseURL string
	Logger  *slog.Logger
	// Now, when set (by tests), replaces the clock of the periodic sweeps.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Register adds notify's workers and periodic sweeps to ws.
func Register(ws *jobs.Workers, s *Service) {
	jobs.Register(ws, &meetingWorker{s: s})
	jobs.Register(ws, &voteOpenedWorker{s: s})
	jobs.Register(ws, &voteClosedWorker{s: s})
	jobs.Register(ws, &deliverWorker{s: s})
	jobs.Register(ws, &convocationSweepWorker{s: s})
	jobs.Register(ws, &closingSweepWorker{s: s})
	jobs.Register(ws, &digestSweepWorker{s: s})
	jobs.Register(ws, &sendWorker{s: s})
	jobs.Register(ws, &applicationReceivedWorker{s: s})
	jobs.Register(ws, &applicationQuestionWorker{s: s})
	jobs.Register(ws, &applicationRefusedWorker{s: s})
	jobs.Register(ws, &renewalSweepWorker{s: s})
	// Convocations are due by the day (N days before): a daily sweep, early
	// morning Paris time. Reminders are due by the hour (24 h before the
	// end of a vote): an hourly sweep.
	ws.Periodic("notify.convocations", jobs.Daily(6, 0, parisOrUTC()), func() jobs.JobArgs { return convocationSweep{} })
	ws.Periodic("notify.vote_closing", jobs.Hourly(), func() jobs.JobArgs { return closingSweep{} })
	ws.Periodic("notify.digest", jobs.Daily(7, 0, parisOrUTC()), func() jobs.JobArgs { return digestSweep{} })
	// Renewal reminders are due by the day (60 and 15 days before the end).
	ws.Periodic("notify.renewals", jobs.Daily(6, 30, parisOrUTC()), func() jobs.JobArgs { return renewalSweep{} })
}

func parisOrUTC() *time.Location {
	if l, err := time.LoadLocation("Europe/Paris"); err == nil {
		return l
	}
	return time.UTC
}

// deliverArgs asks for one message to one member about one event.
type deliverArgs struct {
	CouncilID int64  `json:"council_id" river:"unique"`
	AccountID int64  `json:"account_id" river:"unique"`
	EventKey  string `json:"event_key" river:"unique"`
	What      Kind   `json:"kind"`
	Ref       int64  `json:"ref"`              // the meeting or the vote
	Change    bool   `json:"change,omitempty"` // a convocation sent again
}

// Kind names the job.
func (deliverArgs) Kind() string { return "notify.deliver" }

// fanOut enqueues one deliver job per account, unique per event.
func fanOut(ctx context.Context, db bun.IDB, accounts []int64, a deliverArgs) error {
	many := make([]jobs.Many, 0, len(accounts))
	for _, id := range accounts {
		x := a
		x.AccountID = id
		many = append(many, jobs.Many{Args: x, InsertOpts: jobs.Unique()})
	}
	_, err := jobs.EnqueueMany(ctx, db, many)
	return err
}

// activeMembers returns the account ids of a council's active members.
func activeMembers(ctx context.Context, db bun.IDB, councilID int64) ([]int64, error) {
	ms, err := auth.Members(ctx, db, councilID, false)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.AccountID
	}
	return ids, nil
}

// --- Meetings: convocation, change, cancellation.

type meetingWorker struct {
	jobs.WorkerDefaults[event.MeetingChanged]
	s *Service
}

// Work convenes the meeting's members when the convocation is due, or sends
// the change or the cancellation when one already went out.
func (w *meetingWorker) Work(ctx context.Context, job *jobs.Job[event.MeetingChanged]) error {
	return w.s.convene(ctx, job.Args.CouncilID, job.Args.MeetingID)
}

func (s *Service) convene(ctx context.Context, councilID, meetingID int64) error {
	m, err := assembly.GetMeeting(ctx, s.DB, councilID, meetingID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	} else if err != nil {
		return err
	}
	before, err := convened(ctx, s.DB, councilID, meetingID)
	if err != nil {
		return err
	}
	members, err := activeMembers(ctx, s.DB, councilID)
	if err != nil {
		return err
	}
	base := deliverArgs{CouncilID: councilID, What: KindConvocation, Ref: meetingID}
	switch {
	case m.State == assembly.MeetingCancelled:
		if !before {
			return nil // nobody was convened: nothing to call off
		}
		base.EventKey = "cancel-" + itoa(meetingID)
		return fanOut(ctx, s.DB, members, base)
	case m.State != assembly.MeetingPlanned, !m.StartsAt.After(s.now()):
		return nil
	}
	rules, err := assembly.Rules(ctx, s.DB, councilID)
	if err != nil {
		return err
	}
	days := rules.ConvocationDays
	if days <= 0 {
		days = assembly.DefaultConvocationDays
	}
	if !before && m.StartsAt.After(s.now().AddDate(0, 0, days)) {
		return nil // not due yet: the daily sweep will send it
	}
	agenda, err := assembly.Agenda(ctx, s.DB, councilID, meetingID)
	if err != nil {
		return err
	}
	base.EventKey = "convocation-" + itoa(meetingID) + "-" + fingerprint(m, agenda)
	base.Change = before
	return fanOut(ctx, s.DB, members, base)
}

// convocationSweep is the daily job that convenes the meetings due.
type convocationSweep struct{}

// Kind names the job.
func (convocationSweep) Kind() string { return "notify.convocation_sweep" }

type convocationSweepWorker struct {
	jobs.WorkerDefaults[convocationSweep]
	s *Service
}

// Work convenes every meeting whose convocation is due; those already
// convened are skipped by the unique deliver jobs and the notifications
// table.
func (w *convocationSweepWorker) Work(ctx context.Context, _ *jobs.Job[convocationSweep]) error {
	ms, err := assembly.MeetingsToConvene(ctx, w.s.DB, w.s.now())
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range ms {
		errs = append(errs, w.s.convene(ctx, m.CouncilID, m.ID))
	}
	return errors.Join(errs...)
}

// --- Votes.

type voteOpenedWorker struct {
	jobs.WorkerDefaults[event.VoteOpened]
	s *Service
}

// Work tells the members who may vote.
func (w *voteOpenedWorker) Work(ctx context.Context, job *jobs.Job[event.VoteOpened]) error {
	v, err := assembly.GetVote(ctx, w.s.DB, job.Args.CouncilID, job.Args.VoteID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	} else if err != nil {
		return err
	}
	if v.Closed() || v.InRoom() {
		return nil
	}
	ids, err := assembly.EligibleVoters(ctx, w.s.DB, v)
	if err != nil {
		return err
	}
	return fanOut(ctx, w.s.DB, ids, deliverArgs{CouncilID: v.CouncilID, What: KindVoteOpened, Ref: v.ID, EventKey: "vote-opened-" + itoa(v.ID)})
}

// closingSweep is the hourly job that reminds who has not voted in a vote
// ending within 24 hours.
type closingSweep struct{}

// Kind names the job.
func (closingSweep) Kind() string { return "notify.closing_sweep" }

type closingSweepWorker struct {
	jobs.WorkerDefaults[closingSweep]
	s *Service
}

// Work reminds the eligible members who have not voted yet.
func (w *closingSweepWorker) Work(ctx context.Context, _ *jobs.Job[closingSweep]) error {
	now := w.s.now()
	vs, err := assembly.VotesClosingBetween(ctx, w.s.DB, now, now.Add(24*time.Hour))
	if err != nil {
		return err
	}
	for i := range vs {
		v := &vs[i]
		ids, err := assembly.EligibleVoters(ctx, w.s.DB, v)
		if err != nil {
			return err
		}
		voted, err := assembly.Voted(ctx, w.s.DB, v.CouncilID, v.ID)
		if err != nil {
			return err
		}
		var todo []int64
		for _, id := range ids {
			if !voted[id] {
				todo = append(todo, id)
			}
		}
		if err := fanOut(ctx, w.s.DB, todo, deliverArgs{CouncilID: v.CouncilID, What: KindVoteClosing, Ref: v.ID, EventKey: "vote-closing-" + itoa(v.ID)}); err != nil {
			return err
		}
	}
	return nil
}

type voteClosedWorker struct {
	jobs.WorkerDefaults[event.VoteClosed]
	s *Service
}

// Work sends the meeting's results and decisions once none of its votes is
// still open.
func (w *voteClosedWorker) Work(ctx context.Context, job *jobs.Job[event.VoteClosed]) error {
	v, err := assembly.GetVote(ctx, w.s.DB, job.Args.CouncilID, job.Args.VoteID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	} else if err != nil {
		return err
	}
	// The shops whose application this vote decided are told at once.
	if err := w.s.applicationDecisions(ctx, v); err != nil {
		return err
	}
	votes, err := assembly.MeetingVotes(ctx, w.s.DB, v.CouncilID, v.MeetingID)
	if err != nil {
		return err
	}
	last := v.ID
	for i := range votes {
		if !votes[i].Closed() {
			return nil // the last vote to close sends them
		}
		last = max(last, votes[i].ID)
	}
	members, err := activeMembers(ctx, w.s.DB, v.CouncilID)
	if err != nil {
		return err
	}
	return fanOut(ctx, w.s.DB, members, deliverArgs{CouncilID: v.CouncilID, What: KindResults, Ref: v.MeetingID,
		// Named by the meeting's latest vote: the close jobs of its votes,
		// run after all closed, agree on one event; a vote held later in
		// the meeting makes a new one.
		EventKey: "results-" + itoa(v.MeetingID) + "-" + itoa(last)})
}

// --- Delivery.

type deliverWorker struct {
	jobs.WorkerDefaults[deliverArgs]
	s *Service
}

// errObsolete says the event no longer calls for this message (the vote
// closed, the member voted, the meeting changed again).
var errObsolete = errors.New("notify: obsolete")

// Work renders the message from fresh data, records it, and sends it.
func (w *deliverWorker) Work(ctx context.Context, job *jobs.Job[deliverArgs]) error {
	s, a := w.s, job.Args
	member, err := auth.MemberByAccount(ctx, s.DB, a.CouncilID, a.AccountID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	} else if err != nil {
		return err
	}
	if !member.Active() {
		return nil // disabled since: nothing
	}
	prefs, err := Prefs(ctx, s.DB, a.CouncilID, a.AccountID)
	if err != nil {
		return err
	}
	pref := prefs[a.What]
	if a.What == KindConvocation || (a.What == KindDigest && pref.Delivery != Never) {
		pref.Delivery = Immediate
	}
	if pref.Delivery == Never {
		return nil
	}
	recipient := accountRecipient(a.AccountID)
	switch st, err := stateOf(ctx, s.DB, a.CouncilID, recipient, a.EventKey); {
	case err != nil:
		return err
	case st != "" && st != Queued:
		return nil // done already (or failed for good: only a re-send retries it)
	}
	co, err := council.ByID(ctx, s.DB, a.CouncilID)
	if err != nil {
		return err
	}
	base, err := s.baseURL(ctx, co.ID)
	if err != nil {
		return err
	}
	to := member.Email
	if a.What == KindConvocation && pref.Address != "" {
		to = pref.Address
	}
	msg, c, err := s.render(ctx, co, member, a, base)
	if errors.Is(err, errObsolete) {
		return nil
	} else if err != nil {
		return err
	}
	msg.To = mail.Address{Name: member.Name, Email: to}
	msg.MessageID = mail.MessageID(a.EventKey, to, s.messageHost(base))
	state := Queued
	if pref.Delivery == Digest && a.What != KindConvocation {
		state = InDigest
	}
	id, ok, err := s.record(ctx, a, recipient, msg, c.Link, state, job.ID)
	if err != nil || !ok {
		return err
	}
	if state == InDigest {
		return nil
	}
	if s.Sender == nil {
		return s.setState(ctx, id, Recorded, "")
	}
	if err := s.Sender.Send(ctx, msg); err != nil {
		if mail.IsPermanent(err) {
			if serr := s.setState(ctx, id, Failed, err.Error()); serr != nil {
				return serr
			}
		} else if serr := s.setAnswer(ctx, id, err.Error()); serr != nil {
			return serr
		}
		return err // internal/jobs: a permanent one is not retried
	}
	return s.setState(ctx, id, Sent, "")
}

// record writes the notification as rendered, or updates the queued one
// (an attempt more). ok is false when another run finished it meanwhile.
func (s *Service) record(ctx context.Context, a deliverArgs, recipient string, msg *mail.Message, link string, state State, jobID int64) (int64, bool, error) {
	n := &Notification{CouncilID: a.CouncilID, Recipient: recipient, AccountID: &a.AccountID, Email: msg.To.Email, Kind: a.What,
		EventKey: a.EventKey, Subject: msg.Subject, BodyText: msg.Text, BodyHTML: msg.HTML, Link: link,
		MessageID: msg.MessageID, State: state, Attempts: 1, JobID: &jobID}
	if state == InDigest {
		n.Attempts = 0
	}
	var ids []int64
	err := s.DB.NewInsert().Model(n).
		On("CONFLICT (council_id, recipient, event_key) DO UPDATE").
		Set("email = EXCLUDED.email, subject = EXCLUDED.subject, body_text = EXCLUDED.body_text, body_html = EXCLUDED.body_html").
		Set("link = EXCLUDED.link, message_id = EXCLUDED.message_id, state = EXCLUDED.state, job_id = EXCLUDED.job_id").
		Set("attempts = n.attempts + EXCLUDED.attempts, updated_at = now()").
		Where("n.state = ?", Queued).
		Returning("id").Scan(ctx, &ids)
	if err != nil {
		return 0, false, fmt.Errorf("notify: record: %w", err)
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	return ids[0], true, nil
}

func (s *Service) setState(ctx context.Context, id int64, st State, answer string) error {
	q := s.DB.NewUpdate().Model((*Notification)(nil)).Set("state = ?", st).Set("answer = ?", clip(answer, 1000)).Set("updated_at = now()").Where("id = ?", id)
	if st == Sent {
		q = q.Set("sent_at = now()")
	}
	_, err := q.Exec(ctx)
	return err
}

func (s *Service) setAnswer(ctx context.Context, id int64, answer string) error {
	_, err := s.DB.NewUpdate().Model((*Notification)(nil)).Set("answer = ?", clip(answer, 1000)).Set("updated_at = now()").Where("id = ?", id).Exec(ctx)
	return err
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// baseURL is where a council's pages are: its own host when it has one
// (with the scheme of BaseURL), else BaseURL.
func (s *Service) baseURL(ctx context.Context, councilID int64) (string, error) {
	base := strings.TrimSuffix(s.BaseURL, "/")
	if base == "" {
		base = "http://localhost"
	}
	host, err := council.FirstHost(ctx, s.DB, councilID)
	if err != nil || host == "" {
		return base, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return base, nil
	}
	return u.Scheme + "://" + host, nil
}

// messageHost is the host of Message-IDs: the sender's domain, else the
// site's.
func (s *Service) messageHost(base string) string {
	if i := strings.LastIndexByte(s.From, '@'); i >= 0 {
		return s.From[i+1:]
	}
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "cla"
}
