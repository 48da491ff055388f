package auth

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/jobs"
)

// Terms (issue 21, point 5): a membership that comes from a seat drawn by lot
// carries the end of its term (memberships.term_ends_at). It ends by itself:
// every query of this package that asks for an active membership also asks
// for a term not over (activeSQL), so nothing waits for a job; the hourly
// TermSweep then disables the ended memberships for good (disabled_at, the
// sessions closed, an audit entry), so that the other domains' own counts of
// active members (disabled_at IS NULL) follow within the day. A seat whose
// term ended is not offered to the reserve list: that is for declined seats.

// activeSQL is the condition of an active membership of alias m.
const activeSQL = "m.disabled_at IS NULL AND (m.term_ends_at IS NULL OR m.term_ends_at > now())"

// activeSQLBare is activeSQL for a query on memberships without alias.
const activeSQLBare = "disabled_at IS NULL AND (term_ends_at IS NULL OR term_ends_at > now())"

// SetTermEnd gives the council's membership of accountID a term ending at
// end (a seat drawn by lot). Audited.
func SetTermEnd(ctx context.Context, db bun.IDB, councilID int64, by audit.Actor, accountID int64, end time.Time) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := MemberByAccount(ctx, tx, councilID, accountID)
		if err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model((*Membership)(nil)).Set("term_ends_at = ?", end).Set("updated_at = now()").
			Where("id = ? AND council_id = ?", m.MembershipID, councilID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "Ce membre n'existe pas dans ce conseil.")
		}
		return audit.Record(ctx, tx, by.Entry(ptr(councilID), "member.term", "member", strconv.FormatInt(accountID, 10),
			"Mandat de "+m.Name+" jusqu'au "+end.Format("2006-01-02")).About(m.Name), nil, map[string]any{"term_ends_at": end})
	})
}

// EndTerms disables every membership, in every council, whose term is over
// at now: disabled_at is the term's end, the account's sessions end, and
// each gets an audit entry naming the member. It returns how many ended. A
// second call ends nothing more.
func EndTerms(ctx context.Context, db bun.IDB, now time.Time) (int, error) {
	n := 0
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var ended []struct {
			CouncilID int64     `bun:"council_id"`
			AccountID int64     `bun:"account_id"`
			Name      string    `bun:"name"`
			End       time.Time `bun:"term_ends_at"`
		}
		if err := tx.NewRaw(`UPDATE memberships AS m SET disabled_at = m.term_ends_at, updated_at = now()
			FROM accounts AS a WHERE a.id = m.account_id AND m.disabled_at IS NULL AND m.term_ends_at <= ?
			RETURNING m.council_id, m.account_id, a.name, m.term_ends_at`, now).Scan(ctx, &ended); err != nil {
			return err
		}
		for _, e := range ended {
			if err := DeleteSessionsOf(ctx, tx, e.AccountID); err != nil {
				return err
			}
			cid := e.CouncilID
			if err := audit.Record(ctx, tx, audit.Actor{}.Entry(&cid, "member.term_end", "member", strconv.FormatInt(e.AccountID, 10),
				"Fin du mandat de "+e.Name+" (tiré au sort), le "+e.End.Format("2006-01-02")).About(e.Name),
				map[string]any{"active": true}, map[string]any{"active": false}); err != nil {
				return err
			}
		}
		n = len(ended)
		return nil
	})
	return n, err
}

// TermSweep is the hourly job that runs EndTerms.
type TermSweep struct{}

// Kind names the job.
func (TermSweep) Kind() string { return "auth.term_sweep" }

// TermWorker works TermSweep jobs.
type TermWorker struct {
	jobs.WorkerDefaults[TermSweep]
	DB  *bun.DB
	Now func() time.Time // the clock, replaced by tests
}

// Work ends the terms that are over.
func (w *TermWorker) Work(ctx context.Context, _ *jobs.Job[TermSweep]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	_, err := EndTerms(ctx, w.DB, now)
	return err
}

// RegisterTermSweep adds the worker and its hourly run to ws (a term ends
// at an instant; reads already treat it as ended, the sweep makes it final).
func RegisterTermSweep(ws *jobs.Workers, db *bun.DB) {
	jobs.Register(ws, &TermWorker{DB: db})
	ws.Periodic("auth.term_sweep", jobs.Hourly(), func() jobs.JobArgs { return TermSweep{} })
}
