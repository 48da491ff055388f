// Package notify reaches the council's members: it turns what happens in
// the domains (a meeting convened, changed or cancelled, a vote opened or
// closing, results) into one message per recipient, records each in the
// notifications table (what was sent, or would have been sent without SMTP,
// and how its delivery went), and sends it through internal/mail.
//
// The domains tell it through the jobs of notify/event, enqueued in the
// transaction of their change; notify's workers then read the domains again
// (fresh data: a member disabled since gets nothing, a meeting moved is
// described as it is now) and enqueue one deliver job per recipient, unique
// per (council, recipient, event). What depends on the date (convocations N
// days before, votes closing within 24 hours) is swept by periodic jobs.
package notify

import (
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Kind is a kind of notification; members choose per kind.
type Kind string

// The kinds.
const (
	KindConvocation Kind = "convocation"
	KindVoteOpened  Kind = "vote_opened"
	KindVoteClosing Kind = "vote_closing"
	KindResults     Kind = "results"
	// KindDigest is the weekly digest: a member takes it or not.
	KindDigest Kind = "digest"
	// KindRenewal tells facilitators, and the shop, that a convention ends
	// in 60 or 15 days.
	KindRenewal Kind = "renewal"
	// KindApplication is a shop applicant's follow-up: the receipt, each
	// question of the council, the decision.
	KindApplication Kind = "application"
	// KindPublicDigest is the citizens' weekly digest.
	KindPublicDigest Kind = "public_digest"
	// KindSubscription is the mail that confirms a citizen's subscription
	// (double opt-in).
	KindSubscription Kind = "subscription"
)

// Kinds lists the kinds members choose for, in the order /compte shows them.
var Kinds = []Kind{KindConvocation, KindVoteOpened, KindVoteClosing, KindResults}

// allKinds are the kinds a member's choice may name: Kinds, the digest
// (taken, Immediate, or not, Never) and the renewals facilitators get.
var allKinds = append(append([]Kind{}, Kinds...), KindDigest, KindRenewal)

// Recipients without an account are named by a prefix and an id.
const (
	subscriberPrefix = "subscriber:"  // a citizen subscribed to the public digest
	applicantPrefix  = "application:" // a shop applicant, by application
	shopPrefix       = "shop:"        // a point de vente, for its renewals
)

// otherKinds are the kinds a recipient without an account can leave.
var otherKinds = map[Kind]bool{KindApplication: true, KindRenewal: true, KindPublicDigest: true}

// isOtherRecipient reports whether r names a recipient without an account.
func isOtherRecipient(r string) bool {
	for _, p := range []string{subscriberPrefix, applicantPrefix, shopPrefix} {
		if id, ok := strings.CutPrefix(r, p); ok {
			_, err := strconv.ParseInt(id, 10, 64)
			return err == nil
		}
	}
	return false
}

// Label is the kind in French.
func (k Kind) Label() string {
	switch k {
	case KindConvocation:
		return "Convocations aux séances (et leurs changements)"
	case KindVoteOpened:
		return "Ouverture d'un vote"
	case KindVoteClosing:
		return "Rappel : un vote se termine dans 24 heures et vous n'avez pas voté"
	case KindResults:
		return "Résultats et décisions d'une séance"
	case KindDigest:
		return "Résumé hebdomadaire"
	case KindRenewal:
		return "Conventions à renouveler"
	case KindApplication:
		return "Suivi de votre candidature de point de vente"
	case KindPublicDigest:
		return "Résumé hebdomadaire des décisions du conseil"
	case KindSubscription:
		return "Confirmation d'abonnement"
	}
	return string(k)
}

// Valid reports whether k is a kind members choose for.
func (k Kind) Valid() bool {
	for _, x := range allKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Delivery is how a member wants a kind: at once, in the weekly digest, or
// not at all.
type Delivery string

// The deliveries.
const (
	Immediate Delivery = "immediate"
	Digest    Delivery = "digest"
	Never     Delivery = "never"
)

// Label is the delivery in French.
func (d Delivery) Label() string {
	switch d {
	case Immediate:
		return "Tout de suite"
	case Digest:
		return "Dans le résumé hebdomadaire"
	case Never:
		return "Jamais"
	}
	return string(d)
}

// Deliveries lists the choices.
var Deliveries = []Delivery{Immediate, Digest, Never}

// State is where a notification's delivery stands.
type State string

// The states.
const (
	Queued   State = "queued"   // waiting, or retried after a temporary failure
	Sent     State = "sent"     // accepted by the SMTP server
	Failed   State = "failed"   // refused for good; Answer says why
	Recorded State = "recorded" // no SMTP configured: shown on the site only
	InDigest State = "digest"   // kept for the member's weekly digest
)

// Label is the state in French.
func (s State) Label() string {
	switch s {
	case Queued:
		return "En attente"
	case Sent:
		return "Envoyé"
	case Failed:
		return "Échec"
	case Recorded:
		return "Enregistré (pas d'envoi configuré)"
	case InDigest:
		return "Gardé pour le résumé"
	}
	return string(s)
}

// Notification is one message to one recipient about one event.
type Notification struct {
	bun.BaseModel `bun:"table:notifications,alias:n"`

	ID        int64      `bun:"id,pk,autoincrement"`
	CouncilID int64      `bun:"council_id"`
	Recipient string     `bun:"recipient"`
	AccountID *int64     `bun:"account_id"`
	Email     string     `bun:"email"`
	Kind      Kind       `bun:"kind"`
	EventKey  string     `bun:"event_key"`
	Subject   string     `bun:"subject"`
	BodyText  string     `bun:"body_text"`
	BodyHTML  string     `bun:"body_html"`
	Link      string     `bun:"link"`
	MessageID string     `bun:"message_id"`
	State     State      `bun:"state"`
	Answer    string     `bun:"answer"`
	Attempts  int        `bun:"attempts"`
	JobID     *int64     `bun:"job_id"`
	CreatedAt time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt time.Time  `bun:"updated_at,nullzero,default:current_timestamp"`
	SentAt    *time.Time `bun:"sent_at"`

	// Read with the facilitators' list.
	Name string `bun:"name,scanonly"`
}

// Pref is a member's choice for one kind.
type Pref struct {
	bun.BaseModel `bun:"table:notification_prefs"`

	CouncilID int64    `bun:"council_id,pk"`
	AccountID int64    `bun:"account_id,pk"`
	Kind      Kind     `bun:"kind,pk"`
	Delivery  Delivery `bun:"delivery"`
	// Address, for convocations only, replaces the account's address.
	Address   string    `bun:"address"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,default:current_timestamp"`
}

// accountRecipient is the recipient key of a member's account.
func accountRecipient(accountID int64) string {
	return "account:" + itoa(accountID)
}
