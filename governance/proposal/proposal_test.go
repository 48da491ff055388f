package proposal_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"cla/demo"
	"cla/governance/boussole"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
)

// fixture is a demo council with accounts in every role.
type fixture struct {
	db                                 *bun.DB
	councilID                          int64
	author, member, facilitator, admin audit.Actor
	outsider                           audit.Actor // an account with no membership here
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, councilID: co.ID}
	f.author = f.account(t, "Autrice", authz.Member)
	f.member = f.account(t, "Membre", authz.Member)
	f.facilitator = f.account(t, "Animatrice", authz.Facilitator)
	f.admin = f.account(t, "Admin", authz.Admin)
	f.outsider = f.account(t, "Passant", authz.None)
	return f
}

var accountSeq int

// account creates an account, a member of the fixture's council with role (none for authz.None).
func (f *fixture) account(t testing.TB, name string, role authz.Role) audit.Actor {
	t.Helper()
	ctx := context.Background()
	var id int64
	accountSeq++
	email := fmt.Sprintf("%s-%d-%d@example.org", "p", f.councilID, accountSeq)
	if err := f.db.NewRaw("INSERT INTO accounts (email, name) VALUES (?, ?) RETURNING id", email, name).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	if role != authz.None {
		if _, err := f.db.ExecContext(ctx, "INSERT INTO memberships (council_id, account_id, role) VALUES (?, ?, ?)", f.councilID, id, string(role)); err != nil {
			t.Fatal(err)
		}
	}
	return audit.Actor{AccountID: id, Name: name, Role: role}
}

// proposal creates a proposal by the fixture's author and moves it to state by
// the shortest allowed path.
func (f *fixture) proposal(t *testing.T, state proposal.ProposalState) *proposal.Proposal {
	t.Helper()
	ctx := context.Background()
	p := &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalCriteria, Title: "Conventionner les fermes en conversion",
		Outcome: "Les fermes en conversion bio sont conventionnées, revue dans 12 mois.", RationaleMD: "Parce que **la transition** compte."}
	if err := proposal.CreateProposal(ctx, f.db, p, f.author); err != nil {
		t.Fatal(err)
	}
	path := map[proposal.ProposalState][]proposal.ProposalState{
		proposal.ProposalDraft:     nil,
		proposal.ProposalOpen:      {proposal.ProposalOpen},
		proposal.ProposalScheduled: {proposal.ProposalOpen, proposal.ProposalScheduled},
		proposal.ProposalVoting:    {proposal.ProposalOpen, proposal.ProposalScheduled, proposal.ProposalVoting},
		proposal.ProposalAdopted:   {proposal.ProposalOpen, proposal.ProposalScheduled, proposal.ProposalVoting, proposal.ProposalAdopted},
		proposal.ProposalRejected:  {proposal.ProposalOpen, proposal.ProposalScheduled, proposal.ProposalVoting, proposal.ProposalRejected},
		proposal.ProposalAdjourned: {proposal.ProposalOpen, proposal.ProposalScheduled, proposal.ProposalVoting, proposal.ProposalAdjourned},
		proposal.ProposalApplied:   {proposal.ProposalOpen, proposal.ProposalScheduled, proposal.ProposalVoting, proposal.ProposalAdopted, proposal.ProposalApplied},
		proposal.ProposalWithdrawn: {proposal.ProposalWithdrawn},
	}[state]
	for _, to := range path {
		actor := f.facilitator
		if to == proposal.ProposalOpen || to == proposal.ProposalWithdrawn {
			actor = f.author
		}
		if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, actor, to, ""); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	p.State = state
	return p
}

func TestCreateProposalValidatesAndRecordsTheTimeline(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	bad := &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalItemStatus, Title: "x", ProposedStatus: "sous_conditions"}
	err := proposal.CreateProposal(ctx, f.db, bad, f.author)
	fields := apperr.FieldsOf(err)
	for _, k := range []string{"title", "target_item", "conditions", "outcome"} {
		if fields[k] == "" {
			t.Errorf("no message for %s: %v", k, fields)
		}
	}
	// A non-member is refused by the route (auth.Require(authz.CreateProposal)),
	// held by the route walk in cmd/cla/routes_test.go, not by CreateProposal.
	if err := proposal.CreateProposal(ctx, f.db, &proposal.Proposal{CouncilID: f.councilID, Kind: proposal.ProposalCriteria, Title: "Titre", Outcome: "x"}, audit.Actor{}); apperr.CodeOf(err) != apperr.Unauthorized {
		t.Errorf("an anonymous actor created a proposal: %v", err)
	}
	p := f.proposal(t, proposal.ProposalOpen)
	got, err := proposal.GetProposal(ctx, f.db, f.councilID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != proposal.ProposalOpen || got.RationaleHTML == "" || got.AuthorName != "Autrice" {
		t.Errorf("stored proposal: %+v", got)
	}
	evs, err := proposal.ProposalEvents(ctx, f.db, f.councilID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ToState != proposal.ProposalDraft || evs[1].FromState != proposal.ProposalDraft || evs[1].ToState != proposal.ProposalOpen {
		t.Errorf("timeline: %+v", evs)
	}
	if _, err := proposal.GetProposal(ctx, f.db, f.councilID+1000, p.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("another council read the proposal: %v", err)
	}
	var audited int
	if err := f.db.NewRaw("SELECT count(*) FROM audit_log WHERE object_type = 'proposal' AND object_id = ?", fmt.Sprint(p.ID)).Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if audited != 2 {
		t.Errorf("%d audit entries, want 2 (creation, opening)", audited)
	}
}

func TestEveryTransitionByRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	allowed := map[[2]proposal.ProposalState]bool{}
	for _, tr := range proposal.Transitions {
		allowed[[2]proposal.ProposalState{tr.From, tr.To}] = true
	}
	actors := map[string]audit.Actor{"author": f.author, "member": f.member, "facilitator": f.facilitator, "admin": f.admin,
		"outsider": f.outsider, "anonymous": {}}
	// who may make each allowed move.
	authorMoves := map[proposal.ProposalState]bool{proposal.ProposalWithdrawn: true}
	for _, from := range proposal.ProposalStates {
		for _, to := range proposal.ProposalStates {
			for name, actor := range actors {
				want := apperr.Code("")
				switch {
				case actor.AccountID == 0:
					want = apperr.Unauthorized
				case name == "outsider":
					want = apperr.Forbidden
				case !allowed[[2]proposal.ProposalState{from, to}]:
					want = apperr.Conflict
				case from == proposal.ProposalDraft && to == proposal.ProposalOpen || authorMoves[to]:
					if name != "author" {
						want = apperr.Forbidden
					}
				default:
					if name != "facilitator" && name != "admin" {
						want = apperr.Forbidden
					}
				}
				p := &proposal.Proposal{ID: 1, State: from, AuthorID: &f.author.AccountID}
				err := proposal.CheckTransition(p, actor, to)
				got := apperr.Code("")
				if err != nil {
					got = apperr.CodeOf(err)
				}
				if got != want {
					t.Errorf("%s → %s by %s: got %q, want %q (%v)", from, to, name, got, want, err)
				}
			}
		}
	}
	// Through the database: each allowed move once, from a real proposal.
	for _, tr := range proposal.Transitions {
		p := f.proposal(t, tr.From)
		actor := f.facilitator
		if tr.AuthorOnly {
			actor = f.author
		}
		if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, actor, tr.To, "note"); err != nil {
			t.Errorf("%s → %s: %v", tr.From, tr.To, err)
			continue
		}
		got, err := proposal.GetProposal(ctx, f.db, f.councilID, p.ID)
		if err != nil || got.State != tr.To {
			t.Errorf("%s → %s: stored state %v (%v)", tr.From, tr.To, got, err)
		}
		// The same move again is now refused (the state moved on), and nothing changes.
		err = proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, actor, tr.To, "")
		if tr.From != tr.To && apperr.CodeOf(err) != apperr.Conflict && !(tr.To == proposal.ProposalScheduled && tr.From == proposal.ProposalAdjourned) {
			t.Errorf("%s → %s twice: %v", tr.From, tr.To, err)
		}
	}
	// A forbidden move leaves the state and timeline untouched.
	p := f.proposal(t, proposal.ProposalOpen)
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.member, proposal.ProposalScheduled, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("a member put a proposal on the agenda: %v", err)
	}
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID, p.ID, f.facilitator, proposal.ProposalAdopted, ""); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("an open proposal was adopted without a vote: %v", err)
	}
	if err := proposal.TransitionProposal(ctx, f.db, f.councilID+1000, p.ID, f.facilitator, proposal.ProposalScheduled, ""); !errors.Is(err, proposal.ErrProposalNotFound) {
		t.Errorf("another council moved the proposal: %v", err)
	}
	evs, _ := proposal.ProposalEvents(ctx, f.db, f.councilID, p.ID)
	if len(evs) != 2 {
		t.Errorf("refused moves wrote the timeline: %+v", evs)
	}
}

// The boussole package's ErrNoBoussole names the proposal kind that writes a
// boussole by its label; it is written there as text (boussole is below
// proposal), so this keeps the two in step.
func TestErrNoBoussoleNamesTheBoussoleProposal(t *testing.T) {
	if want := "« " + proposal.ProposalBoussole.Label() + " »"; !strings.Contains(boussole.ErrNoBoussole.Error(), want) {
		t.Errorf("ErrNoBoussole says %q, want it to name %s", boussole.ErrNoBoussole.Error(), want)
	}
}
