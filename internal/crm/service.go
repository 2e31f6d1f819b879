package crm

import (
	"context"
	"fmt"

	"github.com/conecrm/gateway/ent"
)

// Service is the domain layer's entry point: every use case is a method on
// it, in the file of its entity (account.go, lead.go, stage.go…). Both
// transports hold one Service; it is safe for concurrent use.
type Service struct {
	db    *ent.Client
	hooks []EventHook // see OnEvent
}

// NewService returns a Service over the ent client db.
func NewService(db *ent.Client) *Service { return &Service{db: db} }

// Client returns the ent client for read paths that need no transaction.
func (s *Service) Client() *ent.Client { return s.db }

// inTx runs fn in one transaction with a client bound to it, committing when
// fn returns nil and rolling back otherwise, so a write is all or nothing.
// fn's error is returned as is (map it with AsError at the call site or let
// the caller do it).
func (s *Service) inTx(ctx context.Context, fn func(tx *ent.Client) error) (err error) {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return AsError(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx.Client()); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return AsError(fmt.Errorf("%w (rollback: %v)", err, rerr))
		}
		return AsError(err)
	}
	if err := tx.Commit(); err != nil {
		return AsError(fmt.Errorf("commit: %w", err))
	}
	return nil
}
