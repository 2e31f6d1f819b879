package graph_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/conecrm/gateway/ent"
	entuser "github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// leadScreen is the benchmark's lead screen (internal/bench/run).
const leadScreen = `query($n: Int) { leads(first: $n) { edges { node { id subject
	contact { firstName lastName } account { name } stage { name }
	assignees { displayName } createdBy { displayName } } } } }`

// The lead screen's to-one relations (contact, account, stage, createdBy)
// are joined into the leads' statement (ent/template/join.tmpl): the
// screen costs two statements beyond authentication — the leads with them,
// the assignees — whatever the page size; loaded separately, six.
func TestLeadScreenJoinsItsToOneRelations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		base := baseline(t, s, admin)
		for _, n := range []int{1, 10, 30} {
			r := query(t, s, admin, leadScreen, map[string]any{"n": n})
			var data struct {
				Leads struct {
					Edges []struct {
						Node struct{ Contact, Stage, CreatedBy *struct{} }
					}
				}
			}
			r.into(t, &data)
			if len(data.Leads.Edges) != n || data.Leads.Edges[0].Node.Contact == nil || data.Leads.Edges[0].Node.CreatedBy == nil {
				t.Fatalf("first: %d: %d leads: %s", n, len(data.Leads.Edges), r.Data)
			}
			if got := r.Statements - base; got != 2 {
				t.Errorf("first: %d cost %d statements beyond authentication, want 2 (leads with their to-one relations, assignees)", n, got)
			}
		}
		separate := startWithoutJoins(t, db)
		base = baseline(t, separate, admin)
		if got := query(t, separate, admin, leadScreen, map[string]any{"n": 30}).Statements - base; got != 6 {
			t.Errorf("without joins the lead screen cost %d statements beyond authentication, want 6", got)
		}
	})
}

// startWithoutJoins serves /graphql like start, loading every eager-loaded
// edge with a statement of its own (ent.WithoutJoins).
func startWithoutJoins(t *testing.T, db *store.DB) *apptest.Server {
	t.Helper()
	h := graph.NewHandler(graph.Config{Client: db.Client, CRM: crm.NewService(db.Client), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return apptest.Start(t, db, map[string]http.Handler{"/graphql": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(ent.WithoutJoins(r.Context())))
	})})
}

// joinedAlias is how a joined table is named in a statement (j<edge>_<table>).
var joinedAlias = regexp.MustCompile("LEFT JOIN [`\"](\\w+)[`\"] AS [`\"](j\\d+_\\w+)[`\"]")

// On bench-shaped, freshly seeded data the lead screen's statement reads
// each joined relation by its primary key, one row per lead, on both
// databases (no scan of a joined table, no search by anything but its id).
func TestLeadScreenJoinsUseThePrimaryKeys(t *testing.T) {
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
			if err := seed.Bench(ctx, db.Client, 1, seed.Sizes{Accounts: 1000, ContactsPerAccount: 3, Leads: 300, Tasks: 10}, io.Discard); err != nil {
				t.Fatal(err)
			}
			if err := db.Analyze(ctx); err != nil {
				t.Fatal(err)
			}
			email := db.User.Query().Where(entuser.EmailHasPrefix("admin@")).OnlyX(tenancy.Bypass(ctx)).Email
			rec := &capturing{Driver: entsql.OpenDB(db.Dialect, db.SQL)}
			client := ent.NewClient(ent.Driver(rec))
			s := start(t, db, graph.Config{Client: client, CRM: crm.NewService(client)})
			var data struct {
				Leads struct{ Edges []any }
			}
			query(t, s, email, leadScreen, map[string]any{"n": 50}).into(t, &data)
			if len(data.Leads.Edges) != 50 || len(rec.stmts) != 2 {
				t.Fatalf("%d leads in %d statements, want 50 in 2", len(data.Leads.Edges), len(rec.stmts))
			}
			st := rec.stmts[0]
			joins := joinedAlias.FindAllStringSubmatch(st.query, -1)
			if len(joins) != 4 {
				t.Fatalf("%d joins, want 4 (contact, account, stage, createdBy):\n%s", len(joins), st.query)
			}
			plan := storetest.Explain(t, db, st.query, st.args...)
			for _, j := range joins {
				table, alias := j[1], j[2]
				byKey := false
				for _, line := range plan {
					l := line.Detail
					if !strings.Contains(l+" ", " "+alias+" ") {
						continue
					}
					switch {
					case d == dialect.SQLite && strings.HasPrefix(l, "SEARCH "+alias+" ") && strings.Contains(l, "(id=?)"):
						byKey = true
					case d == dialect.SQLite && strings.HasPrefix(l, "BLOOM FILTER ON "+alias+" (id=?)"):
						// A filter in front of the same primary-key search.
					case d == dialect.Postgres && strings.Contains(l, "Index Scan using "+table+"_pkey on "+table+" "+alias):
						byKey = true
					default:
						t.Errorf("%s (%s) is not read by its primary key: %s", alias, table, l)
					}
				}
				if !byKey {
					t.Errorf("%s (%s) is not read by its primary key:\n%s", alias, table, storetest.PlanString(plan))
				}
			}
			if d == dialect.Postgres {
				// Each primary-key lookup is keyed by the lead's column (a
				// nested loop), not a whole index read for a hash join.
				if text := storetest.PlanString(plan); strings.Contains(text, "Hash") || strings.Contains(text, "Merge") {
					t.Errorf("the joins are not primary-key lookups per lead:\n%s", text)
				}
				// No Memoize in front of them: its cache is sized for every
				// lead, not the page, and built on each execution
				// (store.sessionSettings).
				if text := storetest.PlanString(plan); strings.Contains(text, "Memoize") {
					t.Errorf("the joins are memoized:\n%s", text)
				}
			}
		})
	}
}

// With the statement cache off (CONECRM_DB_STATEMENT_CACHE=0) the lead
// screen answers the same through HTTP, in the same statements, and
// nothing is prepared.
func TestLeadScreenWithoutTheStatementCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		off, err := store.OpenWith(context.Background(), storetest.DBURL(t, db), store.Options{StatementCache: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer off.Close()
		cached, unprepared := start(t, db, graph.Config{}), start(t, off, graph.Config{})
		baseOn, baseOff := baseline(t, cached, admin), baseline(t, unprepared, admin)
		prepared := db.Counter.Prepared()
		for range 2 {
			want := query(t, cached, admin, leadScreen, map[string]any{"n": 30})
			got := query(t, unprepared, admin, leadScreen, map[string]any{"n": 30})
			if len(want.Errors) > 0 || string(got.Data) != string(want.Data) || len(got.Errors) > 0 {
				t.Fatalf("without the statement cache: %s %+v\nwith it: %s %+v", got.Data, got.Errors, want.Data, want.Errors)
			}
			if got.Statements-baseOff != 2 || want.Statements-baseOn != 2 {
				t.Errorf("statements beyond authentication without the cache %d, with it %d, want 2", got.Statements-baseOff, want.Statements-baseOn)
			}
		}
		if n := off.Counter.Prepared(); n != 0 {
			t.Errorf("statement cache off: %d statements prepared", n)
		}
		if n := db.Counter.Prepared() - prepared; n > 2 {
			t.Errorf("the cached server prepared %d statements for two lead screens of one shape, want at most 2", n)
		}
	})
}
