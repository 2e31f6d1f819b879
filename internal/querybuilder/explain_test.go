package querybuilder_test

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// querier runs a statement: a *sql.DB, or one connection of it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

// explain returns the database's plan of the count a query runs, scoped as
// ent scopes it (tenant, live rows).
func explain(t testing.TB, q querier, db *store.DB, ctx context.Context, query string) string {
	t.Helper()
	p, err := crm.NewService(db.Client).FilterPredicate(ctx, "lead", json.RawMessage(query))
	if err != nil {
		t.Fatal(err)
	}
	s := sql.Dialect(db.Dialect).Select(sql.Count("*")).From(sql.Table("leads"))
	s.Where(sql.EQ(s.C("tenant_id"), viewer.FromContext(ctx).TenantID)).Where(sql.EQ(s.C("is_deleted"), false))
	p(s)
	text, args := s.Query()
	prefix := "EXPLAIN "
	if db.Dialect == dialect.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := q.QueryContext(ctx, prefix+text, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(plan, "\n")
}

// TestFiltersUseIndexes checks that the SQL of selective filters can be
// answered from an index of the filtered column: on SQLite as planned (after
// ANALYZE), on PostgreSQL with sequential scans disabled, since on a small
// table a scan is cheaper and would hide whether the predicate is sargable.
// BenchmarkFilter100kLeads measures them on 100,000 leads.
func TestFiltersUseIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		stage, err := db.ConnectionStage.Query().Where(connectionstage.Name("Negotiation")).OnlyID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		setup := []string{"ANALYZE"}
		if db.Dialect == dialect.Postgres {
			setup = append(setup, "SET enable_seqscan = off")
		}
		for _, stmt := range setup {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		// index is the index the plan must use; SQLite, planning by its
		// statistics of these 30 leads, may also reach a relation path through
		// the tenant index ("" below), but never scans the table.
		for _, c := range []struct{ name, query, index, sqliteIndex string }{
			{"a range of an indexed column", `{"rules":[{"field":"dueDate","operator":"between","value":["2026-11-02","2026-11-09"]}]}`,
				"lead_tenant_id_due_date", "lead_tenant_id_due_date"},
			{"a relation by id", fmt.Sprintf(`{"rules":[{"field":"stage","operator":"=","value":%q}]}`, stage),
				"lead_stage_id", "lead_stage_id"},
			{"a path of a relation", `{"rules":[{"field":"contact.lastName","operator":"=","value":"Smith"}]}`,
				"lead_contact_id", ""},
		} {
			plan := explain(t, conn, db, ctx, c.query)
			index := c.index
			if db.Dialect == dialect.SQLite {
				index = c.sqliteIndex
			}
			if !strings.Contains(plan, index) || strings.Contains(plan, "SCAN leads") || strings.Contains(plan, "Seq Scan on leads") {
				t.Errorf("%s: the plan does not use %q:\n%s", c.name, index, plan)
			}
		}
	})
}
