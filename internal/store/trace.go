package store

import (
	"context"
	"sync/atomic"
)

// StatementTracer opens a span for one SQL statement and returns the
// function that ends it with the statement's error.
type StatementTracer func(ctx context.Context, query string) (context.Context, func(error))

var statementTracer atomic.Pointer[StatementTracer]

// SetStatementTracer makes every statement call f (internal/tracing sets
// it when tracing is on; unset, statements pay one atomic load).
func SetStatementTracer(f StatementTracer) { statementTracer.Store(&f) }

func traced(ctx context.Context, q string, run func(context.Context) error) error {
	p := statementTracer.Load()
	if p == nil {
		return run(ctx)
	}
	ctx, end := (*p)(ctx, q)
	err := run(ctx)
	end(err)
	return err
}
