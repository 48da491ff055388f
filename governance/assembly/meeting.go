// Package assembly holds the council's meetings and what happens in them:
// the agenda, the roll and quorum, votes (majority, consent, majority
// judgment) and their ballots, the decisions that change the register in the
// same transaction, the minutes and the meeting pack, with the iCalendar and
// Atom feeds and their pages.
package assembly

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/text"
)

// MeetingState is where a meeting (séance) stands: prévue → en cours → close.
type MeetingState string

// The meeting states.
const (
	MeetingPlanned MeetingState = "prevue"
	MeetingOpen    MeetingState = "en_cours"
	MeetingClosed  MeetingState = "close"
	// MeetingCancelled is a planned meeting called off: those convened get a
	// cancellation (governance/notify).
	MeetingCancelled MeetingState = "annulee"
)

// Label is the state in French.
func (s MeetingState) Label() string {
	switch s {
	case MeetingPlanned:
		return "Prévue"
	case MeetingOpen:
		return "En cours"
	case MeetingClosed:
		return "Close"
	case MeetingCancelled:
		return "Annulée"
	}
	return string(s)
}

// Meeting is a séance of the council.
type Meeting struct {
	bun.BaseModel `bun:"table:meetings"`

	ID        int64        `bun:"id,pk,autoincrement"`
	CouncilID int64        `bun:"council_id"`
	UID       string       `bun:"uid,nullzero,default:gen_random_uuid()"`
	Sequence  int          `bun:"sequence"`
	Title     string       `bun:"title"`
	StartsAt  time.Time    `bun:"starts_at"`
	EndsAt    time.Time    `bun:"ends_at"`
	Place     string       `bun:"place"`
	Note      string       `bun:"note"`
	State     MeetingState `bun:"state,nullzero,default:'prevue'"`
	OpenedAt  *time.Time   `bun:"opened_at"`
	ClosedAt  *time.Time   `bun:"closed_at"`
	DemoKey   *string      `bun:"demo_key"`
	CreatedAt time.Time    `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt time.Time    `bun:"updated_at,nullzero,default:current_timestamp"`

	// The quorum stored when the roll was taken (snapshot.go), nil before.
	quorumSnapshot
	// PlannedStartsAt is the date the meeting was convened for, when it was
	// opened on another day (StartsAt then says when it was held).
	PlannedStartsAt *time.Time `bun:"planned_starts_at"`
}

// The range of meeting dates and the longest meeting: a date typed with the
// wrong year (0001, 20255) or a duration of years is a mistake, refused on
// the form rather than stored and published in every calendar.
var (
	meetingsFrom  = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	meetingsUntil = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MaxMeetingLength is the longest meeting (MinMeetingMinutes is the form's
// shortest).
const (
	maxMeetingLength  = 12 * time.Hour
	minMeetingMinutes = 15
)

// Validate checks a meeting's fields and trims them.
func (m *Meeting) Validate() error {
	f := apperr.Fields{}
	m.Title, m.Place, m.Note = strings.TrimSpace(m.Title), strings.TrimSpace(m.Place), strings.TrimSpace(m.Note)
	if n := utf8.RuneCountInString(m.Title); n < 3 || n > 200 {
		f.Add("title", "Le titre doit compter de 3 à 200 caractères.")
	}
	switch {
	case m.StartsAt.IsZero():
		f.Add("starts_at", "La date et l'heure de début sont obligatoires.")
	case m.StartsAt.Before(meetingsFrom) || !m.StartsAt.Before(meetingsUntil):
		f.Add("starts_at", "Choisissez une date entre 2000 et 2099.")
	case !m.EndsAt.After(m.StartsAt):
		f.Add("ends_at", "Indiquez une durée d'au moins 15 minutes.")
	case m.EndsAt.Sub(m.StartsAt) > maxMeetingLength:
		f.Add("ends_at", "Une séance dure au plus 12 heures (720 minutes).")
	}
	if utf8.RuneCountInString(m.Place) > 300 {
		f.Add("place", "Le lieu compte 300 caractères au plus.")
	}
	if utf8.RuneCountInString(m.Note) > 2000 {
		f.Add("note", "La note compte 2000 caractères au plus.")
	}
	return f.Err()
}

// AgendaKind is what an agenda item is about.
type AgendaKind string

// The agenda item kinds.
const (
	AgendaProposal AgendaKind = "proposal"
	AgendaDebate   AgendaKind = "debate"
	AgendaFree     AgendaKind = "free"
	// AgendaRectification proposes to rectify a published decision by a
	// vote (rectification.go).
	AgendaRectification AgendaKind = "rectification"
)

// Label is the kind in French.
func (k AgendaKind) Label() string {
	switch k {
	case AgendaProposal:
		return "Proposition"
	case AgendaDebate:
		return "Débat"
	case AgendaRectification:
		return "Décision rectificative"
	}
	return "Point libre"
}

// AgendaItem is one point of a meeting's ordered agenda (ordre du jour).
type AgendaItem struct {
	bun.BaseModel `bun:"table:agenda_items"`

	ID         int64      `bun:"id,pk,autoincrement"`
	CouncilID  int64      `bun:"council_id"`
	MeetingID  int64      `bun:"meeting_id"`
	Position   int        `bun:"position"`
	Kind       AgendaKind `bun:"kind"`
	ProposalID *int64     `bun:"proposal_id"`
	DebateID   *int64     `bun:"debate_id"`
	Title      string     `bun:"title"`
	Notes      string     `bun:"notes"`
	Minutes    int        `bun:"minutes"`
	CreatedAt  time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	// A rectification item (AgendaRectification) names the published
	// decision it proposes to rectify, the register status it would set (""
	// keeps the status) and why (rectification.go).
	RectifiesID   *int64 `bun:"rectifies_id"`
	RectifyStatus string `bun:"rectify_status"`
	RectifyReason string `bun:"rectify_reason"`

	// Read with the agenda.
	DebateSlug string `bun:"debate_slug,scanonly"`
}

// Validate checks an agenda item.
func (a *AgendaItem) Validate() error {
	f := apperr.Fields{}
	a.Title, a.Notes = strings.TrimSpace(a.Title), strings.TrimSpace(a.Notes)
	if n := utf8.RuneCountInString(a.Title); n < 1 || n > 200 {
		f.Add("title", "L'intitulé du point est obligatoire (200 caractères au plus).")
	}
	if utf8.RuneCountInString(a.Notes) > 2000 {
		f.Add("notes", "Les notes comptent 2000 caractères au plus.")
	}
	if a.Minutes < 0 || a.Minutes > 600 {
		f.Add("minutes", "La durée prévue est comprise entre 0 et 600 minutes.")
	}
	switch a.Kind {
	case AgendaProposal:
		if a.ProposalID == nil || a.DebateID != nil {
			f.Add("kind", "Un point « proposition » désigne une proposition.")
		}
	case AgendaDebate:
		if a.DebateID == nil || a.ProposalID != nil {
			f.Add("kind", "Un point « débat » désigne un débat.")
		}
	case AgendaFree:
		if a.DebateID != nil || a.ProposalID != nil {
			f.Add("kind", "Un point libre ne désigne ni proposition ni débat.")
		}
	case AgendaRectification:
		if a.RectifiesID == nil || a.DebateID != nil || a.ProposalID != nil {
			f.Add("kind", "Un point « décision rectificative » désigne la décision qu'il rectifie.")
		}
	default:
		f.Add("kind", "Type de point inconnu.")
	}
	return f.Err()
}

// AttendanceStatus is a member's presence at a meeting.
type AttendanceStatus string

// The roll call answers.
const (
	Present AttendanceStatus = "present"
	Excused AttendanceStatus = "excuse"
	Absent  AttendanceStatus = "absent"
)

// Label is the status in French.
func (s AttendanceStatus) Label() string {
	switch s {
	case Present:
		return "Présent·e"
	case Excused:
		return "Excusé·e"
	case Absent:
		return "Absent·e"
	}
	return "Non renseigné"
}

// Valid reports whether s is a roll call answer.
func (s AttendanceStatus) Valid() bool { return s == Present || s == Excused || s == Absent }

// Attendance is one member's presence at one meeting.
type Attendance struct {
	bun.BaseModel `bun:"table:attendances"`

	CouncilID  int64            `bun:"council_id"`
	MeetingID  int64            `bun:"meeting_id,pk"`
	MemberID   int64            `bun:"member_id,pk"`
	Status     AttendanceStatus `bun:"status"`
	RecordedAt time.Time        `bun:"recorded_at,nullzero,default:current_timestamp"`
}

// QuorumKind says how a council counts its quorum.
type QuorumKind string

// The quorum kinds.
const (
	QuorumCount QuorumKind = "count" // a number of present members
	quorumShare QuorumKind = "share" // a percentage of the active members
)

// MeetingRules are a council's meeting rules: its quorum and whether a vote may
// open without it.
type MeetingRules struct {
	bun.BaseModel `bun:"table:meeting_rules"`

	CouncilID         int64      `bun:"council_id,pk"`
	QuorumKind        QuorumKind `bun:"quorum_kind"`
	QuorumCount       int        `bun:"quorum_count"`
	QuorumPercent     int        `bun:"quorum_percent"`
	VoteWithoutQuorum bool       `bun:"vote_without_quorum"`
	// ConvocationDays is how many days before a meeting its convocation is
	// sent (governance/notify).
	ConvocationDays int       `bun:"convocation_days"`
	UpdatedAt       time.Time `bun:"updated_at,nullzero,default:current_timestamp"`
	// ProxiesPerHolder is how many proxies one member may hold at a meeting
	// (0: none); ProxiesInQuorum, whether the members represented count
	// towards the quorum (see proxy.go).
	ProxiesPerHolder int  `bun:"proxies_per_holder"`
	ProxiesInQuorum  bool `bun:"proxies_in_quorum"`
}

// defaultRules are the rules of a council that has not set its own: half of the
// members present, no vote without quorum.
func defaultRules(councilID int64) MeetingRules {
	return MeetingRules{CouncilID: councilID, QuorumKind: quorumShare, QuorumPercent: 50, ConvocationDays: DefaultConvocationDays,
		ProxiesPerHolder: 1, ProxiesInQuorum: true}
}

// DefaultConvocationDays is how many days before a meeting its convocation
// goes out when the council has not said otherwise.
const DefaultConvocationDays = 7

// Validate checks the rules.
func (r *MeetingRules) Validate() error {
	f := apperr.Fields{}
	if r.ConvocationDays == 0 {
		r.ConvocationDays = DefaultConvocationDays
	}
	if r.ConvocationDays < 1 || r.ConvocationDays > 60 {
		f.Add("convocation_days", "La convocation part entre 1 et 60 jours avant la séance.")
	}
	if r.ProxiesPerHolder < 0 || r.ProxiesPerHolder > 10 {
		f.Add("proxies_per_holder", "Un membre porte de 0 à 10 procurations.")
	}
	switch r.QuorumKind {
	case QuorumCount:
		if r.QuorumCount < 0 || r.QuorumCount > 10000 {
			f.Add("quorum_count", "Le quorum est un nombre de membres entre 0 et 10 000.")
		}
	case quorumShare:
		if r.QuorumPercent < 0 || r.QuorumPercent > 100 {
			f.Add("quorum_percent", "Le quorum est un pourcentage entre 0 et 100.")
		}
	default:
		f.Add("quorum_kind", "Choisissez un nombre ou une part des membres.")
	}
	return f.Err()
}

// Required is the number of present members the quorum asks for, given the
// number of active members. A share is rounded up.
func (r MeetingRules) Required(members int) int {
	if r.QuorumKind == QuorumCount {
		return r.QuorumCount
	}
	return (members*r.QuorumPercent + 99) / 100
}

// Describe says the rule in French.
func (r MeetingRules) Describe() string {
	var s string
	if r.QuorumKind == QuorumCount {
		s = "au moins " + text.Count(r.QuorumCount, "membre présent", "membres présents")
	} else {
		s = "au moins " + strconv.Itoa(r.QuorumPercent) + " % des membres présents"
	}
	if r.VoteWithoutQuorum {
		return s + " ; un vote peut s'ouvrir sans quorum"
	}
	return s + " ; pas de vote sans quorum"
}

// quorum is the quorum situation of a meeting.
type quorum struct {
	Members  int // active members of the council
	Present  int
	Excused  int
	Absent   int
	Required int
	Rules    MeetingRules
	// Proxies is the number of active proxies whose holder is present.
	Proxies int
}

// RollTaken reports whether any member's attendance was recorded.
func (q quorum) RollTaken() bool { return q.Present+q.Excused+q.Absent > 0 }

// Reached reports whether enough members are present.
func (q quorum) Reached() bool { return q.Present+q.CountedProxies() >= q.Required && q.Present > 0 }

// CountedProxies is the number of members represented that the quorum counts.
func (q quorum) CountedProxies() int {
	if q.Rules.ProxiesInQuorum {
		return q.Proxies
	}
	return 0
}

// VoteAllowed reports whether a vote may open now.
func (q quorum) VoteAllowed() bool { return q.Reached() || q.Rules.VoteWithoutQuorum }
