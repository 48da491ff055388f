package proposal

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/internal/audit"
)

// ProposalRegisterInitial puts a whole initial register (a model's) to the
// council's vote: created with the council (governance/instance), never from
// the proposal form; adopted, it publishes the register through
// catalog.ApplyChange like any register decision.
const ProposalRegisterInitial ProposalKind = "register_initial"

// registerChangeRow is the register change an initial-register proposal
// applies when adopted.
type registerChangeRow struct {
	bun.BaseModel `bun:"table:proposal_register_changes"`

	ProposalID int64           `bun:"proposal_id,pk"`
	CouncilID  int64           `bun:"council_id"`
	Change     json.RawMessage `bun:"change,type:jsonb"`
}

// CreateInitialRegister stores an open initial-register proposal for the
// council with the change it will apply, in tx (the council's creation).
func CreateInitialRegister(ctx context.Context, tx bun.Tx, councilID int64, title, outcome string, change catalog.Change, actor audit.Actor) (*Proposal, error) {
	body, err := json.Marshal(change)
	if err != nil {
		return nil, err
	}
	p := &Proposal{CouncilID: councilID, Kind: ProposalRegisterInitial, State: ProposalOpen, Title: title,
		Outcome: outcome, AuthorName: actor.Name}
	if actor.AccountID != 0 {
		p.AuthorID = &actor.AccountID
	}
	if err := InsertProposal(ctx, tx, p, actor); err != nil {
		return nil, err
	}
	if _, err := tx.NewInsert().Model(&registerChangeRow{ProposalID: p.ID, CouncilID: councilID, Change: body}).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert initial register: %w", err)
	}
	return p, nil
}

// InitialRegisterChange returns the register change of an initial-register
// proposal of the council.
func InitialRegisterChange(ctx context.Context, db bun.IDB, councilID, proposalID int64) (*catalog.Change, error) {
	row := new(registerChangeRow)
	if err := db.NewSelect().Model(row).Where("proposal_id = ? AND council_id = ?", proposalID, councilID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("initial register of proposal %d: %w", proposalID, err)
	}
	ch := new(catalog.Change)
	if err := json.Unmarshal(row.Change, ch); err != nil {
		return nil, err
	}
	return ch, nil
}
