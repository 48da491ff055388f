package assembly

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
	"cla/internal/markdown"
)

// Corrections in the open. A published decision is never edited (the schema
// keeps decisions append-only): a rectifying decision supersedes it. A
// clerical rectification corrects the wording only — title and motivation —
// with a reason, and leaves the register as the original decision set it
// (no new register version: the status does not change). Each decision
// names at most one rectification (UNIQUE supersedes_id), so corrections
// form a chain whose last link is in force; both pages link each other.

// Rectification is a clerical rectification of a decision's wording.
type Rectification struct {
	Title      string
	Motivation string // markdown
	Reason     string
}

// Validate checks a rectification against the decision it corrects.
func (r *Rectification) Validate(of *Decision) error {
	f := apperr.Fields{}
	r.Title, r.Motivation, r.Reason = strings.TrimSpace(r.Title), strings.TrimSpace(r.Motivation), strings.TrimSpace(r.Reason)
	if n := utf8.RuneCountInString(r.Title); n < 3 || n > 300 {
		f.Add("title", "L'intitulé compte de 3 à 300 caractères.")
	}
	if n := utf8.RuneCountInString(r.Motivation); n < 1 || n > 20000 {
		f.Add("motivation", "La motivation est obligatoire (20 000 caractères au plus).")
	}
	if n := utf8.RuneCountInString(r.Reason); n < 1 || n > 2000 {
		f.Add("reason", "Dites ce que la rectification corrige (2000 caractères au plus).")
	}
	if len(f) == 0 && r.Title == of.Title && r.Motivation == strings.TrimSpace(of.MotivationMD) {
		f.Add("title", "Le texte est identique à celui de la décision : rien à rectifier.")
	}
	return f.Err()
}

// RectifyDecision records a clerical rectification of a published decision:
// a new decision, with the same outcome, meeting and item, that supersedes
// it. A decision already rectified is refused with the rectification to
// correct instead.
func RectifyDecision(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, decisionID int64, r *Rectification) (*Decision, error) {
	var d *Decision
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		of := new(Decision)
		err := tx.NewSelect().Model(of).Where("id = ? AND council_id = ?", decisionID, councilID).For("UPDATE").Scan(ctx)
		if database.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Décision introuvable.")
		}
		if err != nil {
			return err
		}
		if next, err := rectificationOf(ctx, tx, councilID, decisionID); err != nil {
			return err
		} else if next != nil {
			return apperr.New(apperr.Conflict, "Cette décision a déjà été rectifiée par la décision n° %d : rectifiez celle-ci.", next.ID)
		}
		// A voted rectification waiting on an agenda goes first.
		if err := checkRectifiable(ctx, tx, of); err != nil {
			return err
		}
		if err := r.Validate(of); err != nil {
			return err
		}
		d = &Decision{CouncilID: councilID, MeetingID: of.MeetingID, AgendaItemID: of.AgendaItemID, ProposalID: of.ProposalID,
			Outcome: of.Outcome, Title: r.Title, MotivationMD: r.Motivation, MotivationHTML: markdown.ToHTML(r.Motivation),
			DecidedAt: time.Now(), EffectiveOn: of.EffectiveOn, ActorID: actor.NullableID(), ActorName: actor.Name,
			SupersedesID: &of.ID, RectificationReason: r.Reason}
		if _, err := tx.NewInsert().Model(d).Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert rectification: %w", err)
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "decision.rectify", "decision", strconv.FormatInt(of.ID, 10),
			fmt.Sprintf("Décision n° %d rectifiée par la décision n° %d : %s", of.ID, d.ID, r.Reason)), of, d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// rectificationOf is the decision that rectifies decision id, or nil.
func rectificationOf(ctx context.Context, db bun.IDB, councilID, id int64) (*Decision, error) {
	d := new(Decision)
	err := selectDecisions(db, d).Where("d.supersedes_id = ? AND d.council_id = ?", id, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, nil
	}
	return d, err
}
