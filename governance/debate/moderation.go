package debate

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/markdown"
)

// Moderation is one step of an argument's moderation history: hidden, or
// shown again, by whom, why and when. The history is the audit trail's
// entries for the argument (append-only and chained), read through
// audit.List: no copy to keep in step.
type Moderation struct {
	Action ModerationAction
	ByName string
	Reason string
	At     time.Time
}

// ModerationAction is what a moderation step did.
type ModerationAction string

// The moderation actions.
const (
	ModerationHidden ModerationAction = "masque"
	ModerationShown  ModerationAction = "reaffiche"
)

// Label is the action in French.
func (a ModerationAction) Label() string {
	if a == ModerationShown {
		return "Ré-affiché"
	}
	return "Masqué"
}

// ShowArgument shows again an argument hidden by mistake (a facilitator,
// with a reason). The argument's row keeps only its current state; the
// hiding it undoes stays in the audit trail (argument.hide, written by
// HideArgument) beside this showing (argument.show), and the argument's page
// shows both (Moderations).
func ShowArgument(ctx context.Context, db *bun.DB, councilID, id int64, by audit.Actor, reason string) error {
	reason = strings.TrimSpace(markdown.Clean(reason))
	f := apperr.Fields{}
	checkText(f, "show_reason", reason, 1, maxReasonLen, "La raison")
	if err := f.Err(); err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a, err := argumentByID(ctx, tx, councilID, id)
		if err != nil {
			return err
		}
		if !a.Hidden() {
			return apperr.New(apperr.Conflict, "Cet argument n'est pas masqué.")
		}
		res, err := tx.NewUpdate().Model((*Argument)(nil)).Set("hidden_at = NULL, hidden_by_id = NULL, hidden_by_name = '', hidden_reason = ''").
			Where("id = ? AND council_id = ? AND hidden_at IS NOT NULL", id, councilID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "Cet argument n'est pas masqué.")
		}
		return audit.Record(ctx, tx, by.Entry(&councilID, "argument.show", "argument", strconv.FormatInt(id, 10),
			"Argument ré-affiché : "+reason).About(a.AuthorName), map[string]any{"hidden_reason": a.HiddenReason}, map[string]any{"reason": reason})
	})
}

// Moderations lists an argument's moderation history, oldest first, from
// the audit trail (its last 500 entries about the argument).
func Moderations(ctx context.Context, db bun.IDB, councilID, argumentID int64) ([]Moderation, error) {
	entries, _, err := audit.List(ctx, db, councilID, audit.Filter{ObjectType: "argument", ObjectID: strconv.FormatInt(argumentID, 10), Limit: 500})
	if err != nil {
		return nil, err
	}
	var ms []Moderation
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		m := Moderation{ByName: e.ActorName, At: e.CreatedAt}
		switch e.Action {
		case "argument.hide":
			m.Action, m.Reason = ModerationHidden, strings.TrimPrefix(e.Summary, "Argument masqué : ")
		case "argument.show":
			m.Action, m.Reason = ModerationShown, strings.TrimPrefix(e.Summary, "Argument ré-affiché : ")
		default:
			continue
		}
		ms = append(ms, m)
	}
	return ms, nil
}
