package store

import (
	"context"

	"entgo.io/ent/dialect"
)

// CommitHook runs inside a transaction just before it commits, with the
// context the transaction was begun with; an error rolls the transaction
// back and is returned by Commit. The idempotency layer uses it to mark its
// key in the same transaction as the write it guards.
type CommitHook func(ctx context.Context, tx dialect.ExecQuerier) error

type commitHookKey struct{}

// WithCommitHook returns a context whose transactions run h before they
// commit.
func WithCommitHook(ctx context.Context, h CommitHook) context.Context {
	return context.WithValue(ctx, commitHookKey{}, h)
}

func withCommitHook(ctx context.Context, tx dialect.Tx) dialect.Tx {
	h, ok := ctx.Value(commitHookKey{}).(CommitHook)
	if !ok {
		return tx
	}
	return &hookTx{Tx: tx, ctx: ctx, hook: h}
}

type hookTx struct {
	dialect.Tx
	ctx  context.Context
	hook CommitHook
}

func (t *hookTx) Commit() error {
	if err := t.hook(t.ctx, t.Tx); err != nil {
		_ = t.Tx.Rollback()
		return err
	}
	return t.Tx.Commit()
}
