// Package proposal holds what members put on the council's table — a product,
// a shop, the criteria or the boussole itself — with its lifecycle (draft to
// applied), the members' scores against the boussole and their aggregate
// (results, radar, comparison), and the /propositions pages.
package proposal

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/web"
)

// ProposalKind is what a proposal asks the council to decide.
type ProposalKind string

// The kinds of proposal.
const (
	ProposalItemNew        ProposalKind = "item_new"        // a new item in the register
	ProposalItemStatus     ProposalKind = "item_status"     // a change of an item's status
	ProposalShopAdhesion   ProposalKind = "shop_adhesion"   // a point de vente joins
	ProposalShopSuspension ProposalKind = "shop_suspension" // a point de vente is suspended
	ProposalShopWithdrawal ProposalKind = "shop_withdrawal" // a point de vente leaves
	ProposalCriteria       ProposalKind = "criteria"        // the conventionnement criteria change
	ProposalBoussole       ProposalKind = "boussole"        // the boussole itself changes
)

// proposalKinds lists the kinds in the order forms present them.
var proposalKinds = []ProposalKind{ProposalItemNew, ProposalItemStatus, ProposalShopAdhesion,
	ProposalShopSuspension, ProposalShopWithdrawal, ProposalCriteria, ProposalBoussole}

// Label is the kind in French.
func (k ProposalKind) Label() string {
	switch k {
	case ProposalItemNew:
		return "Nouveau produit au registre"
	case ProposalItemStatus:
		return "Changement de statut d'un produit"
	case ProposalShopAdhesion:
		return "Adhésion d'un point de vente"
	case ProposalShopSuspension:
		return "Suspension d'un point de vente"
	case ProposalShopWithdrawal:
		return "Retrait d'un point de vente"
	case ProposalCriteria:
		return "Critères de conventionnement"
	case ProposalBoussole:
		return "Modification de la boussole"
	case ProposalRegisterInitial:
		return "Registre initial"
	}
	return "Type inconnu"
}

// Valid reports whether k is a known kind.
func (k ProposalKind) Valid() bool {
	for _, x := range proposalKinds {
		if x == k {
			return true
		}
	}
	return false
}

// TargetsItem reports whether the kind names a register item.
func (k ProposalKind) TargetsItem() bool { return k == ProposalItemNew || k == ProposalItemStatus }

// TargetsShop reports whether the kind names a point de vente.
func (k ProposalKind) TargetsShop() bool {
	return k == ProposalShopAdhesion || k == ProposalShopSuspension || k == ProposalShopWithdrawal
}

// ProposalState is where a proposal stands in its lifecycle.
type ProposalState string

// The lifecycle: brouillon → ouverte → inscrite → en vote → adoptée / rejetée /
// ajournée → appliquée; retirée by its author before the vote.
const (
	ProposalDraft     ProposalState = "brouillon"
	ProposalOpen      ProposalState = "ouverte"
	ProposalScheduled ProposalState = "inscrite" // inscrite à l'ordre du jour
	ProposalVoting    ProposalState = "en_vote"
	ProposalAdopted   ProposalState = "adoptee"
	ProposalRejected  ProposalState = "rejetee"
	ProposalAdjourned ProposalState = "ajournee"
	ProposalApplied   ProposalState = "appliquee"
	ProposalWithdrawn ProposalState = "retiree"
)

// ProposalStates lists every state in lifecycle order.
var ProposalStates = []ProposalState{ProposalDraft, ProposalOpen, ProposalScheduled, ProposalVoting,
	ProposalAdopted, ProposalRejected, ProposalAdjourned, ProposalApplied, ProposalWithdrawn}

// Label is the state in French.
func (s ProposalState) Label() string {
	switch s {
	case ProposalDraft:
		return "Brouillon"
	case ProposalOpen:
		return "Ouverte"
	case ProposalScheduled:
		return "Inscrite à l'ordre du jour"
	case ProposalVoting:
		return "En vote"
	case ProposalAdopted:
		return "Adoptée"
	case ProposalRejected:
		return "Rejetée"
	case ProposalAdjourned:
		return "Ajournée"
	case ProposalApplied:
		return "Appliquée"
	case ProposalWithdrawn:
		return "Retirée"
	case "":
		return "Création"
	}
	return "État inconnu"
}

// Valid reports whether s is a known state.
func (s ProposalState) Valid() bool {
	for _, x := range ProposalStates {
		if x == s {
			return true
		}
	}
	return false
}

// Scorable reports whether members may grade (or revise grades) in this state:
// from ouverte until the vote opens; scores are frozen afterwards.
func (s ProposalState) Scorable() bool { return s == ProposalOpen || s == ProposalScheduled }

// Public reports whether anyone may read a proposal in this state.
func (s ProposalState) Public() bool { return s != ProposalDraft }

// Proposal is something put to the council.
type Proposal struct {
	bun.BaseModel `bun:"table:proposals,alias:p"`

	ID             int64          `bun:"id,pk,autoincrement"`
	CouncilID      int64          `bun:"council_id"`
	Kind           ProposalKind   `bun:"kind"`
	State          ProposalState  `bun:"state"`
	Title          string         `bun:"title"`
	TargetItemID   *int64         `bun:"target_item_id"`
	TargetShopID   *int64         `bun:"target_shop_id"`
	ItemName       string         `bun:"item_name"`
	ProposedStatus catalog.Status `bun:"proposed_status"`
	Conditions     string         `bun:"conditions"`
	Reason         string         `bun:"reason"`
	Outcome        string         `bun:"outcome"`
	RationaleMD    string         `bun:"rationale_md"`
	RationaleHTML  string         `bun:"rationale_html"`
	// RegisterExplanationMD is the public explanation (markdown) the item
	// receives with its new status when the proposal is adopted; "" leaves
	// it to the decision's motivation.
	RegisterExplanationMD string `bun:"register_explanation_md"`
	Sources               string `bun:"sources"`
	// BoussolePayload is the proposed boussole of a proposal of kind
	// boussole written with the criteria form (nil for the older text form
	// in Outcome, and for other kinds).
	BoussolePayload []boussole.CriterionSpec `bun:"boussole_payload,type:jsonb,nullzero"`
	AuthorID        *int64                   `bun:"author_id"`
	AuthorName      string                   `bun:"author_name"`
	DemoKey         *string                  `bun:"demo_key"`
	CreatedAt       time.Time                `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt       time.Time                `bun:"updated_at,nullzero,default:current_timestamp"`
	StateChangedAt  time.Time                `bun:"state_changed_at,nullzero,default:current_timestamp"`

	// Read with the proposal, not stored in its row.
	TargetItemName string `bun:"target_item_name,scanonly"`
	TargetShopName string `bun:"target_shop_name,scanonly"`
	// The targets' slugs, for the links back to their pages (issue 20, point 5).
	TargetItemSlug string `bun:"target_item_slug,scanonly"`
	TargetShopSlug string `bun:"target_shop_slug,scanonly"`
}

// Field limits, the schema's as well.
const (
	MaxTitle     = 200
	maxOutcome   = 2000
	maxReason    = 2000
	maxRationale = 20000
	maxSources   = 5000
	maxNote      = 1000
	maxComment   = 500
)

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// Validate checks a proposal's own rules before it is saved; it trims the text
// fields. The schema checks the same invariants again.
func (p *Proposal) Validate() error {
	f := apperr.Fields{}
	for _, s := range []*string{&p.Title, &p.ItemName, &p.Conditions, &p.Reason, &p.Outcome, &p.Sources, &p.RegisterExplanationMD} {
		*s = strings.TrimSpace(*s)
	}
	switch n := utf8.RuneCountInString(p.Title); {
	case n < 3:
		f.Add("title", "Donnez un titre d'au moins 3 caractères.")
	case n > MaxTitle:
		f.Add("title", "Le titre ne doit pas dépasser 200 caractères.")
	}
	if !p.Kind.Valid() {
		f.Add("kind", "Choisissez le type de proposition.")
	}
	switch p.Kind {
	case ProposalItemNew:
		if p.ItemName == "" {
			f.Add("item_name", "Donnez le nom du produit à inscrire au registre.")
		} else if tooLong(p.ItemName, MaxTitle) {
			f.Add("item_name", "Le nom ne doit pas dépasser 200 caractères.")
		}
	case ProposalItemStatus:
		if p.TargetItemID == nil {
			f.Add("target_item", "Choisissez le produit dont le statut changerait.")
		}
	case ProposalShopAdhesion, ProposalShopSuspension, ProposalShopWithdrawal:
		if p.TargetShopID == nil {
			f.Add("target_shop", "Choisissez le point de vente concerné.")
		}
	}
	if !p.Kind.TargetsItem() {
		p.TargetItemID, p.ProposedStatus, p.ItemName = nil, "", ""
		p.Conditions, p.RegisterExplanationMD = "", ""
	}
	if tooLong(p.RegisterExplanationMD, maxRationale) {
		f.Add("register_explanation", "L'explication publique ne doit pas dépasser 20 000 caractères.")
	}
	if !p.Kind.TargetsShop() {
		p.TargetShopID = nil
	}
	if p.Kind.TargetsItem() {
		if !p.ProposedStatus.Valid() {
			f.Add("proposed_status", "Choisissez le statut proposé.")
		}
		if p.ProposedStatus == catalog.SousConditions && p.Conditions == "" {
			f.Add("conditions", "Précisez les conditions du conventionnement proposé.")
		}
		if p.ProposedStatus == catalog.NonConventionne && p.Reason == "" {
			f.Add("reason", "Donnez la raison du non-conventionnement proposé.")
		}
	}
	if (p.Kind == ProposalShopSuspension || p.Kind == ProposalShopWithdrawal) && p.Reason == "" {
		f.Add("reason", "Donnez la raison de la suspension ou du retrait.")
	}
	if tooLong(p.Conditions, maxReason) {
		f.Add("conditions", "Les conditions ne doivent pas dépasser 2000 caractères.")
	}
	if tooLong(p.Reason, maxReason) {
		f.Add("reason", "La raison ne doit pas dépasser 2000 caractères.")
	}
	switch n := utf8.RuneCountInString(p.Outcome); {
	case n == 0:
		f.Add("outcome", "Décrivez la décision proposée au Conseil.")
	case n > maxOutcome:
		f.Add("outcome", "La décision proposée ne doit pas dépasser 2000 caractères.")
	}
	if p.BoussolePayload != nil {
		if p.Kind != ProposalBoussole {
			f.Add("kind", "Seule une modification de la boussole propose des critères.")
		}
		for k, msg := range boussole.ValidateSpec(p.BoussolePayload) {
			f.Add(k, msg)
		}
	} else if p.Kind == ProposalBoussole && f["outcome"] == "" {
		if _, err := ParseBoussoleSpec(p.Outcome); err != nil {
			f.Add("outcome", "Nouvelle boussole : "+err.Error()+".")
		}
	}
	if tooLong(p.RationaleMD, maxRationale) {
		f.Add("rationale", "L'argumentaire ne doit pas dépasser 20 000 caractères.")
	}
	if tooLong(p.Sources, maxSources) {
		f.Add("sources", "Les sources ne doivent pas dépasser 5000 caractères.")
	}
	return f.Err()
}

// Source is one line of a proposal's sources: a link, or a document described.
type Source struct {
	Text string
	URL  string // set when the line is an http(s) link
}

// SourceList splits the sources, one per line; lines that are http(s) links
// become links.
func (p *Proposal) SourceList() []Source {
	var out []Source
	for _, line := range strings.Split(p.Sources, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		s := Source{Text: line}
		if u, err := url.Parse(line); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && !strings.ContainsAny(line, " \t") {
			s.URL = line
		}
		out = append(out, s)
	}
	return out
}

// IsAuthor reports whether the account wrote the proposal.
func (p *Proposal) IsAuthor(accountID int64) bool {
	return accountID != 0 && p.AuthorID != nil && *p.AuthorID == accountID
}

// VisibleTo reports whether v may read the proposal: everyone from ouverte on,
// only its author while it is a draft.
func (p *Proposal) VisibleTo(v *web.Viewer) bool {
	return p.State.Public() || v != nil && p.IsAuthor(v.AccountID)
}

// Transition is one allowed move of the lifecycle: who may make it is the
// action's row in the authorization table, restricted to the proposal's author
// when AuthorOnly.
type Transition struct {
	From       ProposalState
	To         ProposalState
	Action     authz.Action
	AuthorOnly bool
	Verb       string // the button's label, in French
}

// Transitions is the whole state machine: any move not listed is refused.
var Transitions = []Transition{
	{ProposalDraft, ProposalOpen, authz.PublishProposal, true, "Ouvrir à l'évaluation et au débat"},
	{ProposalDraft, ProposalWithdrawn, authz.WithdrawProposal, true, "Retirer la proposition"},
	{ProposalOpen, ProposalScheduled, authz.ScheduleProposal, false, "Inscrire à l'ordre du jour"},
	{ProposalOpen, ProposalWithdrawn, authz.WithdrawProposal, true, "Retirer la proposition"},
	{ProposalScheduled, ProposalOpen, authz.ScheduleProposal, false, "Retirer de l'ordre du jour"},
	{ProposalScheduled, ProposalVoting, authz.ScheduleProposal, false, "Ouvrir le vote"},
	{ProposalScheduled, ProposalAdjourned, authz.DecideProposal, false, "Ajourner"},
	{ProposalScheduled, ProposalWithdrawn, authz.WithdrawProposal, true, "Retirer la proposition"},
	{ProposalVoting, ProposalAdopted, authz.DecideProposal, false, "Constater l'adoption"},
	{ProposalVoting, ProposalRejected, authz.DecideProposal, false, "Constater le rejet"},
	{ProposalVoting, ProposalAdjourned, authz.DecideProposal, false, "Ajourner"},
	{ProposalAdjourned, ProposalScheduled, authz.ScheduleProposal, false, "Réinscrire à un ordre du jour"},
	{ProposalAdjourned, ProposalWithdrawn, authz.WithdrawProposal, true, "Retirer la proposition"},
	{ProposalAdopted, ProposalApplied, authz.ApplyProposal, false, "Marquer comme appliquée"},
}

// CheckTransition says whether actor may move p to the state to: Unauthorized
// for an anonymous actor, Forbidden for a non-member, a Conflict error when the
// lifecycle has no such move from p's state, Forbidden when the member's role or
// authorship does not allow it.
func CheckTransition(p *Proposal, actor audit.Actor, to ProposalState) error {
	if actor.AccountID == 0 {
		return apperr.New(apperr.Unauthorized, "Connectez-vous pour agir sur une proposition.")
	}
	if actor.Role == authz.None {
		return apperr.New(apperr.Forbidden, "Seul·es les membres du Conseil peuvent agir sur ses propositions.")
	}
	var rule *Transition
	for i := range Transitions {
		if Transitions[i].From == p.State && Transitions[i].To == to {
			rule = &Transitions[i]
			break
		}
	}
	if rule == nil {
		return apperr.New(apperr.Conflict, "Cette proposition est « %s » : elle ne peut pas passer à l'état « %s ».",
			p.State.Label(), to.Label())
	}
	if !authz.Can(actor.Role, rule.Action) {
		return apperr.New(apperr.Forbidden, "Votre rôle dans ce Conseil ne permet pas de faire passer une proposition à l'état « %s ».", to.Label())
	}
	if rule.AuthorOnly && !p.IsAuthor(actor.AccountID) {
		return apperr.New(apperr.Forbidden, "Seul·e l'auteur·ice de la proposition peut la faire passer à l'état « %s ».", to.Label())
	}
	return nil
}

// availableTransitions lists the moves actor may make on p now.
func availableTransitions(p *Proposal, actor audit.Actor) []Transition {
	var out []Transition
	for _, t := range Transitions {
		if t.From == p.State && CheckTransition(p, actor, t.To) == nil {
			out = append(out, t)
		}
	}
	return out
}

// ProposalEvent is one line of a proposal's timeline.
type ProposalEvent struct {
	bun.BaseModel `bun:"table:proposal_events"`

	ID         int64         `bun:"id,pk,autoincrement"`
	CouncilID  int64         `bun:"council_id"`
	ProposalID int64         `bun:"proposal_id"`
	FromState  ProposalState `bun:"from_state"`
	ToState    ProposalState `bun:"to_state"`
	ActorID    *int64        `bun:"actor_id"`
	ActorName  string        `bun:"actor_name"`
	Note       string        `bun:"note"`
	CreatedAt  time.Time     `bun:"created_at,nullzero,default:current_timestamp"`
}
