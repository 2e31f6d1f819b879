package crm

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/httpx"
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
	// retries and log: see SetTxRetries.
	retries int
	log     *slog.Logger
}

// NewService returns a Service over the ent client db.
func NewService(db *ent.Client) *Service {
	return &Service{db: db, retries: DefaultTxRetries, log: slog.Default()}
}

// DefaultTxRetries is how many times a write's transaction is run again
// after the database refused it for a concurrent one (CONECRM_TX_RETRIES).
const DefaultTxRetries = 3

// txBackoff is the middle of the pause before the first rerun; it doubles
// with each rerun and is jittered by ±50 % so that the transactions that
// conflicted do not meet again in step.
const txBackoff = 10 * time.Millisecond

var txRetried, txGaveUp atomic.Int64

// TxConflicts returns how many write transactions the database refused for
// a concurrent one and were run again, and how many were still refused at
// their last attempt (metric conecrm_tx_conflicts_total).
func TxConflicts() (retried, gaveUp int64) { return txRetried.Load(), txGaveUp.Load() }

// SetTxRetries sets how many times a refused transaction is run again
// (0: never) and where those reruns are logged.
func (s *Service) SetTxRetries(n int, log *slog.Logger) {
	s.retries = max(n, 0)
	if log != nil {
		s.log = log
	}
}

// inTx runs fn in one transaction with a client bound to it, committing when
// fn returns nil and rolling back otherwise, so a write is all or nothing.
// fn's error is returned as is (map it with AsError at the call site or let
// the caller do it).
//
// A transaction the database refuses only because of a concurrent one (a
// deadlock, a serialization failure, SQLite busy: store.IsTransientConflict)
// is rolled back and run again, fn included, up to s.retries times after a
// short jittered pause, while ctx lasts; then it is Busy (503), not a
// fault. So fn must be re-runnable: everything it does goes through tx
// (rolled back with the attempt: rows, events, River jobs on the *sql.Tx,
// AfterCommit functions, whose list is the attempt's), and what it
// assigns outside (an answer, a count, a flag) it sets from scratch, never
// appends to or increments. A bound Service's inTx joins the transaction
// of its outermost caller, which alone is run again.
func (s *Service) inTx(ctx context.Context, fn func(tx *ent.Client) error) error {
	if s.bound {
		if err := fn(s.db); err != nil {
			return AsError(err)
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil {
			return nil
		}
		if !store.IsTransientConflict(err) {
			return AsError(err)
		}
		if attempt >= s.retries || ctx.Err() != nil {
			txGaveUp.Add(1)
			s.log.WarnContext(ctx, "write transaction refused for concurrent ones at its last attempt",
				"request_id", httpx.RequestID(ctx), "attempts", attempt+1, "err", err)
			return AsError(err)
		}
		txRetried.Add(1)
		s.log.WarnContext(ctx, "write transaction refused for a concurrent one; running it again",
			"request_id", httpx.RequestID(ctx), "attempt", attempt+1, "err", err)
		d := txBackoff << attempt
		t := time.NewTimer(d/2 + rand.N(d))
		select {
		case <-ctx.Done():
			t.Stop()
			txGaveUp.Add(1)
			return AsError(err)
		case <-t.C:
		}
	}
}

// runTx is one attempt of inTx: its error is the data layer's, unmapped.
func (s *Service) runTx(ctx context.Context, fn func(tx *ent.Client) error) (err error) {
	ctx, captured := store.CaptureTx(ctx)
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
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
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
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
// sqlTx is the transaction's *sql.Tx (for River). Like inTx's, fn is run
// again after a transient conflict, so it must be re-runnable (see inTx).
func (s *Service) InTx(ctx context.Context, fn func(bound *Service, tx *ent.Client, sqlTx *sql.Tx) error) error {
	if s.bound {
		return fn(s, s.db, s.boundTx)
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		sqlTx := s.SQLTx(tx)
		after, _ := s.afterCommit.Load(tx)
		bound := &Service{db: tx, hooks: s.hooks, bound: true, boundTx: sqlTx, log: s.log}
		bound.boundAfter, _ = after.(*[]func())
		return fn(bound, tx, sqlTx)
	})
}
