package lokavaluto

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"cla/internal/jobs"
	"cla/internal/odoo"
	"cla/internal/web"
)

// PushWorker runs odoo.PushArgs: the push of one council's linked shops, or
// of every council's (the nightly sweep). A failed push returns its error,
// so the job runner retries it with backoff (jobs.DefaultBackoff); the
// failure stays shown on /gestion/odoo until a push succeeds.
type PushWorker struct {
	jobs.WorkerDefaults[odoo.PushArgs]
	DB        *bun.DB
	Connector *Connector
}

// Work pushes. Without a configured connector there is nothing to do.
func (w *PushWorker) Work(ctx context.Context, job *jobs.Job[odoo.PushArgs]) error {
	if !w.Connector.Configured() {
		return nil
	}
	councils := []int64{job.Args.CouncilID}
	if job.Args.CouncilID == 0 {
		var err error
		if councils, err = odoo.LinkedCouncils(ctx, w.DB); err != nil {
			return err
		}
	}
	var errs []error
	for _, id := range councils {
		if _, err := w.Connector.Push(ctx, w.DB, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Register adds the push worker and, when the connector is configured, its
// nightly sweep (3:30, Paris time: after the day's meetings, before the
// shops open), to the instance's jobs.
func Register(ws *jobs.Workers, db *bun.DB, c *Connector) {
	jobs.Register(ws, &PushWorker{DB: db, Connector: c})
	if c.Configured() {
		ws.Periodic("odoo.nightly", jobs.Daily(3, 30, web.Paris()), func() jobs.JobArgs { return odoo.PushArgs{} })
	}
}
