package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"

	"entgo.io/ent/dialect"
)

// ErrUnstorableText is SQLite's answer to a text argument PostgreSQL
// cannot store (a NUL character, invalid UTF-8): both databases refuse
// the same input, so a filter on "\u0000" is bad input on both instead of
// matching every row on one of them.
var ErrUnstorableText = errors.New("store: text contains a NUL character or invalid UTF-8")

// checkText returns ErrUnstorableText when a string argument is one
// PostgreSQL refuses.
func checkText(args any) error {
	list, _ := args.([]any)
	for _, a := range list {
		if s, ok := a.(string); ok && (strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)) {
			return ErrUnstorableText
		}
	}
	return nil
}

// textGuard checks the arguments of every statement (SQLite only).
type textGuard struct{ dialect.Driver }

func (d textGuard) Exec(ctx context.Context, q string, args, v any) error {
	if err := checkText(args); err != nil {
		return err
	}
	return d.Driver.Exec(ctx, q, args, v)
}

func (d textGuard) Query(ctx context.Context, q string, args, v any) error {
	if err := checkText(args); err != nil {
		return err
	}
	return d.Driver.Query(ctx, q, args, v)
}

// QueryContext keeps ent's Client.QueryContext (hand-written SQL) working.
func (d textGuard) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	qc, ok := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, errors.New("store: driver does not support QueryContext")
	}
	if err := checkText(args); err != nil {
		return nil, err
	}
	return qc.QueryContext(ctx, q, args...)
}

// ExecContext keeps ent's Client.ExecContext working.
func (d textGuard) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ec, ok := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, errors.New("store: driver does not support ExecContext")
	}
	if err := checkText(args); err != nil {
		return nil, err
	}
	return ec.ExecContext(ctx, q, args...)
}

func (d textGuard) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return textGuardTx{tx}, nil
}

// BeginTx keeps ent's Client.BeginTx (isolation levels) working.
func (d textGuard) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
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
	return textGuardTx{tx}, nil
}

type textGuardTx struct{ dialect.Tx }

func (t textGuardTx) Exec(ctx context.Context, q string, args, v any) error {
	if err := checkText(args); err != nil {
		return err
	}
	return t.Tx.Exec(ctx, q, args, v)
}

func (t textGuardTx) Query(ctx context.Context, q string, args, v any) error {
	if err := checkText(args); err != nil {
		return err
	}
	return t.Tx.Query(ctx, q, args, v)
}
