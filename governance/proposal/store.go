package proposal

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
	"cla/internal/markdown"
)

// proposalColumns are the columns pages read, with the target's name (joined
// by proposalJoins), in the order scanProposal reads them.
const (
	proposalColumns = `p.id, p.council_id, p.kind, p.state, p.title, p.target_item_id, p.target_shop_id, p.item_name,
		p.proposed_status, p.conditions, p.reason, p.outcome, p.rationale_html, p.sources,
		p.author_id, p.author_name, p.created_at, p.updated_at, p.state_changed_at,
		COALESCE(ri.name, '') AS target_item_name, COALESCE(s.name, '') AS target_shop_name, p.boussole_payload,
		p.register_explanation_md,
		COALESCE(ri.slug, '') AS target_item_slug, COALESCE(s.slug, '') AS target_shop_slug`
	proposalJoins = `LEFT JOIN register_items AS ri ON ri.id = p.target_item_id AND ri.council_id = p.council_id
		LEFT JOIN shops AS s ON s.id = p.target_shop_id AND s.council_id = p.council_id`
)

// SelectProposal selects proposalColumns into dst.
func SelectProposal(db bun.IDB, dst any) *bun.SelectQuery {
	return db.NewSelect().Model(dst).ColumnExpr(proposalColumns).Join(proposalJoins)
}

// scanProposal reads a row of proposalColumns.
func scanProposal(row interface{ Scan(...any) error }, p *Proposal) error {
	var payload []byte
	if err := row.Scan(&p.ID, &p.CouncilID, &p.Kind, &p.State, &p.Title, &p.TargetItemID, &p.TargetShopID, &p.ItemName,
		&p.ProposedStatus, &p.Conditions, &p.Reason, &p.Outcome, &p.RationaleHTML, &p.Sources,
		&p.AuthorID, &p.AuthorName, &p.CreatedAt, &p.UpdatedAt, &p.StateChangedAt, &p.TargetItemName, &p.TargetShopName, &payload,
		&p.RegisterExplanationMD, &p.TargetItemSlug, &p.TargetShopSlug); err != nil {
		return err
	}
	if len(payload) > 0 {
		return json.Unmarshal(payload, &p.BoussolePayload)
	}
	return nil
}

// CreateProposal validates p and saves it as a draft written by actor, with the
// first line of its timeline and an audit entry, in one transaction. The target
// item or shop must belong to the proposal's council. Who may write one is the
// route's rule (auth.Require(authz.CreateProposal)), not checked again here.
func CreateProposal(ctx context.Context, db bun.IDB, p *Proposal, actor audit.Actor) error {
	if actor.AccountID == 0 {
		return apperr.New(apperr.Unauthorized, "Connectez-vous pour écrire une proposition.")
	}
	p.State = ProposalDraft
	p.AuthorID, p.AuthorName = &actor.AccountID, actor.Name
	if err := p.Validate(); err != nil {
		return err
	}
	if err := checkTargets(ctx, db, p); err != nil {
		return err
	}
	if p.Kind != ProposalBoussole {
		// Nothing but the boussole itself can be proposed before it exists:
		// a proposal is scored against it.
		ok, err := boussole.BoussoleExists(ctx, db, p.CouncilID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Fields{"kind": ErrNoBoussoleYet}.Err()
		}
	}
	p.RationaleHTML = markdown.ToHTML(p.RationaleMD)
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return InsertProposal(ctx, tx, p, actor)
	})
}

// ErrNoBoussoleYet refuses a proposal in a council without a boussole.
var ErrNoBoussoleYet = "La boussole de ce conseil n'est pas encore écrite : proposez-la d'abord (type « " + ProposalBoussole.Label() +
	" »). Les autres propositions s'évaluent sur elle."

// InsertProposal stores a new proposal with its first timeline event and its
// audit entry, in tx; CreateProposal and a shop application's proposal call it.
func InsertProposal(ctx context.Context, tx bun.IDB, p *Proposal, actor audit.Actor) error {
	if _, err := tx.NewInsert().Model(p).
		ExcludeColumn("created_at", "updated_at", "state_changed_at").
		Returning("id, created_at").Exec(ctx); err != nil {
		return fmt.Errorf("insert proposal: %w", err)
	}
	ev := &ProposalEvent{CouncilID: p.CouncilID, ProposalID: p.ID, ToState: p.State, ActorID: actor.NullableID(), ActorName: p.AuthorName}
	if _, err := tx.NewInsert().Model(ev).ExcludeColumn("created_at").Exec(ctx); err != nil {
		return fmt.Errorf("insert proposal event: %w", err)
	}
	return audit.Record(ctx, tx, actor.Entry(&p.CouncilID, "proposal.create", "proposal", strconv.FormatInt(p.ID, 10),
		fmt.Sprintf("Proposition « %s » créée (%s)", p.Title, p.Kind.Label())), nil, auditView(p))
}

// checkTargets refuses a target item or shop of another council (or none).
func checkTargets(ctx context.Context, db bun.IDB, p *Proposal) error {
	f := apperr.Fields{}
	if p.TargetItemID != nil {
		ok, err := catalog.ItemExists(ctx, db, p.CouncilID, *p.TargetItemID)
		if err != nil {
			return err
		}
		if !ok {
			f.Add("target_item", "Ce produit n'existe pas dans le registre de ce Conseil.")
		}
	}
	if p.TargetShopID != nil {
		ok, err := catalog.ShopExists(ctx, db, p.CouncilID, *p.TargetShopID)
		if err != nil {
			return err
		}
		if !ok {
			f.Add("target_shop", "Ce point de vente n'existe pas dans ce Conseil.")
		}
	}
	return f.Err()
}

// auditView is what the audit trail keeps of a proposal's state.
func auditView(p *Proposal) map[string]any {
	return map[string]any{"id": p.ID, "kind": p.Kind, "state": p.State, "title": p.Title}
}

var errProposalNotFound = apperr.New(apperr.NotFound, "Cette proposition n'existe pas dans ce Conseil.")

// GetProposal reads one of the council's proposals with its target's name; a
// proposal of another council is not found.
func GetProposal(ctx context.Context, db bun.IDB, councilID, id int64) (*Proposal, error) {
	p := new(Proposal)
	err := SelectProposal(db, p).Where("p.id = ? AND p.council_id = ?", id, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, errProposalNotFound
	}
	return p, err
}

// TransitionProposal moves one of the council's proposals to the state to, if
// the lifecycle allows that move from its current state and actor may make it
// (see CheckTransition). Applying an adopted proposal of kind "boussole"
// creates the council's next boussole version. The state change, its timeline line and its audit entry
// are written in db, which should be the caller's transaction (meetings and votes
// call this inside theirs); the proposal row is locked until it commits.
func TransitionProposal(ctx context.Context, db bun.IDB, councilID, proposalID int64, actor audit.Actor, to ProposalState, note string) error {
	note = strings.TrimSpace(note)
	if tooLong(note, maxNote) {
		return apperr.Fields{"note": "La note ne doit pas dépasser 1000 caractères."}.Err()
	}
	p := new(Proposal)
	err := db.NewSelect().Model(p).Column("id", "council_id", "state", "title", "kind", "author_id", "author_name", "outcome", "boussole_payload").
		Where("id = ? AND council_id = ?", proposalID, councilID).For("UPDATE").Scan(ctx)
	if database.IsNoRows(err) {
		return errProposalNotFound
	}
	if err != nil {
		return err
	}
	if err := CheckTransition(p, actor, to); err != nil {
		return err
	}
	before := auditView(p)
	from := p.State
	p.State = to
	now := time.Now()
	p.UpdatedAt, p.StateChangedAt = now, now
	if _, err := db.NewUpdate().Model(p).Column("state", "updated_at", "state_changed_at").
		Where("id = ? AND council_id = ?", p.ID, councilID).Exec(ctx); err != nil {
		return fmt.Errorf("update proposal state: %w", err)
	}
	if to == ProposalApplied && p.Kind == ProposalBoussole {
		if err := applyBoussoleProposal(ctx, db, p, actor); err != nil {
			return err
		}
	}
	ev := &ProposalEvent{CouncilID: councilID, ProposalID: p.ID, FromState: from, ToState: to,
		ActorID: &actor.AccountID, ActorName: actor.Name, Note: note}
	if _, err := db.NewInsert().Model(ev).ExcludeColumn("created_at").Exec(ctx); err != nil {
		return fmt.Errorf("insert proposal event: %w", err)
	}
	return audit.Record(ctx, db, actor.Entry(&councilID, "proposal.transition", "proposal", strconv.FormatInt(p.ID, 10),
		fmt.Sprintf("Proposition « %s » : %s → %s", p.Title, from.Label(), to.Label())).About(p.AuthorName), before, auditView(p))
}

// eventsSelect and eventsOrder frame the timeline's statements (the bun one
// here, the batch one in page.go), in the order scanProposalEvents reads them.
const (
	eventsSelect = `SELECT id, from_state, to_state, actor_name, note, created_at FROM proposal_events `
	eventsOrder  = ` ORDER BY id`
)

// proposalEventsSQL reads a proposal's timeline (? council, ? proposal),
// oldest first, for bun.
const proposalEventsSQL = eventsSelect + `WHERE council_id = ? AND proposal_id = ?` + eventsOrder

// ProposalEvents is a proposal's timeline, oldest first.
func ProposalEvents(ctx context.Context, db bun.IDB, councilID, proposalID int64) ([]ProposalEvent, error) {
	rows, err := db.QueryContext(ctx, proposalEventsSQL, councilID, proposalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanProposalEvents(rows, councilID, proposalID)
}

func scanProposalEvents(rows database.RowScanner, councilID, proposalID int64) ([]ProposalEvent, error) {
	var evs []ProposalEvent
	for rows.Next() {
		e := ProposalEvent{CouncilID: councilID, ProposalID: proposalID}
		if err := rows.Scan(&e.ID, &e.FromState, &e.ToState, &e.ActorName, &e.Note, &e.CreatedAt); err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// proposalSummary is a proposal as lists show it, with its scoring progress.
type proposalSummary struct {
	Proposal `bun:",extend"`
	Graders  int `bun:"graders,scanonly"` // members who graded at least one criterion
}

// proposalFilter narrows a list of proposals.
type proposalFilter struct {
	State    ProposalState // "" for every visible state
	Kind     ProposalKind  // "" for every kind
	ViewerID int64         // the signed-in account (0 when anonymous): sees its own drafts
	ToScore  bool          // only scorable proposals ViewerID has not graded yet
}

// listProposals lists the council's proposals the viewer may see, newest change
// first, in one query whatever the number of proposals and graders.
func listProposals(ctx context.Context, db bun.IDB, councilID int64, f proposalFilter) ([]proposalSummary, error) {
	var out []proposalSummary
	q := SelectProposal(db, &out).
		ColumnExpr("(SELECT count(DISTINCT sc.account_id) FROM proposal_scores AS sc WHERE sc.proposal_id = p.id AND sc.council_id = p.council_id) AS graders").
		Where("p.council_id = ?", councilID).
		Where("(p.state <> ? OR p.author_id = ?)", ProposalDraft, f.ViewerID)
	if f.State != "" {
		q = q.Where("p.state = ?", f.State)
	}
	if f.Kind != "" {
		q = q.Where("p.kind = ?", f.Kind)
	}
	if f.ToScore {
		q = q.Where("p.state IN (?, ?)", ProposalOpen, ProposalScheduled).
			Where("NOT EXISTS (SELECT 1 FROM proposal_scores AS sc WHERE sc.proposal_id = p.id AND sc.council_id = p.council_id AND sc.account_id = ?)", f.ViewerID)
	}
	err := q.Order("p.state_changed_at DESC", "p.id DESC").Limit(500).Scan(ctx)
	return out, err
}

// Headline is a proposal in a list of news (the weekly digests).
type Headline struct {
	ID    int64         `bun:"id"`
	Title string        `bun:"title"`
	Kind  ProposalKind  `bun:"kind"`
	State ProposalState `bun:"state"`
}

// Path is the proposal's page.
func (h Headline) Path() string { return "/propositions/" + strconv.FormatInt(h.ID, 10) }

// OpenedSince lists the council's proposals put on the table (opened, so
// public) after since and still public, oldest first, at most limit; one
// query.
func OpenedSince(ctx context.Context, db bun.IDB, councilID int64, since time.Time, limit int) ([]Headline, error) {
	var out []Headline
	err := db.NewRaw(`SELECT p.id, p.title, p.kind, p.state FROM proposals p
		WHERE p.council_id = ? AND p.state <> ? AND EXISTS (SELECT 1 FROM proposal_events e
			WHERE e.proposal_id = p.id AND e.council_id = p.council_id AND e.to_state = ? AND e.created_at > ?)
		ORDER BY p.id LIMIT ?`, councilID, ProposalDraft, ProposalOpen, since, limit).Scan(ctx, &out)
	return out, err
}
