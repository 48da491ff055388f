package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/assembly"
	"cla/governance/proposal"
	"cla/internal/markdown"
	"cla/internal/web"
)

// demoPastDecision is a decision of the demo's past meeting, taken by a show of
// hands.
type demoPastDecision struct {
	key, item, title, motivation string
	pour, contre, abstention     int
	version                      bool // the decision that published register version 1
}

var demoPastDecisions = []demoPastDecision{
	{"liste-mars-2025", "Adopter la liste de conventionnement de mars 2025",
		"Adoptée : liste de conventionnement de mars 2025",
		"Après un an de travail (avril 2024 – avril 2025), le Conseil adopte la liste : produits végétaux, produits transformés localement, boissons et produits animaux **bio et locaux** sont conventionnés. Les points encore à débattre restent « débat souhaité ».",
		5, 0, 0, true},
	{"alcool", "L'alcool est-il conventionné ?",
		"Adoptée : l'alcool n'est pas conventionné",
		"Choix de santé publique, après débat : l'allocation ne finance pas l'alcool, même produit localement.",
		3, 1, 1, false},
	{"non-alimentaire", "Les produits non alimentaires des fermes sont-ils conventionnés ?",
		"Adoptée : les produits non alimentaires ne sont pas conventionnés",
		"La caisse finance l'alimentation : huiles essentielles, cosmétiques et bougies restent hors du panier, même issus de fermes locales.",
		4, 0, 1, false},
}

// loadDemoMeetings loads a past meeting (February 2025) whose decisions are the
// March 2025 register, with its minutes approved at the March meeting, and the
// next meeting with a draft agenda. Keyed by demo_key: loading twice changes
// nothing.
func loadDemoMeetings(ctx context.Context, tx bun.Tx, councilID int64) error {
	exists, err := tx.NewSelect().Table("meetings").Where("council_id = ? AND demo_key = 'fevrier-2025'", councilID).Exists(ctx)
	if err != nil || exists {
		return err
	}
	paris := web.Paris()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, paris) }
	var members []int64
	if err := tx.NewSelect().Table("memberships").Column("account_id").
		Where("council_id = ? AND disabled_at IS NULL", councilID).Order("account_id").Scan(ctx, &members); err != nil {
		return err
	}
	meeting := func(key, title string, start time.Time, state assembly.MeetingState) (*assembly.Meeting, error) {
		k := key
		m := &assembly.Meeting{CouncilID: councilID, Title: title, StartsAt: start, EndsAt: start.Add(2 * time.Hour),
			Place: "Salle des fêtes, Dieulefit", State: state, DemoKey: &k}
		if state != assembly.MeetingPlanned {
			opened, closed := start, start.Add(2*time.Hour)
			m.OpenedAt = &opened
			if state == assembly.MeetingClosed {
				m.ClosedAt = &closed
			}
		}
		if _, err := tx.NewInsert().Model(m).Returning("id, uid").Exec(ctx); err != nil {
			return nil, fmt.Errorf("demo meeting %s: %w", key, err)
		}
		return m, nil
	}
	feb, err := meeting("fevrier-2025", "Séance de février 2025", at(2025, 2, 12, 18, 30), assembly.MeetingClosed)
	if err != nil {
		return err
	}
	mar, err := meeting("mars-2025", "Séance de mars 2025", at(2025, 3, 12, 18, 30), assembly.MeetingClosed)
	if err != nil {
		return err
	}
	// Roll: everyone present in February except the last member, excused.
	var roll []assembly.Attendance
	for i, id := range members {
		st := assembly.Present
		if i == len(members)-1 && len(members) > 2 {
			st = assembly.Excused
		}
		roll = append(roll, assembly.Attendance{CouncilID: councilID, MeetingID: feb.ID, MemberID: id, Status: st},
			assembly.Attendance{CouncilID: councilID, MeetingID: mar.ID, MemberID: id, Status: assembly.Present})
	}
	if len(roll) > 0 {
		if _, err := tx.NewInsert().Model(&roll).Exec(ctx); err != nil {
			return fmt.Errorf("demo roll: %w", err)
		}
	}
	for _, m := range []*assembly.Meeting{feb, mar} {
		if err := assembly.SnapshotQuorum(ctx, tx, councilID, m.ID); err != nil {
			return fmt.Errorf("demo quorum: %w", err)
		}
	}
	var version1 int
	if err := tx.NewSelect().Table("register_versions").ColumnExpr("min(number)").Where("council_id = ?", councilID).Scan(ctx, &version1); err != nil {
		return err
	}
	present := len(members)
	if present > 2 {
		present--
	}
	decidedAt := feb.StartsAt.Add(90 * time.Minute)
	for i, d := range demoPastDecisions {
		it := &assembly.AgendaItem{CouncilID: councilID, MeetingID: feb.ID, Position: i + 1, Kind: assembly.AgendaFree, Title: d.item, Minutes: 30}
		if _, err := tx.NewInsert().Model(it).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("demo agenda: %w", err)
		}
		// Never more hands than members present (a council with fewer demo members).
		for d.pour+d.contre+d.abstention > present && d.pour > 0 {
			d.pour--
		}
		t := assembly.VoteTally{For: d.pour, Against: d.contre, Abstain: d.abstention, Present: present, Ballots: d.pour + d.contre + d.abstention, InRoom: true}
		key := d.key
		closed := decidedAt.Add(time.Duration(i) * time.Minute)
		n := t.Ballots
		v := &assembly.Vote{CouncilID: councilID, MeetingID: feb.ID, AgendaItemID: it.ID, Question: d.item, Method: assembly.MethodMajority,
			Mode: assembly.ModeInRoom, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast, State: assembly.VoteClosed,
			OpenedAt: closed.Add(-10 * time.Minute), ClosedAt: &closed, Tally: &t, BallotCount: &n, Outcome: "adopte", DemoKey: &key}
		if _, err := tx.NewInsert().Model(v).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("demo vote: %w", err)
		}
		dec := &assembly.Decision{CouncilID: councilID, MeetingID: feb.ID, VoteID: &v.ID, AgendaItemID: it.ID, Outcome: assembly.DecisionAdopted,
			Title: d.title, MotivationMD: d.motivation, MotivationHTML: markdown.ToHTML(d.motivation), DecidedAt: closed,
			ActorName: "Démonstration", DemoKey: &key}
		if d.version && version1 > 0 {
			v1 := version1
			dec.RegisterVersion = &v1
			eff := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
			dec.EffectiveOn = &eff
		}
		if _, err := tx.NewInsert().Model(dec).Exec(ctx); err != nil {
			return fmt.Errorf("demo decision: %w", err)
		}
	}
	mi := &assembly.AgendaItem{CouncilID: councilID, MeetingID: mar.ID, Position: 1, Kind: assembly.AgendaFree, Title: "Approbation du compte rendu de février", Minutes: 10}
	mi2 := &assembly.AgendaItem{CouncilID: councilID, MeetingID: mar.ID, Position: 2, Kind: assembly.AgendaFree, Title: "Lancement de la caisse : premiers retours des points de vente", Minutes: 60}
	for _, it := range []*assembly.AgendaItem{mi, mi2} {
		if _, err := tx.NewInsert().Model(it).Exec(ctx); err != nil {
			return fmt.Errorf("demo agenda: %w", err)
		}
	}
	if err := loadDemoJudgment(ctx, tx, councilID, mar, present); err != nil {
		return err
	}
	if err := assembly.WriteDraftMinutes(ctx, tx, councilID, feb.ID, false); err != nil {
		return err
	}
	if err := assembly.WriteDraftMinutes(ctx, tx, councilID, mar.ID, false); err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Model((*assembly.Minutes)(nil)).Set("state = ?", assembly.MinutesApproved).Set("approved_at = ?", mar.StartsAt.Add(15*time.Minute)).
		Set("approved_in_id = ?", mar.ID).Set("body_sha256 = encode(sha256(convert_to(body_md, 'UTF8')), 'hex')").Where("meeting_id = ? AND council_id = ?", feb.ID, councilID).Exec(ctx); err != nil {
		return fmt.Errorf("demo minutes: %w", err)
	}

	// The next meeting: the second Wednesday of next month, with a draft agenda.
	now := time.Now().In(paris)
	first := time.Date(now.Year(), now.Month()+1, 1, 18, 30, 0, 0, paris)
	for first.Weekday() != time.Wednesday {
		first = first.AddDate(0, 0, 1)
	}
	next, err := meeting("prochaine", "Prochaine séance du Conseil", first.AddDate(0, 0, 7), assembly.MeetingPlanned)
	if err != nil {
		return err
	}
	var props []struct {
		ID    int64  `bun:"id"`
		Title string `bun:"title"`
	}
	if err := tx.NewSelect().Table("proposals").Column("id", "title").
		Where("council_id = ? AND state = 'ouverte' AND demo_key IS NOT NULL", councilID).Order("id DESC").Limit(1).Scan(ctx, &props); err != nil {
		return err
	}
	var debate []struct {
		ID    int64  `bun:"id"`
		Title string `bun:"title"`
	}
	if err := tx.NewSelect().Table("debates").Column("id", "title").
		Where("council_id = ? AND state = 'souhaite'", councilID).Order("id").Limit(1).Scan(ctx, &debate); err != nil {
		return err
	}
	items := []*assembly.AgendaItem{{Kind: assembly.AgendaFree, Title: "Approbation du compte rendu de mars", Minutes: 10}}
	for _, p := range props {
		id := p.ID
		items = append(items, &assembly.AgendaItem{Kind: assembly.AgendaProposal, ProposalID: &id, Title: p.Title, Minutes: 30})
	}
	for _, d := range debate {
		id := d.ID
		items = append(items, &assembly.AgendaItem{Kind: assembly.AgendaDebate, DebateID: &id, Title: d.Title, Minutes: 30})
	}
	items = append(items, &assembly.AgendaItem{Kind: assembly.AgendaFree, Title: "Questions diverses", Minutes: 15})
	for i, it := range items {
		it.CouncilID, it.MeetingID, it.Position = councilID, next.ID, i+1
		if _, err := tx.NewInsert().Model(it).Exec(ctx); err != nil {
			return fmt.Errorf("demo next agenda: %w", err)
		}
		if it.ProposalID != nil {
			if _, err := tx.NewUpdate().Table("proposals").Set("state = ?", proposal.ProposalScheduled).Set("state_changed_at = now()").
				Where("id = ? AND council_id = ? AND state = 'ouverte'", *it.ProposalID, councilID).Exec(ctx); err != nil {
				return err
			}
			ev := &proposal.ProposalEvent{CouncilID: councilID, ProposalID: *it.ProposalID, FromState: proposal.ProposalOpen, ToState: proposal.ProposalScheduled,
				ActorName: "Démonstration", Note: "Inscrite à l'ordre du jour : " + next.Title}
			if _, err := tx.NewInsert().Model(ev).ExcludeColumn("created_at").Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// DemoJudgmentVotePath is the page of the demo's majority-judgment vote in a
// freshly loaded database (the gates' seed; TestDemoJudgmentVote checks it).
const DemoJudgmentVotePath = "/votes/4"

// loadDemoJudgment adds to the March meeting a closed majority-judgment vote,
// counted in the room, so that the demo shows (and the gates check) a
// majority-judgment table and its merit profiles (issue 20, point 9). Its
// options change nothing in the register.
func loadDemoJudgment(ctx context.Context, tx bun.Tx, councilID int64, mar *assembly.Meeting, present int) error {
	it := &assembly.AgendaItem{CouncilID: councilID, MeetingID: mar.ID, Position: 3, Kind: assembly.AgendaFree,
		Title: "Priorité des prochains débats", Minutes: 20}
	if _, err := tx.NewInsert().Model(it).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("demo agenda: %w", err)
	}
	key := "jugement-priorites"
	closed := mar.StartsAt.Add(100 * time.Minute)
	v := &assembly.Vote{CouncilID: councilID, MeetingID: mar.ID, AgendaItemID: it.ID, Question: "Quel sujet débattre en premier ?",
		Method: assembly.MethodJudgment, Mode: assembly.ModeInRoom, Secrecy: assembly.SecrecyAnonymous, Threshold: assembly.ThresholdCast, State: assembly.VoteClosed,
		OpenedAt: closed.Add(-10 * time.Minute), ClosedAt: &closed, DemoKey: &key,
		Options: []assembly.VoteOption{{Position: 1, Label: "La viande de chasse et le gibier"}, {Position: 2, Label: "Les boissons alcoolisées"},
			{Position: 3, Label: "Les supermarchés franchisés"}, {Position: 4, Label: "La charte d'engagement des points de vente"}}}
	// One line of grades per member present (0 « à rejeter » … 6 « excellent »).
	grades := [][]int16{{5, 2, 3, 4}, {6, 1, 3, 5}, {4, 2, 2, 4}, {5, 3, 4, 3}, {3, 1, 2, 5}, {5, 2, 1, 4}}
	t := assembly.VoteTally{Present: present, InRoom: true}
	for i := 0; i < present && i < len(grades); i++ {
		t.Add(v, &assembly.Ballot{Grades: grades[i]})
	}
	v.Outcome, v.WinnerOption = t.Decide(v)
	n := t.Ballots
	v.Tally, v.BallotCount = &t, &n
	if _, err := tx.NewInsert().Model(v).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("demo judgment vote: %w", err)
	}
	for i := range v.Options {
		v.Options[i].CouncilID, v.Options[i].VoteID = councilID, v.ID
	}
	if _, err := tx.NewInsert().Model(&v.Options).Exec(ctx); err != nil {
		return fmt.Errorf("demo judgment options: %w", err)
	}
	return nil
}
