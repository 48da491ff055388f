package database

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// statementHookKey is the context key of WithStatementHook.
type statementHookKey struct{}

// WithStatementHook returns a context under which every SQL statement sent to
// PostgreSQL calls hook with its text: bun's queries and the hot paths' pgx
// batches alike (a test hook: the query-budget tests count statements per
// request). Statements run apart from the request, such as batched session
// lookups and ballots (internal/batch), run under their batch's context.
func WithStatementHook(ctx context.Context, hook func(sql string)) context.Context {
	return context.WithValue(ctx, statementHookKey{}, hook)
}

func callStatementHook(ctx context.Context, sql string) {
	if hook, ok := ctx.Value(statementHookKey{}).(func(string)); ok {
		hook(sql)
	}
}

// statementTracer calls the context's statement hook for each statement,
// single or in a batch.
type statementTracer struct{}

func (statementTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	callStatementHook(ctx, data.SQL)
	return ctx
}

func (statementTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (statementTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (statementTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	callStatementHook(ctx, data.SQL)
}

func (statementTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
