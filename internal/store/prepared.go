package store

import (
	"context"
	"database/sql"
	"sync"

	entsql "entgo.io/ent/dialect/sql"
)

// maxPrepared bounds the statements kept prepared per pool. Queries differ
// by text only in their shape (which columns, how many ids in an IN list),
// so a working set is small; past the bound an arbitrary one is dropped.
const maxPrepared = 256

// prepared runs the reads sent outside transactions as prepared statements
// kept per query text. Both databases then parse (and PostgreSQL plans,
// after its first executions, generically) a hot query once per connection
// instead of once per execution: on the single-node request SQLite spent a
// third of the process's CPU parsing.
//
// On PostgreSQL id lists are bound as one array (anyArrays), so a query
// is one statement whatever the length of its lists.
type prepared struct {
	db     *sql.DB
	arrays bool
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
}

func newPrepared(db *sql.DB, arrays bool) *prepared {
	return &prepared{db: db, arrays: arrays, stmts: map[string]*sql.Stmt{}}
}

func (p *prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if p.arrays {
		query, args = anyArrays(query, args)
	}
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// query is entsql.Conn.Query over prepared statements.
func (p *prepared) query(ctx context.Context, query string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	argv, ok2 := args.([]any)
	if !ok || !ok2 {
		return errInvalidQuery
	}
	rows, err := p.QueryContext(ctx, query, argv...)
	if err != nil {
		return err
	}
	*vr = entsql.Rows{ColumnScanner: rows}
	return nil
}

func (p *prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	s, ok := p.stmts[query]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	// Prepared outside the lock: concurrent first uses may both prepare,
	// the loser's statement is closed.
	s, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.stmts[query]; ok {
		s.Close()
		return old, nil
	}
	if len(p.stmts) >= maxPrepared {
		for k, old := range p.stmts {
			// Rows still open on it keep it alive until they close.
			old.Close()
			delete(p.stmts, k)
			break
		}
	}
	p.stmts[query] = s
	return s, nil
}

func (p *prepared) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.stmts {
		s.Close()
		delete(p.stmts, k)
	}
}
