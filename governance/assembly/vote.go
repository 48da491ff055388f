package assembly

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/internal/apperr"
)

// maxVoteOptions is the most options a majority-judgment vote may offer.
const maxVoteOptions = 20

// VoteMethod is how a vote decides.
type VoteMethod string

// The three methods.
const (
	MethodMajority VoteMethod = "majorite"     // pour / contre / abstention, with a threshold
	MethodConsent  VoteMethod = "consentement" // adopted unless someone objects (with a reason)
	MethodJudgment VoteMethod = "jugement"     // majority judgment over options on the 7-grade scale
)

// Vote modes and secrecy.
const (
	ModeOnline       = "en_ligne"  // members vote from their phones
	ModeInRoom       = "en_salle"  // the facilitator enters the counts of a show of hands
	SecrecyNominal   = "nominatif" // ballots are shown with names after the close
	SecrecyAnonymous = "anonyme"   // identity only keeps one ballot per member
)

// Label is the method in French.
func (m VoteMethod) Label() string {
	switch m {
	case MethodMajority:
		return "Majorité"
	case MethodConsent:
		return "Consentement"
	case MethodJudgment:
		return "Jugement majoritaire"
	}
	return string(m)
}

// Threshold is what a majority vote needs to adopt.
type Threshold string

// The thresholds.
const (
	ThresholdCast       Threshold = "exprimes"   // more pour than contre (majority of votes cast)
	ThresholdTwoThirds  Threshold = "deux_tiers" // pour ≥ two thirds of pour + contre
	ThresholdOfPresents Threshold = "presents"   // pour > half of the members present
)

// Label is the threshold in French.
func (t Threshold) Label() string {
	switch t {
	case ThresholdCast:
		return "majorité des suffrages exprimés"
	case ThresholdTwoThirds:
		return "deux tiers des suffrages exprimés"
	case ThresholdOfPresents:
		return "majorité absolue des présents"
	}
	return string(t)
}

// Choice is a ballot's answer in a majority or consent vote.
type Choice string

// The choices.
const (
	ChoiceFor       Choice = "pour"
	ChoiceAgainst   Choice = "contre"
	ChoiceAbstain   Choice = "abstention"
	ChoiceConsent   Choice = "consentement"
	ChoiceObjection Choice = "objection"
)

// Label is the choice in French.
func (c Choice) Label() string {
	switch c {
	case ChoiceFor:
		return "Pour"
	case ChoiceAgainst:
		return "Contre"
	case ChoiceAbstain:
		return "Abstention"
	case ChoiceConsent:
		return "Consentement"
	case ChoiceObjection:
		return "Objection"
	}
	return "—"
}

// optionEffects are the effects a majority-judgment option may have (what
// the winning option does to the proposal): none, a register status, or
// adjourning (the schema's vote_options CHECK).
var optionEffects = []string{"", string(catalog.Conventionne), string(catalog.SousConditions), string(catalog.NonConventionne),
	string(catalog.DebatSouhaite), "ajourner"}

// VoteOption is one option graded in a majority-judgment vote.
type VoteOption struct {
	bun.BaseModel `bun:"table:vote_options"`

	CouncilID int64  `bun:"council_id"`
	VoteID    int64  `bun:"vote_id,pk"`
	Position  int    `bun:"position,pk"`
	Label     string `bun:"label"`
	Effect    string `bun:"effect"` // register status the option stands for, "ajourner", or ""
}

// Vote is a vote on an agenda item.
type Vote struct {
	bun.BaseModel `bun:"table:votes"`

	ID           int64      `bun:"id,pk,autoincrement"`
	CouncilID    int64      `bun:"council_id"`
	MeetingID    int64      `bun:"meeting_id"`
	AgendaItemID int64      `bun:"agenda_item_id"`
	Question     string     `bun:"question"`
	Method       VoteMethod `bun:"method"`
	Mode         string     `bun:"mode"`
	Secrecy      string     `bun:"secrecy"`
	Threshold    Threshold  `bun:"threshold"`
	State        string     `bun:"state,nullzero,default:'ouvert'"`
	OpenedAt     time.Time  `bun:"opened_at,nullzero,default:current_timestamp"`
	ClosesAt     *time.Time `bun:"closes_at"`
	ClosedAt     *time.Time `bun:"closed_at"`
	Tally        *VoteTally `bun:"tally,type:jsonb"`
	BallotCount  *int       `bun:"ballot_count"`
	Outcome      string     `bun:"outcome"`
	WinnerOption *int       `bun:"winner_option"`
	DemoKey      *string    `bun:"demo_key"`
	CreatedAt    time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	// The quorum as it stood when the vote opened (nil for votes older than
	// the snapshot): active members, present, required, and the rule.
	QuorumMembers  *int        `bun:"quorum_members"`
	QuorumPresent  *int        `bun:"quorum_present"`
	QuorumRequired *int        `bun:"quorum_required"`
	QuorumRule     *quorumRule `bun:"quorum_rule,type:jsonb"`

	Options []VoteOption `bun:"-"`
}

// VoteState is a vote's state; an alias of string, which Vote.State stores.
type VoteState = string

// The vote states.
const (
	VoteOpen VoteState = "ouvert"
	// VoteCounted is an in-room vote whose counts were entered at the close
	// and are checked with the room before the result is published: no
	// ballot is taken any more, the counts may be corrected with a reason,
	// and no outcome or decision exists yet (docs/decisions.md).
	VoteCounted VoteState = "a_verifier"
	VoteClosed  VoteState = "clos"
)

// Closed reports whether the vote is closed and its result published.
func (v *Vote) Closed() bool { return v.State == VoteClosed }

// Counted reports whether an in-room vote's counts await their check.
func (v *Vote) Counted() bool { return v.State == VoteCounted }

// ClosedTime is the close time (zero while open).
func (v *Vote) ClosedTime() time.Time {
	if v.ClosedAt == nil {
		return time.Time{}
	}
	return *v.ClosedAt
}

// Count is the number of ballots counted at the close (0 while open).
func (v *Vote) Count() int {
	if v.BallotCount == nil {
		return 0
	}
	return *v.BallotCount
}

// Anonymous reports whether ballots are secret.
func (v *Vote) Anonymous() bool { return v.Secrecy == SecrecyAnonymous }

// InRoom reports whether the facilitator enters the counts.
func (v *Vote) InRoom() bool { return v.Mode == ModeInRoom }

// OutcomeLabel says the outcome in French.
func (v *Vote) OutcomeLabel() string {
	switch v.Outcome {
	case "adopte":
		return "Adopté"
	case "rejete":
		return "Rejeté"
	}
	if v.Counted() {
		return "Décompte à vérifier"
	}
	return "En cours"
}

// Validate checks a vote before it opens.
func (v *Vote) Validate() error {
	f := apperr.Fields{}
	v.Question = strings.TrimSpace(v.Question)
	if n := utf8.RuneCountInString(v.Question); n < 3 || n > 300 {
		f.Add("question", "La question soumise au vote compte de 3 à 300 caractères.")
	}
	switch v.Method {
	case MethodMajority:
		if v.Threshold != ThresholdCast && v.Threshold != ThresholdTwoThirds && v.Threshold != ThresholdOfPresents {
			f.Add("threshold", "Choisissez le seuil d'adoption.")
		}
	case MethodConsent:
		v.Threshold = ThresholdCast
	case MethodJudgment:
		v.Threshold = ThresholdCast
		if len(v.Options) < 2 || len(v.Options) > maxVoteOptions {
			f.Add("options", "Le jugement majoritaire demande de 2 à 20 options.")
		}
		for i := range v.Options {
			o := &v.Options[i]
			o.Label, o.Effect = strings.TrimSpace(o.Label), strings.TrimSpace(o.Effect)
			o.Position = i + 1
			if n := utf8.RuneCountInString(o.Label); n < 1 || n > 200 {
				f.Add("options", "Chaque option a un intitulé (200 caractères au plus).")
			}
			if !slices.Contains(optionEffects, o.Effect) {
				f.Add("options", fmt.Sprintf("Effet inconnu pour « %s » : choisissez-le dans la liste.", o.Label))
			}
		}
	default:
		f.Add("method", "Choisissez une méthode de vote.")
	}
	if v.Method != MethodJudgment && len(v.Options) > 0 {
		f.Add("options", "Seul le jugement majoritaire a des options.")
	}
	if v.Mode != ModeOnline && v.Mode != ModeInRoom {
		f.Add("mode", "Choisissez un vote en ligne ou en salle.")
	}
	if v.Secrecy != SecrecyNominal && v.Secrecy != SecrecyAnonymous {
		f.Add("secrecy", "Choisissez un vote nominatif ou anonyme.")
	}
	if v.Mode == ModeInRoom && v.Secrecy == SecrecyNominal {
		// A show of hands is counted, not recorded per name.
		v.Secrecy = SecrecyAnonymous
	}
	return f.Err()
}

// Ballot is one member's ballot in a vote. For an anonymous vote MemberID is
// only there to keep one ballot per member: no page or feed shows it.
type Ballot struct {
	bun.BaseModel `bun:"table:ballots"`

	ID        int64     `bun:"id,pk,autoincrement"`
	CouncilID int64     `bun:"council_id"`
	VoteID    int64     `bun:"vote_id"`
	MemberID  int64     `bun:"member_id"`
	Choice    Choice    `bun:"choice"`
	Reason    string    `bun:"reason"`
	Grades    []int16   `bun:"grades,array"`
	CastAt    time.Time `bun:"cast_at,nullzero,default:clock_timestamp()"`
	Changes   int       `bun:"changes"`
	// Via and CastByID say who entered the ballot when not its member: the
	// holder of their proxy, or the facilitator from a paper ballot.
	Via      BallotVia `bun:"via"`
	CastByID *int64    `bun:"cast_by_id"`
}

// ValidateFor checks a ballot against its vote.
func (b *Ballot) ValidateFor(v *Vote) error {
	f := apperr.Fields{}
	b.Reason = strings.TrimSpace(b.Reason)
	switch {
	case utf8.RuneCountInString(b.Reason) > 1000:
		f.Add("reason", "La raison compte 1000 caractères au plus.")
	case strings.ContainsRune(b.Reason, 0):
		// PostgreSQL stores no NUL: refused here rather than failing the
		// statement (text is normalised at the edge; this holds without it).
		f.Add("reason", "La raison contient un caractère invisible interdit : retapez-la.")
	}
	switch v.Method {
	case MethodMajority:
		if b.Choice != ChoiceFor && b.Choice != ChoiceAgainst && b.Choice != ChoiceAbstain {
			f.Add("choice", "Choisissez pour, contre ou abstention.")
		}
		b.Grades = nil
	case MethodConsent:
		switch b.Choice {
		case ChoiceConsent:
		case ChoiceObjection:
			if b.Reason == "" {
				f.Add("reason", "Une objection doit être motivée.")
			}
		default:
			f.Add("choice", "Choisissez consentement ou objection.")
		}
		b.Grades = nil
	case MethodJudgment:
		b.Choice = ""
		if len(b.Grades) != len(v.Options) {
			f.Add("grades", "Donnez une mention à chaque option.")
		}
		for _, g := range b.Grades {
			if !boussole.Grade(g).Valid() {
				f.Add("grades", "Donnez une mention à chaque option.")
				break
			}
		}
	}
	return f.Err()
}

// VoteTally is the result of a closed vote, stored with it.
type VoteTally struct {
	For        int `json:"pour"`
	Against    int `json:"contre"`
	Abstain    int `json:"abstention"`
	Consent    int `json:"consentement"`
	Objections int `json:"objections"`
	// Reasons of the objections (consent votes), without names.
	ObjectionReasons []string `json:"objection_reasons,omitempty"`
	// Profiles are the options' merit profiles (majority judgment), by position.
	Profiles []MeritProfile `json:"profiles,omitempty"`
	// Ranking lists option positions from the best to the worst.
	Ranking []int `json:"ranking,omitempty"`
	// Tie is set when the two best options cannot be separated.
	Tie bool `json:"tie,omitempty"`
	// Present is the number of members present when the vote closed.
	Present int `json:"presents"`
	// Ballots is the number of ballots (online) or hands counted (in room).
	Ballots int  `json:"bulletins"`
	InRoom  bool `json:"en_salle,omitempty"`
	// ByProxy and OnPaper count the ballots cast by a proxy's holder and
	// those entered by the facilitator from a paper ballot.
	ByProxy int `json:"procurations,omitempty"`
	OnPaper int `json:"papier,omitempty"`
	// Corrections are the corrections of an in-room count made before the
	// result was published, oldest first: kept with the tally, so the vote
	// page, the decision and the minutes say a count was corrected and why.
	Corrections []CountCorrection `json:"corrections,omitempty"`
}

// CountCorrection is one correction of an in-room count before publication.
type CountCorrection struct {
	At     time.Time `json:"le"`
	By     string    `json:"par"`
	Reason string    `json:"motif"`
	Before string    `json:"avant"` // the counts as they stood, in French
}

// Add counts one ballot.
func (t *VoteTally) Add(v *Vote, b *Ballot) {
	t.Ballots++
	switch b.Via {
	case BallotByProxy:
		t.ByProxy++
	case BallotOnPaper:
		t.OnPaper++
	}
	switch v.Method {
	case MethodMajority:
		switch b.Choice {
		case ChoiceFor:
			t.For++
		case ChoiceAgainst:
			t.Against++
		case ChoiceAbstain:
			t.Abstain++
		}
	case MethodConsent:
		switch b.Choice {
		case ChoiceConsent:
			t.Consent++
		case ChoiceObjection:
			t.Objections++
			t.ObjectionReasons = append(t.ObjectionReasons, b.Reason)
		}
	case MethodJudgment:
		if len(t.Profiles) < len(v.Options) {
			t.Profiles = append(t.Profiles, make([]MeritProfile, len(v.Options)-len(t.Profiles))...)
		}
		for i, g := range b.Grades {
			if i < len(t.Profiles) && boussole.Grade(g).Valid() {
				t.Profiles[i].Counts[g]++
			}
		}
	}
}

// Decide computes the outcome from the counts: "adopte" or "rejete", and for
// majority judgment the ranking and the winning option's position.
func (t *VoteTally) Decide(v *Vote) (outcome string, winner *int) {
	switch v.Method {
	case MethodMajority:
		adopted := false
		switch v.Threshold {
		case ThresholdCast:
			adopted = t.For > t.Against
		case ThresholdTwoThirds:
			adopted = t.For > 0 && 3*t.For >= 2*(t.For+t.Against)
		case ThresholdOfPresents:
			adopted = 2*t.For > t.Present
		}
		if adopted {
			return "adopte", nil
		}
		return "rejete", nil
	case MethodConsent:
		if t.Objections == 0 {
			return "adopte", nil
		}
		return "rejete", nil
	case MethodJudgment:
		if len(t.Profiles) < len(v.Options) {
			t.Profiles = append(t.Profiles, make([]MeritProfile, len(v.Options)-len(t.Profiles))...)
		}
		order, tie := rankProfiles(t.Profiles)
		t.Ranking, t.Tie = make([]int, len(order)), tie
		for i, idx := range order {
			t.Ranking[i] = idx + 1
		}
		if len(order) == 0 || t.Profiles[order[0]].Total() == 0 || tie {
			return "rejete", nil
		}
		w := order[0] + 1
		return "adopte", &w
	}
	return "rejete", nil
}
