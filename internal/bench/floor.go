// Package bench holds what the benchmark harness (`make bench`,
// internal/bench/run) measures the gateway against: the floor, minimal
// hand-written endpoints in the same binary that verify the JWT and answer
// the same JSON as a GraphQL query from one hand-written SQL statement
// through the same driver and pool. They are mounted only when the server
// runs with CONECRM_BENCH=1, never in normal operation.
package bench

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/store"
)

// EnvFlag enables the bench routes.
const EnvFlag = "CONECRM_BENCH"

// Handler serves the floor endpoints and the statement counter:
//
//	GET /bench/floor/node?id=…   ≙ { node(id:) { id ... on Account { name city } } }
//	GET /bench/floor/leads       ≙ the lead screen (LeadScreenQuery)
//	GET /bench/floor/recursive   ≙ accounts(first: 50) → contacts → accounts → contacts → accounts
//	GET /bench/stats             {"statements": N}, the gateway's total so far
//	GET /bench/pprof/profile     a CPU profile (net/http/pprof, ?seconds=N)
//	GET /bench/pprof/heap        a heap profile (net/http/pprof; ?gc=1 collects first)
func Handler(v *auth.Verifier, db *store.DB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bench/pprof/profile", pprof.Profile)
	mux.Handle("GET /bench/pprof/heap", pprof.Handler("heap"))
	mux.HandleFunc("GET /bench/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]int64{"statements": db.Counter.Total()})
	})
	agg := "json_agg(u.display_name ORDER BY u.id)"
	if db.Dialect == dialect.SQLite {
		agg = "json_group_array(display_name) FROM (SELECT u.display_name"
	}
	leadsSQL := `SELECT l.id, l.subject, c.first_name, c.last_name, a.name, s.name, cb.display_name,
  (SELECT ` + agg + ` FROM lead_assignees la JOIN users u ON u.id = la.user_id
    WHERE la.lead_id = l.id AND NOT u.is_deleted` + sqliteClose(db.Dialect) + `)
FROM leads l
LEFT JOIN contacts c ON c.id = l.contact_id AND NOT c.is_deleted
LEFT JOIN accounts a ON a.id = l.account_id AND NOT a.is_deleted
LEFT JOIN connection_stages s ON s.id = l.stage_id AND NOT s.is_deleted
LEFT JOIN users cb ON cb.id = l.created_by_id AND NOT cb.is_deleted
WHERE l.tenant_id = $1 AND NOT l.is_deleted ORDER BY l.id LIMIT 50`
	recursive := recursiveSQL(db.Dialect)
	mux.HandleFunc("GET /bench/floor/recursive", withClaims(v, func(w http.ResponseWriter, r *http.Request, c auth.Claims) {
		var edges []byte
		if err := db.SQL.QueryRowContext(r.Context(), recursive, c.TenantID).Scan(&edges); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{"data": map[string]any{"accounts": map[string]any{"edges": json.RawMessage(edges)}}})
	}))
	mux.HandleFunc("GET /bench/floor/node", withClaims(v, func(w http.ResponseWriter, r *http.Request, c auth.Claims) {
		var id, name string
		var city sql.NullString
		err := db.SQL.QueryRowContext(r.Context(),
			`SELECT id, name, city FROM accounts WHERE id = $1 AND tenant_id = $2 AND NOT is_deleted`,
			r.URL.Query().Get("id"), c.TenantID).Scan(&id, &name, &city)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{"data": map[string]any{"node": map[string]any{"id": id, "name": name, "city": nullable(city)}}})
	}))
	mux.HandleFunc("GET /bench/floor/leads", withClaims(v, func(w http.ResponseWriter, r *http.Request, c auth.Claims) {
		rows, err := db.SQL.QueryContext(r.Context(), leadsSQL, c.TenantID)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		type named struct {
			Name *string `json:"name"`
		}
		type display struct {
			DisplayName string `json:"displayName"`
		}
		type lead struct {
			ID        string    `json:"id"`
			Subject   string    `json:"subject"`
			Contact   any       `json:"contact"`
			Account   any       `json:"account"`
			Stage     any       `json:"stage"`
			Assignees []display `json:"assignees"`
			CreatedBy any       `json:"createdBy"`
		}
		var edges []map[string]any
		for rows.Next() {
			var l lead
			var first, last, account, stage, createdBy sql.NullString
			var assignees []byte
			if err := rows.Scan(&l.ID, &l.Subject, &first, &last, &account, &stage, &createdBy, &assignees); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if first.Valid || last.Valid {
				l.Contact = map[string]any{"firstName": nullable(first), "lastName": nullable(last)}
			}
			if account.Valid {
				l.Account = named{&account.String}
			}
			if stage.Valid {
				l.Stage = named{&stage.String}
			}
			if createdBy.Valid {
				l.CreatedBy = display{createdBy.String}
			}
			var names []*string
			_ = json.Unmarshal(assignees, &names)
			l.Assignees = []display{}
			for _, n := range names {
				if n != nil {
					l.Assignees = append(l.Assignees, display{*n})
				}
			}
			edges = append(edges, map[string]any{"node": l})
		}
		if err := rows.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{"data": map[string]any{"leads": map[string]any{"edges": edges}}})
	}))
	return mux
}

// recursiveSQL is the recursive shape in one statement: each level's rows
// (at most 10 per parent, the first by id, live and of the tenant, as the
// gateway caps plain lists) aggregated into JSON by correlated subqueries.
func recursiveSQL(d string) string {
	obj, agg, sub := "json_build_object", "coalesce(json_agg(%s ORDER BY %s), '[]')", "(%s)"
	if d == dialect.SQLite {
		obj, agg, sub = "json_object", "json_group_array(%s ORDER BY %s)", "json((%s))"
	}
	// list is the JSON array of table's rows linked to parent through
	// account_contacts (via the column mine, the parent's being theirs).
	list := func(alias, table, mine, theirs, parent, fields string) string {
		return fmt.Sprintf(sub, fmt.Sprintf(`SELECT %s FROM %s %s WHERE %s.id IN (
  SELECT x.%s FROM account_contacts x JOIN %s y ON y.id = x.%s
  WHERE x.%s = %s.id AND y.tenant_id = $1 AND NOT y.is_deleted ORDER BY x.%s LIMIT 10)`,
			fmt.Sprintf(agg, obj+"("+fields+")", alias+".id"), table, alias, alias, mine, table, mine, theirs, parent, mine))
	}
	a3 := list("a3", "accounts", "account_id", "contact_id", "c2", "'name', a3.name")
	c2 := list("c2", "contacts", "contact_id", "account_id", "a2", "'lastName', c2.last_name, 'accounts', "+a3)
	a2 := list("a2", "accounts", "account_id", "contact_id", "c1", "'name', a2.name, 'contacts', "+c2)
	c1 := list("c1", "contacts", "contact_id", "account_id", "a1", "'firstName', c1.first_name, 'accounts', "+a2)
	node := obj + "('node', " + obj + "('name', a1.name, 'contacts', " + c1 + "))"
	return fmt.Sprintf(`SELECT %s FROM accounts a1 WHERE a1.id IN (
  SELECT id FROM accounts WHERE tenant_id = $1 AND NOT is_deleted ORDER BY id LIMIT 50)`, fmt.Sprintf(agg, node, "a1.id"))
}

// sqliteClose ends the subquery SQLite needs to aggregate in order.
func sqliteClose(d string) string {
	if d == dialect.SQLite {
		return " ORDER BY u.id)"
	}
	return ""
}

// withClaims verifies the bearer token, as the gateway's middleware does
// before it loads the viewer.
func withClaims(v *auth.Verifier, h func(http.ResponseWriter, *http.Request, auth.Claims)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		c, err := v.Verify(r.Context(), raw)
		if !ok || err != nil || c.TenantID == uuid.Nil {
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		h(w, r, c)
	}
}

func nullable(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
