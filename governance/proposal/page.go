package proposal

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"cla/governance/boussole"
	"cla/internal/database"
)

// proposalPage is what a proposal's page reads: the proposal, the boussole in
// force, the scores, the timeline and the number of members who may score.
type proposalPage struct {
	Proposal *Proposal
	Boussole *boussole.Boussole
	Scores   []Score
	Events   []ProposalEvent
	Members  int
}

// The proposal page's statements, for pgx (the fast path of
// docs/decisions.md "One way to reach PostgreSQL"): $n placeholders, each
// read by the scan named beside it. The bun reads of the same rows
// (ProposalScores, ProposalEvents, activeMembers) have their own statements.
const (
	// proposalPageSQL reads a proposal ($1) of a council ($2): scanProposal.
	proposalPageSQL = `SELECT ` + proposalColumns + ` FROM proposals AS p ` + proposalJoins + ` WHERE p.id = $1 AND p.council_id = $2`
	// proposalScoresBatchSQL reads the scores of a council's ($1) proposals
	// ($2, an array), with the graders' names: scanScores.
	proposalScoresBatchSQL = scoresSelect + `WHERE sc.council_id = $1 AND sc.proposal_id = ANY ($2::bigint[])` + scoresOrder
	// proposalEventsBatchSQL reads a proposal's timeline ($1 council, $2
	// proposal): scanProposalEvents.
	proposalEventsBatchSQL = eventsSelect + `WHERE council_id = $1 AND proposal_id = $2` + eventsOrder
	// activeMembersBatchSQL counts the council's ($1) enabled memberships.
	activeMembersBatchSQL = `SELECT count(*) FROM memberships WHERE council_id = $1 AND disabled_at IS NULL`
)

// loadProposalPage reads a proposal's page in one round trip: its five
// statements go as one pgx batch on a pool connection, and are scanned by hand.
// Members read this page while scoring, and it is measured (docs/perf.md):
// five round trips were a third of its cost. The proposal is
// errProposalNotFound when the council has no such proposal.
func loadProposalPage(ctx context.Context, db *bun.DB, councilID, id int64) (*proposalPage, error) {
	pg := &proposalPage{Proposal: new(Proposal)}
	var b pgx.Batch
	b.Queue(proposalPageSQL, id, councilID)
	b.Queue(boussole.CurrentBoussoleBatchSQL, councilID)
	b.Queue(proposalScoresBatchSQL, councilID, []int64{id})
	b.Queue(proposalEventsBatchSQL, councilID, id)
	b.Queue(activeMembersBatchSQL, councilID)
	err := database.SendBatch(ctx, db, &b, func(br pgx.BatchResults) error {
		if err := scanProposal(br.QueryRow(), pg.Proposal); errors.Is(err, pgx.ErrNoRows) {
			return errProposalNotFound
		} else if err != nil {
			return err
		}
		read := func(scan func(rows pgx.Rows) error) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			defer rows.Close()
			return scan(rows)
		}
		// A council without a boussole shows its proposals without results.
		if err := read(func(rows pgx.Rows) (err error) { pg.Boussole, err = boussole.ScanBoussole(rows); return err }); err != nil && !errors.Is(err, boussole.ErrNoBoussole) {
			return err
		}
		if err := read(func(rows pgx.Rows) (err error) { pg.Scores, err = scanScores(rows, councilID); return err }); err != nil {
			return err
		}
		if err := read(func(rows pgx.Rows) (err error) {
			pg.Events, err = scanProposalEvents(rows, councilID, id)
			return err
		}); err != nil {
			return err
		}
		return br.QueryRow().Scan(&pg.Members)
	})
	if err != nil {
		return nil, err
	}
	return pg, nil
}
