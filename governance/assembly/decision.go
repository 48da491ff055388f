package assembly

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/application"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
	"cla/internal/markdown"
	"cla/internal/text"
	"cla/internal/web"
)

// DecisionOutcome is what the council decided on a proposal.
type DecisionOutcome string

// The outcomes.
const (
	DecisionAdopted   DecisionOutcome = "adoptee"
	decisionRejected  DecisionOutcome = "rejetee"
	DecisionAdjourned DecisionOutcome = "ajournee"
)

// Label is the outcome in French.
func (o DecisionOutcome) Label() string {
	switch o {
	case DecisionAdopted:
		return "Adoptée"
	case decisionRejected:
		return "Rejetée"
	case DecisionAdjourned:
		return "Ajournée"
	}
	return string(o)
}

// Decision is a decision of the council, recorded when a vote on a proposal
// closes. It never changes afterwards (append-only in the schema).
type Decision struct {
	bun.BaseModel `bun:"table:decisions,alias:d"`

	ID              int64           `bun:"id,pk,autoincrement"`
	CouncilID       int64           `bun:"council_id"`
	MeetingID       int64           `bun:"meeting_id"`
	VoteID          *int64          `bun:"vote_id"`
	AgendaItemID    int64           `bun:"agenda_item_id"`
	ProposalID      *int64          `bun:"proposal_id"`
	Outcome         DecisionOutcome `bun:"outcome"`
	Title           string          `bun:"title"`
	MotivationMD    string          `bun:"motivation_md"`
	MotivationHTML  string          `bun:"motivation_html"`
	RegisterVersion *int            `bun:"register_version"`
	DecidedAt       time.Time       `bun:"decided_at"`
	EffectiveOn     *time.Time      `bun:"effective_on,type:date"`
	ActorID         *int64          `bun:"actor_id"`
	ActorName       string          `bun:"actor_name"`
	DemoKey         *string         `bun:"demo_key"`
	CreatedAt       time.Time       `bun:"created_at,nullzero,default:current_timestamp"`
	// SupersedesID is the published decision a rectifying decision replaces,
	// with the reason of the rectification (correction.go).
	SupersedesID        *int64 `bun:"supersedes_id"`
	RectificationReason string `bun:"rectification_reason"`

	// Read with the decision.
	MeetingTitle string    `bun:"meeting_title,scanonly"`
	MeetingStart time.Time `bun:"meeting_start,scanonly"`
	// SupersededByID is the decision that rectifies this one, if any.
	SupersededByID *int64 `bun:"superseded_by_id,scanonly"`
}

// Ref is the decision's stable reference in the register ("decision:42").
func (d *Decision) Ref() string { return "decision:" + strconv.FormatInt(d.ID, 10) }

// Path is the decision's public page.
func (d *Decision) Path() string { return "/decisions/" + strconv.FormatInt(d.ID, 10) }

// decideOnClose records the decision of a vote on a proposal, or the
// rectifying decision of a vote on a rectification item, inside the close's
// transaction. Nothing happens for a vote on a debate or free item.
func decideOnClose(ctx context.Context, tx bun.Tx, v *Vote, actor audit.Actor, in CloseInput) (*Decision, error) {
	item := new(AgendaItem)
	if err := tx.NewSelect().Model(item).Where("id = ? AND council_id = ?", v.AgendaItemID, v.CouncilID).Scan(ctx); err != nil {
		return nil, err
	}
	if item.Kind == AgendaRectification {
		return decideRectification(ctx, tx, v, item, actor, in)
	}
	if item.Kind != AgendaProposal || item.ProposalID == nil {
		return nil, nil
	}
	p, err := proposal.GetProposal(ctx, tx, v.CouncilID, *item.ProposalID)
	if err != nil {
		return nil, err
	}
	outcome, status := decisionRejected, p.ProposedStatus
	if v.Outcome == "adopte" {
		outcome = DecisionAdopted
	}
	var optionLabel string
	if v.Method == MethodJudgment && v.WinnerOption != nil {
		o := v.Options[*v.WinnerOption-1]
		optionLabel = o.Label
		switch o.Effect {
		case "ajourner":
			outcome = DecisionAdjourned
		case "":
		default:
			status = catalog.Status(o.Effect)
		}
	}
	if in.Adjourn {
		outcome = DecisionAdjourned
	}
	motivation := strings.TrimSpace(in.Motivation)
	if motivation == "" {
		motivation = defaultMotivation(v, outcome, optionLabel)
	}
	d := &Decision{CouncilID: v.CouncilID, MeetingID: v.MeetingID, VoteID: &v.ID, AgendaItemID: item.ID,
		ProposalID: &p.ID, Outcome: outcome, Title: decisionTitle(p, outcome, optionLabel),
		MotivationMD: motivation, MotivationHTML: markdown.ToHTML(motivation), DecidedAt: *v.ClosedAt, ActorName: actor.Name}
	if actor.AccountID != 0 {
		id := actor.AccountID
		d.ActorID = &id
	}
	if err := tx.NewRaw("SELECT nextval(pg_get_serial_sequence('decisions', 'id'))").Scan(ctx, &d.ID); err != nil {
		return nil, err
	}
	to := map[DecisionOutcome]proposal.ProposalState{DecisionAdopted: proposal.ProposalAdopted, decisionRejected: proposal.ProposalRejected, DecisionAdjourned: proposal.ProposalAdjourned}[outcome]
	if err := proposal.TransitionProposal(ctx, tx, v.CouncilID, p.ID, actor, to, "Décision de la séance : "+outcome.Label()); err != nil {
		return nil, err
	}
	if outcome == DecisionAdopted {
		change, err := registerChange(ctx, tx, p, status, d.DecidedAt, motivation)
		if err != nil {
			return nil, err
		}
		if change != nil {
			day := civilDay(d.DecidedAt)
			d.EffectiveOn = &day
			change.EffectiveOn = day
			ver, err := catalog.ApplyChange(ctx, tx, v.CouncilID, *change, catalog.DecisionRef{
				Ref: d.Ref(), Title: d.Title, URL: d.Path(), ActorID: d.ActorID, ActorName: actor.Name})
			if err != nil {
				return nil, err
			}
			d.RegisterVersion = &ver.Number
			if err := proposal.TransitionProposal(ctx, tx, v.CouncilID, p.ID, actor, proposal.ProposalApplied,
				fmt.Sprintf("Registre version %d", ver.Number)); err != nil {
				return nil, err
			}
		}
		if p.Kind == proposal.ProposalBoussole {
			// The decision publishes the new boussole version in its own
			// transaction, as a register decision publishes a register version.
			if err := proposal.TransitionProposal(ctx, tx, v.CouncilID, p.ID, actor, proposal.ProposalApplied,
				"Nouvelle version de la boussole publiée par la décision"); err != nil {
				return nil, err
			}
		}
	}
	if _, err := tx.NewInsert().Model(d).Returning("created_at").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert decision: %w", err)
	}
	if err := audit.Record(ctx, tx, actor.Entry(&v.CouncilID, "decision.record", "decision", strconv.FormatInt(d.ID, 10), "Décision : "+d.Title), nil, d); err != nil {
		return nil, err
	}
	if err := emitDecision(ctx, tx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// civilDay is t's date in Paris, at midnight UTC (a date column's value).
func civilDay(t time.Time) time.Time {
	p := t.In(web.Paris())
	return time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, time.UTC)
}

func decisionTitle(p *proposal.Proposal, o DecisionOutcome, option string) string {
	t := p.Title
	// The winning option names what was decided unless the title already
	// says it ("Conventionner le tofu — Conventionner" repeats itself).
	if option != "" && !strings.Contains(strings.ToLower(t), strings.ToLower(option)) {
		t += " — " + option
	}
	t = o.Label() + " : " + t
	if r := []rune(t); len(r) > 300 {
		t = string(r[:299]) + "…"
	}
	return t
}

func defaultMotivation(v *Vote, o DecisionOutcome, option string) string {
	t := v.Tally
	var s string
	switch v.Method {
	case MethodMajority:
		s = fmt.Sprintf("Vote à la %s : %d pour, %d contre, %s.", v.Threshold.Label(), t.For, t.Against, text.Count(t.Abstain, "abstention", "abstentions"))
	case MethodConsent:
		s = "Décision par consentement : " + text.Count(t.Objections, "objection", "objections") + "."
	case MethodJudgment:
		s = "Jugement majoritaire"
		if option != "" {
			s += " : l'option « " + option + " » l'emporte."
		} else {
			s += " : aucune option ne l'emporte."
		}
	}
	return s + " Décision : " + strings.ToLower(o.Label()) + "."
}

// registerChange is what an adopted proposal does to the register, or nil when
// it does not touch the register (criteria, boussole).
//
// A majority-judgment vote may retain a status the proposal did not ask for:
// the conditions or the reason it then needs default to the motivation.
func registerChange(ctx context.Context, tx bun.Tx, p *proposal.Proposal, status catalog.Status, at time.Time, motivation string) (*catalog.Change, error) {
	conditions, reason := p.Conditions, p.Reason
	// The item's public explanation changes with its status, so that text
	// written for the old status never stands beside the new one: the
	// proposal's own explanation, or the decision's motivation.
	explanation := p.RegisterExplanationMD
	if strings.TrimSpace(explanation) == "" {
		explanation = motivation
	}
	if r := []rune(motivation); len(r) > 2000 {
		motivation = string(r[:2000])
	}
	if status == catalog.SousConditions && strings.TrimSpace(conditions) == "" {
		conditions = motivation
	}
	if status == catalog.NonConventionne && strings.TrimSpace(reason) == "" {
		reason = motivation
	}
	slugOf := func(id *int64) (string, catalog.Kind, error) {
		if id == nil {
			return "", "", apperr.Fields{"target": "La proposition ne désigne pas son objet."}.Err()
		}
		return catalog.ItemKindAndSlug(ctx, tx, p.CouncilID, *id)
	}
	ch := &catalog.Change{Summary: p.Title}
	switch p.Kind {
	case proposal.ProposalRegisterInitial:
		// A model's whole register, adopted as proposed (governance/instance).
		init, err := proposal.InitialRegisterChange(ctx, tx, p.CouncilID, p.ID)
		if err != nil {
			return nil, err
		}
		ch = init
	case proposal.ProposalItemStatus:
		slug, _, err := slugOf(p.TargetItemID)
		if err != nil {
			return nil, err
		}
		ch.Items = []catalog.ItemChange{{Slug: slug, Status: status, Conditions: conditions, Reason: reason, ExplanationMD: explanation}}
	case proposal.ProposalItemNew:
		ic := catalog.ItemChange{Slug: catalog.Slug(p.ItemName), Name: p.ItemName, Status: status, Conditions: conditions,
			Reason: reason, ExplanationMD: explanation, Kind: catalog.Family}
		if p.TargetItemID != nil {
			parent, kind, err := slugOf(p.TargetItemID)
			if err != nil {
				return nil, err
			}
			ic.ParentSlug, ic.Kind = parent, catalog.Product
			if kind == catalog.Family {
				ic.Kind = catalog.Category
			}
		}
		ch.Items = []catalog.ItemChange{ic}
	case proposal.ProposalShopAdhesion, proposal.ProposalShopSuspension, proposal.ProposalShopWithdrawal:
		if p.TargetShopID == nil {
			return nil, apperr.Fields{"target": "La proposition ne désigne pas de point de vente."}.Err()
		}
		slug, err := catalog.ShopSlug(ctx, tx, p.CouncilID, *p.TargetShopID)
		if err != nil {
			return nil, err
		}
		sc := catalog.ShopChange{Slug: slug}
		switch p.Kind {
		case proposal.ProposalShopAdhesion:
			signed := civilDay(at)
			// One year by default, per council (convention_settings, see governance/application/charter.go).
			renewal, err := application.RenewalDate(ctx, tx, p.CouncilID, signed)
			if err != nil {
				return nil, err
			}
			sc.Status, sc.SignedOn, sc.RenewalOn = catalog.ShopConventionne, &signed, &renewal
		case proposal.ProposalShopSuspension:
			sc.Status = catalog.ShopSuspendu
		default:
			sc.Status = catalog.ShopRetire
		}
		ch.Shops = []catalog.ShopChange{sc}
	default:
		return nil, nil
	}
	if r := []rune(ch.Summary); len(r) > 500 {
		ch.Summary = string(r[:500])
	}
	return ch, nil
}

func selectDecisions(db bun.IDB, dst any) *bun.SelectQuery {
	return db.NewSelect().Model(dst).ColumnExpr("d.*").
		ColumnExpr("m.title AS meeting_title, m.starts_at AS meeting_start").
		ColumnExpr("(SELECT r.id FROM decisions r WHERE r.supersedes_id = d.id AND r.council_id = d.council_id) AS superseded_by_id").
		Join("JOIN meetings AS m ON m.id = d.meeting_id AND m.council_id = d.council_id")
}

// Decisions lists the council's decisions, the latest first (limit 0: 200).
func Decisions(ctx context.Context, db bun.IDB, councilID int64, limit int) ([]Decision, error) {
	if limit <= 0 {
		limit = 200
	}
	var ds []Decision
	err := selectDecisions(db, &ds).Where("d.council_id = ?", councilID).Order("d.decided_at DESC", "d.id DESC").Limit(limit).Scan(ctx)
	return ds, err
}

// meetingDecisions lists a meeting's decisions in agenda order.
func meetingDecisions(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]Decision, error) {
	var ds []Decision
	err := selectDecisions(db, &ds).Where("d.council_id = ? AND d.meeting_id = ?", councilID, meetingID).Order("d.decided_at", "d.id").Scan(ctx)
	return ds, err
}

// getDecision loads one of the council's decisions.
func getDecision(ctx context.Context, db bun.IDB, councilID, id int64) (*Decision, error) {
	d := new(Decision)
	err := selectDecisions(db, d).Where("d.id = ? AND d.council_id = ?", id, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Décision introuvable.")
	}
	return d, err
}
