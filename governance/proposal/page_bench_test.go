package proposal_test

import (
	"context"
	"fmt"
	"testing"

	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/authz"
)

// BenchmarkProposalPage reads a proposal graded by 17 members on every
// criterion: the page's pgx batch (the fast path) and the bun path the
// radar, the results and the meeting pack use (boussole + scores).
// Run: go test -run '^$' -bench BenchmarkProposalPage -count 5 ./governance/proposal/
func BenchmarkProposalPage(b *testing.B) {
	f := newBenchFixture(b)
	ctx := context.Background()
	want := 17 * f.criteria
	b.Run("batch", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n, err := proposal.LoadProposalPage(ctx, f.db, f.councilID, f.proposalID)
			if err != nil || n != want {
				b.Fatalf("%d scores, %v; want %d", n, err, want)
			}
		}
	})
	b.Run("bun", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := boussole.CurrentBoussole(ctx, f.db, f.councilID); err != nil {
				b.Fatal(err)
			}
			scores, err := proposal.ProposalScores(ctx, f.db, f.councilID, f.proposalID)
			if err != nil || len(scores) != want {
				b.Fatalf("%d scores, %v; want %d", len(scores), err, want)
			}
			if _, err := proposal.ProposalEvents(ctx, f.db, f.councilID, f.proposalID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type benchFixture struct {
	*fixture
	proposalID int64
	criteria   int
}

// newBenchFixture is the demo council with an open proposal that 17 members
// graded on every criterion of the boussole.
func newBenchFixture(b *testing.B) benchFixture {
	b.Helper()
	f := newFixture(b)
	ctx := context.Background()
	p := &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalCriteria, Title: "Banc d'essai", Outcome: "Mesurer la page."}
	if err := proposal.CreateProposal(ctx, f.db, p, f.author); err != nil {
		b.Fatal(err)
	}
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.author, proposal.ProposalOpen, ""); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 17; i++ {
		a := f.account(b, fmt.Sprintf("Membre %02d", i), authz.Member)
		if _, err := f.db.ExecContext(ctx, `INSERT INTO proposal_scores (council_id, proposal_id, account_id, criterion_id, boussole_version_id, grade, comment)
			SELECT c.council_id, ?, ?, c.id, c.boussole_version_id, (c.id + ?) % 7, 'Un commentaire.'
			FROM criteria c WHERE c.boussole_version_id = (SELECT id FROM boussole_versions WHERE council_id = ? ORDER BY number DESC LIMIT 1)`,
			p.ID, a.AccountID, i, f.councilID); err != nil {
			b.Fatal(err)
		}
	}
	bs, err := boussole.CurrentBoussole(ctx, f.db, f.councilID)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, g := range bs.Groups {
		n += len(g.Criteria)
	}
	return benchFixture{fixture: f, proposalID: p.ID, criteria: n}
}
