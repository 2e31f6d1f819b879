package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
)

// DefaultStatementCache bounds the statements kept prepared per pool
// (CONECRM_DB_STATEMENT_CACHE). Queries differ by text only in their shape
// (which columns, which relations), so a working set is small; past the
// bound an arbitrary one is dropped.
const DefaultStatementCache = 256

// prepared runs the reads sent outside transactions as prepared statements
// kept per query text. Both databases then parse (and PostgreSQL plans,
// after its first executions, generically) a hot query once per connection
// instead of once per execution: on the single-node request SQLite spent a
// third of the process's CPU parsing.
//
// On PostgreSQL id lists are bound as one array (anyArrays), so a query
// is one statement whatever the length of its lists — prepared or not.
type prepared struct {
	db      *sql.DB
	arrays  bool
	max     int // statements kept; 0: none, every read is sent unprepared
	counter *Counter
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
}

func newPrepared(db *sql.DB, arrays bool, max int, counter *Counter) *prepared {
	return &prepared{db: db, arrays: arrays, max: max, counter: counter, stmts: map[string]*sql.Stmt{}}
}

func (p *prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if p.arrays {
		query, args = anyArrays(query, args)
	}
	if p.max == 0 {
		return p.db.QueryContext(ctx, query, args...)
	}
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil && stalePrepared(err) {
		// Prepared once more, on whichever connection: the server forgot
		// the statement or its result changed shape under it.
		p.drop(query, s)
		if s, err = p.stmt(ctx, query); err != nil {
			return nil, err
		}
		rows, err = s.QueryContext(ctx, args...)
	}
	return rows, err
}

// stalePrepared reports whether err is PostgreSQL refusing a statement
// prepared earlier that a fresh preparation would run: the connection no
// longer has it (DISCARD ALL or DEALLOCATE, e.g. a pooler's reset query),
// or a migration changed the type of a column it returns ("cached plan
// must not change result type"; ent names its columns, so an added column
// changes nothing). SQLite re-prepares such statements by itself.
func stalePrepared(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "26000" || pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan must not change result type")
}

// query is entsql.Conn.Query over prepared statements.
func (p *prepared) query(ctx context.Context, query string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	argv, ok2 := args.([]any)
	if !ok || !ok2 {
		return errInvalidQuery
	}
	if p.max > 0 && ctx.Done() != nil { // cached reads
		// ent's statements: sqlgraph closes their rows.
		ctx = &handoff{Context: ctx}
	}
	rows, err := p.QueryContext(ctx, query, argv...)
	if err != nil {
		return err
	}
	if p.arrays { // PostgreSQL
		*vr = entsql.Rows{ColumnScanner: &uuidRows{Rows: rows}}
		return nil
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
	p.counter.prepared.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.stmts[query]; ok {
		s.Close()
		return old, nil
	}
	if len(p.stmts) >= p.max {
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

// drop forgets s, the statement kept for query, unless another caller
// replaced it already.
func (p *prepared) drop(query string, s *sql.Stmt) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmts[query] == s {
		delete(p.stmts, query)
	}
	s.Close()
}

func (p *prepared) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.stmts {
		s.Close()
		delete(p.stmts, k)
	}
}
