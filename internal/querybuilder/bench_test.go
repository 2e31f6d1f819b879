package querybuilder_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// benchLeads is the size of the benchmark tenant.
const benchLeads = 100_000

// benchQueries are typical front-end filters over leads.
var benchQueries = []struct{ name, query string }{
	{"stage by name", `{"rules":[{"field":"stage","operator":"=","value":"Negotiation"}]}`},
	{"stage by id", `{"rules":[{"field":"stage","operator":"=","value":"$stage"}]}`},
	{"due date in a week", `{"rules":[{"field":"dueDate","operator":"between","value":["2026-11-02","2026-11-09"]}]}`},
	{"contact last name", `{"rules":[{"field":"contact.lastName","operator":"=","value":"kowalski"}]}`},
	{"custom number", `{"rules":[{"field":"custom.budget","operator":">","value":58000}]}`},
	{"assignee", `{"rules":[{"field":"assignees","operator":"=","value":"manager@$domain"}]}`},
	{"subject contains", `{"rules":[{"field":"subject","operator":"contains","value":"model 3 for 4"}]}`},
	{"combined", `{"combinator":"and","rules":[{"field":"stage","operator":"in","value":"New,Contacted"},{"field":"status.kind","operator":"=","value":"OPEN"},{"combinator":"or","rules":[{"field":"custom.budget","operator":">=","value":50000},{"field":"priority","operator":"=","value":3}]}]}`},
}

// BenchmarkFilter100kLeads filters a tenant of 100,000 leads (plus 6,000
// contacts and 33,000 custom values) on each database: a count and a page
// of 25 with what the REST response embeds, as the filter route runs them.
// Seeding takes about a minute per database; run it with
//
//	go test ./internal/querybuilder -run '^$' -bench Filter100k -benchtime 20x
//
// Each query's plan is logged (-v), to check which indexes it uses.
func BenchmarkFilter100kLeads(b *testing.B) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		b.Run(d, func(b *testing.B) {
			db, ctx, vars := benchDB(b, d)
			for _, q := range benchQueries {
				query := vars.Replace(q.query)
				b.Run(q.name, func(b *testing.B) {
					var total int
					for b.Loop() {
						r, err := crm.NewService(db.Client).Filter(ctx, "lead", json.RawMessage(query), querybuilder.Page{Limit: 25})
						if err != nil {
							b.Fatal(err)
						}
						total = r.Total
					}
					b.ReportMetric(float64(total), "matches")
					b.Logf("%s: %d matches; plan:\n%s", q.name, total, explain(b, db.SQL, db, ctx, query))
				})
			}
		})
	}
}

// benchDB seeds a database of dialect d and returns it with the benchmark
// tenant's admin as viewer and the values of the queries' $variables.
func benchDB(b *testing.B, d string) (*store.DB, context.Context, *strings.Replacer) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.URL(b, d))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tn := seed.Tenant{Name: "Bench", Domain: "bench.test"}
	sizes := seed.Sizes{Accounts: 2000, ContactsPerAccount: 3, Leads: benchLeads, Tasks: 1000}
	if err := seed.Fill(ctx, db.Client, []seed.Tenant{tn, {Name: "Other", Domain: "other.test"}}, sizes, io.Discard); err != nil {
		b.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: seeded 2 tenants of %d leads in %s", d, benchLeads, time.Since(start).Round(time.Second))
	v := &viewer.Viewer{UserID: storetest.UserID(b, db, "admin@"+tn.Domain), TenantID: storetest.TenantID(b, db, tn.Domain), Type: viewer.TypeAdmin}
	ctx = viewer.NewContext(ctx, v)
	stage, err := db.ConnectionStage.Query().Where(connectionstage.Name("Negotiation")).OnlyID(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return db, ctx, strings.NewReplacer("$domain", tn.Domain, "$stage", stage.String())
}
