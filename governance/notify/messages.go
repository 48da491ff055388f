package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"cla/governance/assembly"
	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/mail"
)

// render builds the message of a deliver job from the data as it is now,
// read in the job's council only. errObsolete: nothing to send any more.
func (s *Service) render(ctx context.Context, co *council.Council, member *auth.Member, a deliverArgs, base string) (*mail.Message, *content, error) {
	c := &content{Council: co.Name, Name: member.Name, Prefs: base + "/compte/notifications"}
	msg := &mail.Message{From: mail.Address{Name: co.Name}}
	var err error
	switch a.What {
	case KindConvocation:
		err = s.convocation(ctx, co, a, base, c, msg)
	case KindVoteOpened, KindVoteClosing:
		err = s.voteMessage(ctx, co, a, base, c)
	case KindResults:
		err = s.results(ctx, co, a, base, c)
	case KindDigest:
		// Digests are rendered in batch (digest.go); a deliver job of an
		// older version has nothing to do.
		err = errObsolete
	default:
		err = fmt.Errorf("notify: unknown kind %q", a.What)
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil, nil, errObsolete
		}
		return nil, nil, err
	}
	if a.What != KindConvocation {
		token, err := UnsubscribeToken(ctx, s.DB, co.ID, member.AccountID, a.What)
		if err != nil {
			return nil, nil, err
		}
		c.Unsubscribe = base + "/desabonnement/" + token
		// The header wants https (RFC 8058); over http the link stays in
		// the text only.
		if strings.HasPrefix(c.Unsubscribe, "https://") {
			msg.Unsubscribe = c.Unsubscribe
		}
	}
	msg.Subject = c.Subject
	if msg.Text, msg.HTML, err = c.bodies(); err != nil {
		return nil, nil, err
	}
	return msg, c, nil
}

func (s *Service) convocation(ctx context.Context, co *council.Council, a deliverArgs, base string, c *content, msg *mail.Message) error {
	m, err := assembly.GetMeeting(ctx, s.DB, co.ID, a.Ref)
	if err != nil {
		return err
	}
	agenda, err := assembly.Agenda(ctx, s.DB, co.ID, m.ID)
	if err != nil {
		return err
	}
	c.Link = base + assembly.MeetingPath(m.ID)
	c.LinkLabel = "La séance et son dossier"
	c.Why = "Vous recevez ce message comme membre du conseil : les convocations ne peuvent pas être désactivées, mais peuvent aller à une autre adresse."
	when := frDateTime(m.StartsAt)
	place := ""
	if m.Place != "" {
		place = ", " + m.Place
	}
	host := s.messageHost(base)
	if strings.HasPrefix(a.EventKey, "cancel-") {
		if m.State != assembly.MeetingCancelled {
			return errObsolete
		}
		c.Subject = "Annulation : " + m.Title + " du " + when
		c.Lead = []string{"La séance « " + m.Title + " » prévue le " + when + place + " est annulée."}
		msg.Attachments = []mail.Attachment{{Filename: "seance.ics", ContentType: mail.CalendarCancel,
			Data: []byte(meetingICS(m, host, co.Name, s.From, c.Link, agenda, true))}}
		return nil
	}
	if m.State != assembly.MeetingPlanned || !strings.HasSuffix(a.EventKey, "-"+fingerprint(m, agenda)) {
		return errObsolete // started, or changed again: a newer convocation is on its way
	}
	c.Subject = "Convocation : " + m.Title + " le " + when
	c.Lead = []string{"Vous êtes convoqué·e à la séance « " + m.Title + " » du " + co.Name + ", le " + when + place + "."}
	if a.Change {
		c.Subject = "Modification : " + m.Title + " le " + when
		c.Lead = append([]string{"La convocation a changé (date, lieu ou ordre du jour) : voici la version à jour, qui remplace la précédente."}, c.Lead...)
	}
	if m.Note != "" {
		c.Lead = append(c.Lead, m.Note)
	}
	c.Lead = append(c.Lead, "Le dossier de séance : "+c.Link+"/dossier")
	c.ListTitle = "Ordre du jour"
	for _, it := range agenda {
		c.List = append(c.List, it.Title)
	}
	if len(agenda) == 0 {
		c.Lead = append(c.Lead, "L'ordre du jour sera communiqué prochainement.")
	}
	msg.Attachments = []mail.Attachment{{Filename: "seance.ics", ContentType: mail.CalendarRequest,
		Data: []byte(meetingICS(m, host, co.Name, s.From, c.Link, agenda, false))}}
	return nil
}

func (s *Service) voteMessage(ctx context.Context, co *council.Council, a deliverArgs, base string, c *content) error {
	v, err := assembly.GetVote(ctx, s.DB, co.ID, a.Ref)
	if err != nil {
		return err
	}
	if v.Closed() {
		return errObsolete
	}
	c.Link = base + "/votes/" + strconv.FormatInt(v.ID, 10)
	c.LinkLabel = "Voter"
	c.Why = "Vous recevez ce message comme membre du conseil pouvant prendre part à ce vote."
	if a.What == KindVoteOpened {
		c.Subject = "Vote ouvert : " + v.Question
		c.Lead = []string{"Un vote est ouvert : « " + v.Question + " » (" + v.Method.Label() + ")."}
	} else {
		voted, err := assembly.Voted(ctx, s.DB, co.ID, v.ID)
		if err != nil {
			return err
		}
		if voted[a.AccountID] {
			return errObsolete
		}
		c.Subject = "Rappel : le vote « " + v.Question + " » se termine bientôt"
		c.Lead = []string{"Vous n'avez pas encore voté sur « " + v.Question + " »."}
	}
	if v.ClosesAt != nil {
		c.Lead = append(c.Lead, "Le vote se termine le "+frDateTime(*v.ClosesAt)+".")
	}
	return nil
}

func (s *Service) results(ctx context.Context, co *council.Council, a deliverArgs, base string, c *content) error {
	m, err := assembly.GetMeeting(ctx, s.DB, co.ID, a.Ref)
	if err != nil {
		return err
	}
	votes, err := assembly.MeetingVotes(ctx, s.DB, co.ID, m.ID)
	if err != nil {
		return err
	}
	decisions, err := assembly.MeetingDecisions(ctx, s.DB, co.ID, m.ID)
	if err != nil {
		return err
	}
	c.Subject = "Résultats : " + m.Title
	c.Link = base + assembly.MeetingPath(m.ID)
	c.LinkLabel = "La séance, ses votes et ses décisions"
	c.Why = "Vous recevez ce message comme membre du conseil."
	c.Lead = []string{"Les votes de la séance « " + m.Title + " » du " + frDateTime(m.StartsAt) + " sont clos."}
	c.ListTitle = "Votes et décisions"
	for i := range votes {
		c.List = append(c.List, votes[i].Question+" : "+votes[i].OutcomeLabel())
	}
	for _, d := range decisions {
		c.List = append(c.List, "Décision — "+d.Title+" ("+d.Outcome.Label()+") : "+base+d.Path())
	}
	return nil
}
