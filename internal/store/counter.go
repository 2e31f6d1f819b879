package store

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/internal/httpx"
)

// Counter counts the SQL statements sent through a client: in total, and per
// request (httpx.Request.Statements) for the contexts of HTTP requests.
// Statement-count tests and the request log read it; it is how "N+1 free"
// is measured, not assumed.
type Counter struct{ total, prepared atomic.Int64 }

// Total returns the number of statements issued so far.
func (c *Counter) Total() int64 { return c.total.Load() }

// Prepared returns the number of statements prepared so far for the
// statement cache (prepared.go): a read whose text is kept runs again
// without one.
func (c *Counter) Prepared() int64 { return c.prepared.Load() }

func (c *Counter) inc(ctx context.Context) {
	c.total.Add(1)
	if r := httpx.RequestOf(ctx); r != nil {
		r.Statements.Add(1)
	}
}

// wrap counts the statements of d; reads outside transactions go through p
// (prepared statements) when p is not nil.
func (c *Counter) wrap(d dialect.Driver, p *prepared) dialect.Driver {
	return &countingDriver{d, c, p}
}

type countingDriver struct {
	dialect.Driver
	c *Counter
	p *prepared
}

var errInvalidQuery = errors.New("store: Query wants []any arguments and *sql.Rows")

func (d *countingDriver) Exec(ctx context.Context, q string, args, v any) error {
	d.c.inc(ctx)
	return traced(ctx, q, func(ctx context.Context) error { return d.Driver.Exec(ctx, q, args, v) })
}

func (d *countingDriver) Query(ctx context.Context, q string, args, v any) error {
	d.c.inc(ctx)
	return traced(ctx, q, func(ctx context.Context) error {
		if d.p != nil {
			return d.p.query(ctx, q, args, v)
		}
		return d.Driver.Query(ctx, q, args, v)
	})
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	capture(ctx, tx)
	return withCommitHook(ctx, &countingTx{tx, d.c}), nil
}

// BeginTx keeps ent's Client.BeginTx (isolation levels) working.
func (d *countingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	capture(ctx, tx)
	return withCommitHook(ctx, &countingTx{tx, d.c}), nil
}

type countingTx struct {
	dialect.Tx
	c *Counter
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.c.inc(ctx)
	return traced(ctx, q, func(ctx context.Context) error { return t.Tx.Exec(ctx, q, args, v) })
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	t.c.inc(ctx)
	return traced(ctx, q, func(ctx context.Context) error { return t.Tx.Query(ctx, q, args, v) })
}

// Count returns the statements counted so far in ctx's request (0 outside one).
func Count(ctx context.Context) int64 {
	if r := httpx.RequestOf(ctx); r != nil {
		return r.Statements.Load()
	}
	return 0
}

// QueryContext keeps ent's Client.QueryContext (hand-written SQL) working
// and counted.
func (d *countingDriver) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if d.p != nil {
		d.c.inc(ctx)
		return d.p.QueryContext(ctx, q, args...)
	}
	qc, ok := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, errors.New("store: driver does not support QueryContext")
	}
	d.c.inc(ctx)
	return qc.QueryContext(ctx, q, args...)
}

// ExecContext keeps ent's Client.ExecContext working and counted.
func (d *countingDriver) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ec, ok := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, errors.New("store: driver does not support ExecContext")
	}
	d.c.inc(ctx)
	return ec.ExecContext(ctx, q, args...)
}
