package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/internal/store"
)

// PlanLine is one node of a statement's plan: SQLite's EXPLAIN QUERY PLAN
// row (Parent 0 at the top level) or one line of PostgreSQL's EXPLAIN
// (Parent always 0).
type PlanLine struct {
	Parent int64
	Detail string
}

func (l PlanLine) String() string { return fmt.Sprintf("%d %s", l.Parent, l.Detail) }

// PlanString is a plan one line per node, for failure messages.
func PlanString(plan []PlanLine) string {
	var b strings.Builder
	for _, l := range plan {
		fmt.Fprintln(&b, l)
	}
	return b.String()
}

// Explain returns db's plan of query. On PostgreSQL sequential scans are
// disabled: on test-sized tables a scan may be cheaper, which would hide
// whether an index can serve the statement at all.
func Explain(t testing.TB, db *store.DB, query string, args ...any) []PlanLine {
	t.Helper()
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	prefix := "EXPLAIN QUERY PLAN "
	if db.Dialect == dialect.Postgres {
		prefix = "EXPLAIN "
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, "RESET enable_seqscan")
	}
	rows, err := conn.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var plan []PlanLine
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		l := PlanLine{Detail: fmt.Sprintf("%s", vals[len(vals)-1])}
		if len(vals) == 4 { // SQLite: id, parent, notused, detail
			l.Parent, _ = vals[1].(int64)
		}
		plan = append(plan, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
