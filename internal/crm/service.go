package crm

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/store"
)

// Service is the domain layer's entry point: every use case is a method on
// it, in the file of its entity (account.go, lead.go, stage.go…). Both
// transports hold one Service; it is safe for concurrent use.
type Service struct {
	db    *ent.Client
	hooks []EventHook // see OnEvent
	// sqlTxs maps the client of each open transaction to its *sql.Tx, for
	// hooks that insert jobs in the write's transaction (SQLTx).
	sqlTxs sync.Map
	// bound is set on a Service made by InTx: db is then a transaction's
	// client, every use case joins that transaction, and boundTx is its
	// *sql.Tx.
	bound   bool
	boundTx *sql.Tx
	// afterCommit maps the client of each open transaction to the
	// functions to run once it commits (AfterCommit); boundAfter is a
	// bound Service's list, its transaction's.
	afterCommit sync.Map
	boundAfter  *[]func()
}

// NewService returns a Service over the ent client db.
func NewService(db *ent.Client) *Service { return &Service{db: db} }

// inTx runs fn in one transaction with a client bound to it, committing when
// fn returns nil and rolling back otherwise, so a write is all or nothing.
// fn's error is returned as is (map it with AsError at the call site or let
// the caller do it).
func (s *Service) inTx(ctx context.Context, fn func(tx *ent.Client) error) (err error) {
	if s.bound {
		if err := fn(s.db); err != nil {
			return AsError(err)
		}
		return nil
	}
	ctx, captured := store.CaptureTx(ctx)
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return AsError(err)
	}
	client := tx.Client()
	s.sqlTxs.Store(client, captured.Tx)
	defer s.sqlTxs.Delete(client)
	after := &[]func(){}
	s.afterCommit.Store(client, after)
	defer s.afterCommit.Delete(client)
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(client); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return AsError(fmt.Errorf("%w (rollback: %v)", err, rerr))
		}
		return AsError(err)
	}
	if err := tx.Commit(); err != nil {
		return AsError(fmt.Errorf("commit: %w", err))
	}
	for _, f := range *after {
		f()
	}
	return nil
}

// AfterCommit runs fn once the transaction of tx (a client of a
// transaction this Service, or a Service bound to it, opened) has
// committed, and never when it rolls back: live subscriptions are told of
// a change only when others can read it. Outside such a transaction fn
// runs at once.
func (s *Service) AfterCommit(tx *ent.Client, fn func()) {
	if s.bound && s.boundAfter != nil {
		*s.boundAfter = append(*s.boundAfter, fn)
		return
	}
	if v, ok := s.afterCommit.Load(tx); ok {
		l := v.(*[]func())
		*l = append(*l, fn)
		return
	}
	fn()
}

// InTx runs fn in one transaction with a Service bound to it: the use cases
// fn calls on bound (and their reads) join the transaction, so the
// automation runtime commits an action's effects together with its own
// bookkeeping (written through tx, the transaction's client), or nothing.
// sqlTx is the transaction's *sql.Tx (for River).
func (s *Service) InTx(ctx context.Context, fn func(bound *Service, tx *ent.Client, sqlTx *sql.Tx) error) error {
	if s.bound {
		return fn(s, s.db, s.boundTx)
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		sqlTx := s.SQLTx(tx)
		after, _ := s.afterCommit.Load(tx)
		bound := &Service{db: tx, hooks: s.hooks, bound: true, boundTx: sqlTx}
		bound.boundAfter, _ = after.(*[]func())
		return fn(bound, tx, sqlTx)
	})
}
