package store

import (
	"context"
	"log/slog"
	"time"

	entsql "entgo.io/ent/dialect/sql"
)

// PreparedTexts returns the query texts db keeps prepared.
func PreparedTexts(db *DB) []string {
	db.prepared.mu.Lock()
	defer db.prepared.mu.Unlock()
	out := make([]string, 0, len(db.prepared.stmts))
	for q := range db.prepared.stmts {
		out = append(out, q)
	}
	return out
}

// ListenAuthChangesThrough is ListenAuthChanges with the listener
// connecting to url (a proxy in front of db's server).
func ListenAuthChangesThrough(db *DB, url string, log *slog.Logger) {
	db.url = url
	db.ListenAuthChanges(context.Background(), log, 5*time.Second)
}

// WritesAuth exposes writesAuth.
var WritesAuth = writesAuth

// ClassifyAuth exposes classifyAuth.
var ClassifyAuth = classifyAuth

// AuthTriggerStatements returns the statements that create table's
// notification triggers.
func AuthTriggerStatements(table string) []string {
	for _, t := range authTableSpecs {
		if t.name == table {
			return authTriggerStatements(t)
		}
	}
	return nil
}

// CachedRead runs q as ent's reads outside transactions run (the
// statement cache); the caller closes the rows.
func CachedRead(ctx context.Context, db *DB, q string) (*entsql.Rows, error) {
	rows := &entsql.Rows{}
	return rows, db.prepared.query(ctx, q, []any{}, rows)
}

// PoolConn returns the pool's driver connection, to look at while it is
// idle (with one connection in the pool, the one every read uses).
func PoolConn(ctx context.Context, db *DB) (any, error) {
	sc, err := db.SQL.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	var c any
	return c, sc.Raw(func(dc any) error { c = dc; return nil })
}

// SocketWatched reports whether c, a connection of PoolConn, watches a
// statement's context (ok: it has a socket to watch).
func SocketWatched(c any) (watched, ok bool) {
	nc := c.(*conn).nc
	if nc == nil {
		return false, false
	}
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.stop != nil, true
}
