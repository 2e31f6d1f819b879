package graph_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/conecrm/gateway/ent"
	entuser "github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// statement is one recorded query with its arguments.
type statement struct {
	query string
	args  []any
}

// capturing records the queries sent through a driver, arguments included
// (so they can be explained).
type capturing struct {
	dialect.Driver
	mu    sync.Mutex
	stmts []statement
}

func (c *capturing) Query(ctx context.Context, q string, args, v any) error {
	c.mu.Lock()
	a, _ := args.([]any)
	c.stmts = append(c.stmts, statement{q, a})
	c.mu.Unlock()
	return c.Driver.Query(ctx, q, args, v)
}

// planSizes is a bench-shaped data set small enough to seed in a few
// seconds: without planner statistics SQLite already plans the nested
// lists over it with full scans.
var planSizes = seed.Sizes{Accounts: 3000, ContactsPerAccount: 3, Leads: 300, Tasks: 100}

// The recursive account ↔ contact query over bench-shaped, freshly seeded
// data (seeding ends with ANALYZE) is planned on indexes — each nested
// level reads only the rows its parents name — and answers within a bound,
// on both databases.
func TestRecursiveQueryPlanUsesIndexesOnSeededData(t *testing.T) {
	const q = `{ accounts(first: 50) { edges { node {
		name contacts { firstName accounts { name contacts { lastName accounts { name } } } }
	} } } }`
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.URL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := seed.Bench(ctx, db.Client, 1, planSizes, io.Discard); err != nil {
				t.Fatal(err)
			}
			if err := db.Analyze(ctx); err != nil {
				t.Fatal(err)
			}
			email := db.User.Query().Where(entuser.EmailHasPrefix("admin@")).OnlyX(tenancy.Bypass(ctx)).Email
			rec := &capturing{Driver: entsql.OpenDB(db.Dialect, db.SQL)}
			// A budget above the default (50 k): first: 50 costs ~560 k.
			client := ent.NewClient(ent.Driver(rec))
			s := start(t, db, graph.Config{Client: client, CRM: crm.NewService(client), Limits: graph.Limits{MaxComplexity: 2_000_000}})
			query(t, s, email, q, nil).into(t, &struct{}{}) // warm up: connections, caches
			rec.mu.Lock()
			rec.stmts = nil
			rec.mu.Unlock()

			began := time.Now()
			var data struct {
				Accounts struct{ Edges []any }
			}
			query(t, s, email, q, nil).into(t, &data)
			took := time.Since(began)
			t.Logf("recursive query: %s", took)
			if len(data.Accounts.Edges) != 50 {
				t.Fatalf("%d accounts", len(data.Accounts.Edges))
			}
			// 4–10 s without statistics on SQLite; 30–300 ms with them. The
			// bound leaves room for a slow, shared CI machine.
			if took > 3*time.Second {
				t.Errorf("recursive query took %s", took)
			}
			if len(rec.stmts) != 5 {
				t.Errorf("%d statements, want 5", len(rec.stmts))
			}
			// The first statement pages the tenant's accounts; every other
			// one reads the relations of the rows above it.
			for _, st := range rec.stmts[1:] {
				plan := storetest.Explain(t, db, st.query, st.args...)
				for _, line := range plan {
					if readsWholeTenant(d, st.query, line) {
						t.Errorf("whole-tenant read in the plan of\n%s\n%s", st.query, storetest.PlanString(plan))
						break
					}
				}
			}
		})
	}
}

// big are the tables of the recursive query that grow with the data.
var big = []string{"accounts", "contacts", "account_contacts"}

// readsWholeTenant reports whether a plan line of a nested level's
// statement reads a big table beyond the rows its parents name: on
// PostgreSQL a sequential scan, on SQLite a scan without an index, or a
// search of accounts or contacts by anything but their id — what SQLite
// does without statistics: it walks every row of the tenant through the
// (tenant_id, name) index and probes the join table for each, seconds
// instead of milliseconds. Plans name tables by their alias (t1 for the
// join table).
func readsWholeTenant(d, query string, line storetest.PlanLine) bool {
	if d != dialect.SQLite {
		for _, tbl := range big {
			if strings.Contains(line.Detail+" ", "Seq Scan on "+tbl+" ") {
				return true
			}
		}
		return false
	}
	if name, ok := strings.CutPrefix(line.Detail, "SCAN "); ok && !strings.Contains(name, " ") && !strings.HasPrefix(name, "(") {
		// Per-parent capped lists read their window-numbered rows from a
		// subquery named like the table (a CTE, or for a many-to-many
		// list a subquery in FROM): that top-level scan reads the
		// subquery, not the table.
		return line.Parent != 0 || !strings.Contains(query, "FROM `limited_query` AS `"+name+"`") &&
			!strings.Contains(query, ") AS `"+name+"` WHERE `"+name+"`.`row_number` <= ?")
	}
	for _, tbl := range []string{"accounts", "contacts"} {
		if strings.HasPrefix(line.Detail, "SEARCH "+tbl+" ") && !strings.Contains(line.Detail, "(id=?)") {
			return true
		}
	}
	return false
}
