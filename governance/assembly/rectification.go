package assembly

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/notify/event"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
	"cla/internal/markdown"
)

// A voted rectification (issue 19, point 9). A published decision is never
// edited; when its effect was wrong (a miscounted show of hands, a status
// the council did not mean), the council votes a rectifying decision. The
// facilitator puts "rectifier la décision n° N" on a meeting's agenda with
// the register status it would set (or none: the register stays as it is)
// and why; the item is voted like any other, once. When the vote passes, its
// publication records a decision that supersedes N in the same transaction
// and, if the status changes, applies the change to the register through
// catalog.ApplyChange. A rejected vote leaves N standing. The clerical
// rectification (correction.go) is the same chain for wording only, without
// a vote.

// VotedRectification is the agenda builder's form for a voted rectification.
type VotedRectification struct {
	DecisionID int64
	// Status is the register status the rectifying decision would set; ""
	// keeps the register as it is.
	Status  catalog.Status
	Reason  string
	Minutes int
}

// validate checks the form alone (the decision is checked in the transaction).
func (r *VotedRectification) validate() apperr.Fields {
	f := apperr.Fields{}
	r.Reason = strings.TrimSpace(r.Reason)
	if r.DecisionID <= 0 {
		f.Add("decision", "Donnez le numéro de la décision à rectifier.")
	}
	if r.Status != "" && !r.Status.Valid() {
		f.Add("status", "Statut inconnu.")
	}
	if n := utf8.RuneCountInString(r.Reason); n < 1 || n > 2000 {
		f.Add("reason", "Dites ce que la rectification corrige (2000 caractères au plus) : le motif est voté et publié.")
	}
	if r.Minutes < 1 || r.Minutes > 600 {
		f.Add("minutes", "La durée prévue va de 1 à 600 minutes.")
	}
	return f
}

// ScheduleRectification puts a voted rectification of a published decision
// at the end of a meeting's agenda. It refuses a decision unknown in the
// council, one already rectified (the last of its chain is the one to
// rectify), one whose rectification already awaits a vote on an agenda, and
// a status the register already gives the decision's item (nothing would
// change). The agenda change and the proposal to rectify are audited.
func ScheduleRectification(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID int64, r *VotedRectification) (*AgendaItem, error) {
	var it *AgendaItem
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := lockMeeting(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		if m.State == MeetingClosed || m.State == MeetingCancelled {
			return apperr.New(apperr.Conflict, "L'ordre du jour d'une séance close ou annulée ne change plus.")
		}
		if f := r.validate(); len(f) > 0 {
			return f.Err()
		}
		of, err := lockDecision(ctx, tx, councilID, r.DecisionID)
		if err != nil {
			return err
		}
		if err := checkRectifiable(ctx, tx, of); err != nil {
			return err
		}
		if r.Status != "" {
			target, err := rectifyTarget(ctx, tx, of)
			if err != nil {
				return err
			}
			switch {
			case target == nil:
				return apperr.Fields{"status": "Cette décision ne fixe le statut d'aucun produit du registre : gardez le statut, la rectification porte alors sur la décision seule."}.Err()
			case target.Status == r.Status:
				return apperr.Fields{"status": fmt.Sprintf("« %s » est déjà « %s » au registre : rien à changer. Choisissez un autre statut, ou gardez-le pour ne rectifier que la décision.", target.Name, r.Status.Label())}.Err()
			}
		}
		title := fmt.Sprintf("Rectifier la décision n° %d : %s", of.ID, of.Title)
		if rs := []rune(title); len(rs) > 200 {
			title = string(rs[:199]) + "…"
		}
		it = &AgendaItem{CouncilID: councilID, MeetingID: meetingID, Kind: AgendaRectification, Title: title, Minutes: r.Minutes,
			RectifiesID: &of.ID, RectifyStatus: string(r.Status), RectifyReason: r.Reason}
		if err := it.Validate(); err != nil {
			return err
		}
		if err := tx.NewSelect().Table("agenda_items").ColumnExpr("coalesce(max(position), 0) + 1").
			Where("meeting_id = ? AND council_id = ?", meetingID, councilID).Scan(ctx, &it.Position); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(it).Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("rectification item: %w", err)
		}
		if err := event.Enqueue(ctx, tx, event.MeetingChanged{CouncilID: councilID, MeetingID: meetingID}); err != nil {
			return err
		}
		if err := recordMeeting(ctx, tx, actor, councilID, meetingID, auditAgendaAdd, "Point ajouté à l'ordre du jour : "+it.Title, it); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "decision.rectify_scheduled", "decision", strconv.FormatInt(of.ID, 10),
			fmt.Sprintf("Rectification de la décision n° %d inscrite à l'ordre du jour de « %s » : %s", of.ID, m.Title, r.Reason)), nil, it)
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// lockDecision loads one of the council's decisions FOR UPDATE, so that two
// rectifications of it are taken one after the other. Another council's
// decision is not found.
func lockDecision(ctx context.Context, tx bun.Tx, councilID, id int64) (*Decision, error) {
	of := new(Decision)
	err := tx.NewSelect().Model(of).Where("id = ? AND council_id = ?", id, councilID).For("UPDATE").Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.Fields{"decision": fmt.Sprintf("Le conseil n'a pas de décision n° %d.", id)}.Err()
	}
	return of, err
}

// checkRectifiable refuses a decision already rectified, or whose voted
// rectification awaits its vote on the agenda of a meeting not yet closed.
func checkRectifiable(ctx context.Context, tx bun.IDB, of *Decision) error {
	next, err := rectificationOf(ctx, tx, of.CouncilID, of.ID)
	if err != nil {
		return err
	}
	if next != nil {
		return apperr.New(apperr.Conflict, "La décision n° %d a déjà été rectifiée par la décision n° %d : c'est celle-ci qu'il faut rectifier.", of.ID, next.ID)
	}
	var pending struct {
		Title string `bun:"title"`
	}
	err = tx.NewRaw(`SELECT m.title FROM agenda_items a JOIN meetings m ON m.id = a.meeting_id AND m.council_id = a.council_id
		WHERE a.council_id = ? AND a.rectifies_id = ? AND m.state NOT IN (?, ?)
		AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.agenda_item_id = a.id AND v.council_id = a.council_id AND v.state = ?)
		LIMIT 1`, of.CouncilID, of.ID, MeetingClosed, MeetingCancelled, VoteClosed).Scan(ctx, &pending)
	if database.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return apperr.New(apperr.Conflict, "La rectification de la décision n° %d est déjà à l'ordre du jour de la séance « %s » : elle y sera votée.", of.ID, pending.Title)
}

// rectifyTarget is the register item whose status decision of set, or would
// have set had it been adopted; nil when it concerns none (a shop, the
// boussole, a free item) or the item was never created.
func rectifyTarget(ctx context.Context, tx bun.IDB, of *Decision) (*catalog.Item, error) {
	if of.ProposalID == nil {
		return nil, nil
	}
	p, err := proposal.GetProposal(ctx, tx, of.CouncilID, *of.ProposalID)
	if err != nil {
		return nil, err
	}
	var slug string
	switch {
	case p.Kind == proposal.ProposalItemStatus && p.TargetItemID != nil:
		if slug, _, err = catalog.ItemKindAndSlug(ctx, tx, of.CouncilID, *p.TargetItemID); err != nil {
			return nil, err
		}
	case p.Kind == proposal.ProposalItemNew:
		slug = catalog.Slug(p.ItemName)
	default:
		return nil, nil
	}
	it, err := catalog.ItemBySlug(ctx, tx, of.CouncilID, slug)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	return it, err
}

// decideRectification records the rectifying decision of an adopted vote on
// a rectification item, inside the vote's publication (decideOnClose): it
// supersedes the decision named by the item and, when the item sets a
// status the register does not give yet, applies it through ApplyChange. A
// vote not adopted records nothing: the decision stands.
func decideRectification(ctx context.Context, tx bun.Tx, v *Vote, item *AgendaItem, actor audit.Actor, in CloseInput) (*Decision, error) {
	id := strconv.FormatInt(*item.RectifiesID, 10)
	if v.Outcome != "adopte" {
		return nil, audit.Record(ctx, tx, actor.Entry(&v.CouncilID, "decision.rectify_rejected", "decision", id,
			fmt.Sprintf("Rectification de la décision n° %s rejetée par le vote : la décision reste en vigueur", id)), nil, nil)
	}
	of, err := lockDecision(ctx, tx, v.CouncilID, *item.RectifiesID)
	if err != nil {
		return nil, err
	}
	if next, err := rectificationOf(ctx, tx, v.CouncilID, of.ID); err != nil {
		return nil, err
	} else if next != nil {
		return nil, apperr.New(apperr.Conflict, "La décision n° %d a été rectifiée entre-temps par la décision n° %d.", of.ID, next.ID)
	}
	status := catalog.Status(item.RectifyStatus)
	var target *catalog.Item
	if status != "" {
		if target, err = rectifyTarget(ctx, tx, of); err != nil {
			return nil, err
		}
		if target != nil && target.Status == status {
			target = nil // the register already says so: nothing to apply
		}
	}
	title := fmt.Sprintf("Adoptée : rectification de la décision n° %d — %s", of.ID, of.Title)
	if target != nil {
		title = fmt.Sprintf("Adoptée : rectification de la décision n° %d — %s : %s", of.ID, target.Name, status.Label())
	}
	if rs := []rune(title); len(rs) > 300 {
		title = string(rs[:299]) + "…"
	}
	motivation := strings.TrimSpace(in.Motivation)
	if motivation == "" {
		motivation = defaultMotivation(v, DecisionAdopted, "") + " Motif de la rectification : " + item.RectifyReason
	}
	d := &Decision{CouncilID: v.CouncilID, MeetingID: v.MeetingID, VoteID: &v.ID, AgendaItemID: item.ID, ProposalID: of.ProposalID,
		Outcome: DecisionAdopted, Title: title, MotivationMD: motivation, MotivationHTML: markdown.ToHTML(motivation),
		DecidedAt: *v.ClosedAt, ActorID: actor.NullableID(), ActorName: actor.Name, SupersedesID: &of.ID, RectificationReason: item.RectifyReason}
	if err := tx.NewRaw("SELECT nextval(pg_get_serial_sequence('decisions', 'id'))").Scan(ctx, &d.ID); err != nil {
		return nil, err
	}
	if target != nil {
		text := motivation
		if rs := []rune(text); len(rs) > 2000 {
			text = string(rs[:2000])
		}
		ic := catalog.ItemChange{Slug: target.Slug, Status: status, ExplanationMD: motivation}
		switch status {
		case catalog.SousConditions:
			ic.Conditions = text
		case catalog.NonConventionne:
			ic.Reason = text
		}
		day := civilDay(d.DecidedAt)
		d.EffectiveOn = &day
		summary := title
		if rs := []rune(summary); len(rs) > 500 {
			summary = string(rs[:500])
		}
		ver, err := catalog.ApplyChange(ctx, tx, v.CouncilID, catalog.Change{Summary: summary, EffectiveOn: day, Items: []catalog.ItemChange{ic}},
			catalog.DecisionRef{Ref: d.Ref(), Title: d.Title, URL: d.Path(), ActorID: d.ActorID, ActorName: actor.Name})
		if err != nil {
			return nil, err
		}
		d.RegisterVersion = &ver.Number
	}
	if _, err := tx.NewInsert().Model(d).Returning("created_at").Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert rectifying decision: %w", err)
	}
	if err := audit.Record(ctx, tx, actor.Entry(&v.CouncilID, "decision.rectify", "decision", id,
		fmt.Sprintf("Décision n° %d rectifiée par la décision n° %d, votée : %s", of.ID, d.ID, item.RectifyReason)), of, d); err != nil {
		return nil, err
	}
	return d, emitDecision(ctx, tx, d)
}

// RectifyStatusLabel is what a rectification item does to the register, in
// French.
func (a AgendaItem) RectifyStatusLabel() string {
	if a.RectifyStatus == "" {
		return "registre inchangé"
	}
	return "nouveau statut : " + catalog.Status(a.RectifyStatus).Label()
}
