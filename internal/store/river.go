package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// RiverDriver returns the River driver for db's backend: database/sql over
// lib/pq on PostgreSQL, the SQLite driver over the same modernc pool on
// SQLite. Both work on *sql.Tx, so jobs are inserted in the transaction of
// the write that causes them.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.Dialect == dialect.Postgres {
		return riverdatabasesql.New(db.SQL)
	}
	return riversqlite.New(db.SQL)
}

// migrateRiver brings River's own tables (river_job, river_leader…) up to
// date; it runs with the ent migration, so `migrate` and `serve` both leave
// a database the job queue can use.
func (db *DB) migrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(db.RiverDriver(), &rivermigrate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migration: %w", err)
	}
	return nil
}

// TxCapture receives the *sql.Tx under an ent transaction begun with a
// context from CaptureTx: River inserts its jobs on that *sql.Tx.
type TxCapture struct{ Tx *sql.Tx }

type captureKey struct{}

// CaptureTx returns a context that makes the next transaction begun through
// the counting driver record its *sql.Tx in the returned capture.
func CaptureTx(ctx context.Context) (context.Context, *TxCapture) {
	c := &TxCapture{}
	return context.WithValue(ctx, captureKey{}, c), c
}

// capture records tx's *sql.Tx when ctx asks for it.
func capture(ctx context.Context, tx dialect.Tx) {
	c, ok := ctx.Value(captureKey{}).(*TxCapture)
	if !ok {
		return
	}
	if et, ok := tx.(*entsql.Tx); ok {
		if st, ok := et.Tx.(*sql.Tx); ok {
			c.Tx = st
		}
	}
}
