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
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
)

// EnvFlag enables the bench routes.
const EnvFlag = "CONECRM_BENCH"

// Handler serves the floor endpoints and the statement counter:
//
//	GET /bench/floor/node?id=…   ≙ { node(id:) { id ... on Account { name city } } }
//	GET /bench/floor/leads       ≙ the lead screen (LeadScreenQuery)
//	GET /bench/floor/recursive   ≙ accounts(first: 50) → contacts → accounts → contacts → accounts
//	GET /bench/floor/accounts    ≙ GET /api/account (first page, embeds included)
//	GET /bench/stats             {"statements": N, "viewerReads": N, "viewerMoves": N,
//	                             "viewerTenantMoves": N}: the gateway's statements, viewers
//	                             read (cache misses), moves of every tenant's viewer
//	                             generation and of one tenant's so far
//	GET /bench/pprof/profile     a CPU profile (net/http/pprof, ?seconds=N)
//	GET /bench/pprof/heap        a heap profile (net/http/pprof; ?gc=1 collects first)
//	GET /bench/pprof/trace       an execution trace (net/http/pprof, ?seconds=N; go tool trace)
func Handler(v *auth.Verifier, db *store.DB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bench/pprof/profile", pprof.Profile)
	mux.Handle("GET /bench/pprof/heap", pprof.Handler("heap"))
	mux.HandleFunc("GET /bench/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /bench/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]int64{"statements": db.Counter.Total(), "viewerReads": crm.ViewerReads(),
			"viewerMoves": int64(db.AuthWatch().Moves()), "viewerTenantMoves": int64(db.AuthWatch().TenantMoves())})
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
	accounts := accountsSQL(db.Dialect)
	mux.HandleFunc("GET /bench/floor/accounts", withClaims(v, func(w http.ResponseWriter, r *http.Request, c auth.Claims) {
		var total int
		var list []byte
		if err := db.SQL.QueryRowContext(r.Context(), accounts, c.TenantID).Scan(&total, &list); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{"total": total, "accounts": json.RawMessage(list)})
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
	// SQLite: the page walks the primary key and stops after 50 rows; with
	// the tenant's (tenant_id, name, id) index on offer it read and sorted
	// every id of the tenant (a one-tenant database: statistics without
	// samples), doubling the floor's time. Unary + keeps the tenant term
	// off the indexes.
	tenant := "tenant_id"
	if d == dialect.SQLite {
		tenant = "+tenant_id"
	}
	return fmt.Sprintf(`SELECT %s FROM accounts a1 WHERE a1.id IN (
  SELECT id FROM accounts WHERE %s = $1 AND NOT is_deleted ORDER BY id LIMIT 50)`, fmt.Sprintf(agg, node, "a1.id"), tenant)
}

// accountsSQL answers GET /api/account (the first page, 25 accounts by
// name, and the total) in one statement: each account with its
// third-party ids, its primary contact and its contacts (at most 10 by
// id), each of those contacts with its third-party ids and accounts (at
// most 10 by id), which end the nesting with a {"id"} primary contact and
// no contacts (internal/rest's customer nesting). The bench data has no
// third-party ids; they are read all the same, dates as stored.
func accountsSQL(d string) string {
	obj, agg, sub, boolean := "json_build_object", "coalesce(json_agg(%s ORDER BY %s), '[]')", "(%s)", "%s"
	if d == dialect.SQLite {
		obj, agg, sub, boolean = "json_object", "json_group_array(%s ORDER BY %s)", "json((%s))",
			"json(CASE WHEN %s THEN 'true' ELSE 'false' END)"
	}
	ref := func(col string) string {
		return "CASE WHEN " + col + " IS NULL THEN NULL ELSE " + fmt.Sprintf(sub, "SELECT "+obj+"('id', "+col+")") + " END"
	}
	// base is BaseCustomer's fields of the row alias; fk the third-party
	// ids' column naming that kind of customer.
	base := func(t, fk string) string {
		x := t + "t"
		tp := obj + "('id', " + x + ".id, 'dateCreated', " + x + ".date_created, 'createdBy', " + ref(x+".created_by_id") +
			", 'dateModified', " + x + ".date_modified, 'modifiedBy', " + ref(x+".modified_by_id") +
			", 'isDeleted', " + fmt.Sprintf(boolean, x+".is_deleted") + ", 'dateDeleted', " + x + ".date_deleted" +
			", 'deletedBy', " + ref(x+".deleted_by_id") + ", 'dtype', " + x + ".dtype, 'customer', " + ref(x+"."+fk) +
			", 'systemName', " + x + ".system_name, 'thirdPartyId', " + x + ".third_party_id, 'metadata', " + x + ".metadata" +
			", 'tenant', " + fmt.Sprintf(sub, "SELECT "+obj+"('id', "+x+".tenant_id)") + ")"
		ids := fmt.Sprintf(sub, "SELECT "+fmt.Sprintf(agg, tp, x+".id")+" FROM customer_third_party_ids "+x+
			" WHERE "+x+"."+fk+" = "+t+".id AND NOT "+x+".is_deleted")
		f := "'id', " + t + ".id"
		for _, c := range [][2]string{{"primaryEmail", "primary_email"}, {"secondaryEmail", "secondary_email"},
			{"homePhone", "home_phone"}, {"workPhone", "work_phone"}, {"workPhoneExtension", "work_phone_extension"},
			{"mobilePhone", "mobile_phone"}, {"address", "address"}, {"city", "city"}, {"province", "province"},
			{"postalCode", "postal_code"}, {"country", "country"}, {"language", "language"}} {
			f += ", '" + c[0] + "', " + t + "." + c[1]
		}
		return f + ", 'isActive', " + fmt.Sprintf(boolean, t+".is_active") + ", 'thirdPartyIds', " + ids
	}
	// list is the JSON array of row(alias) over table's rows linked to
	// parent through account_contacts, at most 10 by id.
	list := func(alias, table, mine, theirs, parent, row string) string {
		return fmt.Sprintf(sub, fmt.Sprintf(`SELECT %s FROM %s %s WHERE %s.id IN (
  SELECT x.%s FROM account_contacts x JOIN %s y ON y.id = x.%s
  WHERE x.%s = %s.id AND y.tenant_id = $1 AND NOT y.is_deleted ORDER BY x.%s LIMIT 10)`,
			fmt.Sprintf(agg, row, alias+".id"), table, alias, alias, mine, table, mine, theirs, parent, mine))
	}
	account2 := obj + "(" + base("a2", "account_id") + ", 'name', a2.name, 'primaryContact', " + ref("a2.primary_contact_id") + ", 'contacts', " +
		fmt.Sprintf(sub, "SELECT "+fmt.Sprintf(agg, "1", "1")+" WHERE false") + ")"
	contact := func(c string) string {
		return obj + "(" + base(c, "contact_id") + ", 'firstName', " + c + ".first_name, 'lastName', " + c + ".last_name" +
			", 'companyName', " + c + ".company_name, 'civility', " + c + ".civility" +
			", 'preferredMethodOfContact', " + c + ".preferred_method_of_contact" +
			", 'accounts', " + list("a2", "accounts", "account_id", "contact_id", c, account2) + ")"
	}
	primary := fmt.Sprintf(sub, "SELECT "+contact("p1")+" FROM contacts p1 WHERE p1.id = a1.primary_contact_id AND p1.tenant_id = $1 AND NOT p1.is_deleted")
	account := obj + "(" + base("a1", "account_id") + ", 'name', a1.name, 'primaryContact', " + primary +
		", 'contacts', " + list("c1", "contacts", "contact_id", "account_id", "a1", contact("c1")) + ")"
	return fmt.Sprintf(`SELECT (SELECT count(*) FROM accounts WHERE tenant_id = $1 AND NOT is_deleted), %s
FROM accounts a1 WHERE a1.id IN (
  SELECT id FROM accounts WHERE tenant_id = $1 AND NOT is_deleted ORDER BY name, id LIMIT 25)`,
		fmt.Sprintf(agg, account, "a1.name, a1.id"))
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
