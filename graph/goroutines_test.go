package graph_test

import (
	"runtime/metrics"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// goroutinesCreated is the process's count of goroutines created so far.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// goroutines returns how many goroutines and statements one request of q
// took beyond one that runs no resolver (the HTTP server's and the
// authentication's), the fewest goroutines of three tries. The graph tests
// do not run in parallel, so what the process starts meanwhile is the
// request's.
func goroutines(t *testing.T, s *apptest.Server, q string, vars map[string]any) (started uint64, statements int64) {
	t.Helper()
	fewest := func(q string, vars map[string]any) (uint64, int64) {
		var least uint64
		var stmts int64
		for i := range 3 {
			before := goroutinesCreated()
			r := query(t, s, admin, q, vars)
			n := goroutinesCreated() - before
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %+v", q, r.Errors)
			}
			if i == 0 || n < least {
				least, stmts = n, r.Statements
			}
		}
		return least, stmts
	}
	base, baseStmts := fewest(`{ __typename }`, nil)
	n, stmts := fewest(q, vars)
	return n - min(n, base), stmts - baseStmts
}

// Eager-loaded fields resolve without goroutines (graph/executor): neither
// the recursive account ↔ contact query nor the lead screen selects a
// hand-written resolver (createdBy is an ent edge, eager-loaded like
// contact or stage), so both run on the request's goroutine whatever their
// size. gqlgen's default started one per edge field and per list element:
// hundreds here; while createdBy was a dataloader field, the lead screen
// kept one per lead.
func TestEagerLoadedFieldsResolveWithoutGoroutines(t *testing.T) {
	const recursive = `query($n: Int) { accounts(first: $n) { edges { node {
		name contacts { firstName accounts { name contacts { lastName accounts { name } } } }
	} } } }`
	const leads = `query($n: Int) { leads(first: $n) { edges { node {
		subject contact { firstName } account { name } stage { name }
		assignees { displayName } createdBy { displayName }
	} } } }`
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// A budget above the default, as in the statement test.
		s := start(t, db, graph.Config{Limits: graph.Limits{MaxComplexity: 2_000_000}})
		// The drivers start goroutines of their own per statement (to
		// cancel it with its context) and a loader one per batch: up to two
		// per statement are allowed for.
		n, stmts := goroutines(t, s, recursive, map[string]any{"n": 20})
		t.Logf("recursive query (20 accounts): %d goroutines, %d statements", n, stmts)
		if n > uint64(2*stmts) {
			t.Errorf("the recursive query started %d goroutines for %d statements, want none of the executor's", n, stmts)
		}
		const page = 20
		n, stmts = goroutines(t, s, leads, map[string]any{"n": page})
		t.Logf("lead screen (%d leads): %d goroutines, %d statements", page, n, stmts)
		if n > uint64(2*stmts) {
			t.Errorf("the lead screen of %d leads started %d goroutines for %d statements, want none of the executor's", page, n, stmts)
		}
	})
}
