package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// introspected is the part of the schema the read-policy matrix needs.
type introspected struct {
	Schema struct {
		Types []struct {
			Name          string
			Kind          string
			PossibleTypes []struct{ Name string }
			Fields        []struct {
				Name string
				Args []struct {
					Name string
					Type typeRef
				}
				Type typeRef
			}
		}
	} `json:"__schema"`
}

type typeRef struct {
	Kind   string
	Name   string
	OfType *typeRef
}

func (t typeRef) named() string {
	if t.OfType != nil {
		return t.OfType.named()
	}
	return t.Name
}

const introspection = `{ __schema { types { name kind possibleTypes { name }
  fields { name args { name type { kind name ofType { kind name } } }
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

// The read-policy matrix, derived from the schema by introspection: for
// every object type T and every field of T returning records of a type U
// (an edge, a connection, a loader field, an interface field) whose read
// permission differs from T's, a viewer holding every permission but U's
// reads a T through node(id) (or its root list when T is not a Node) and
// gets that field null, a FORBIDDEN error at its path, no row of U, no SQL
// for it (no statement of its own, no join of U into T's), and the rest of
// T intact. A new edge or a new
// entity is covered without editing this test.
func TestGraphQLReadPolicyMatrix(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		f.rowOfEveryType()
		// The routes' statements are recorded: an edge is read either by a
		// statement of its own or by a join of its parent's.
		rec := &sqlLog{}
		client := ent.NewClient(ent.Driver(dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), rec.log)))
		g := &gateway{Server: authtest.Start(t, db, auth.Config{Secret: authtest.Secret},
			app.Routes(client, crm.NewService(client), app.Transports{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})), t: t}
		res, out := g.graphql(f.admin, introspection, nil)
		if res.Status != http.StatusOK || len(out.Errors) > 0 {
			t.Fatalf("introspection: %d %s", res.Status, res.Body)
		}
		var schema introspected
		if err := json.Unmarshal(res.Body, &struct {
			Data *introspected `json:"data"`
		}{&schema}); err != nil {
			t.Fatal(err)
		}
		possible := map[string][]string{}
		for _, typ := range schema.Schema.Types {
			for _, p := range typ.PossibleTypes {
				possible[typ.Name] = append(possible[typ.Name], p.Name)
			}
		}
		// readOf is the read permission of the records a field of named
		// type returns ("" when it returns none, or several permissions).
		readOf := func(named string) (string, *registry.Entity) {
			if e := registry.ByGraphQLType(strings.TrimSuffix(named, "Connection")); e != nil {
				return e.Read, e
			}
			if ps := possible[named]; len(ps) > 0 && named != "Node" {
				var perm string
				for _, p := range ps {
					e := registry.ByGraphQLType(p)
					if e == nil || perm != "" && e.Read != perm {
						return "", nil
					}
					perm = e.Read
				}
				return perm, registry.ByGraphQLType(ps[0])
			}
			return "", nil
		}
		// rootOf is a root query field listing T (no required argument), for
		// the types that are not Nodes.
		rootOf := func(typ string) string {
			for _, q := range schema.Schema.Types {
				if q.Name != "Query" {
					continue
				}
				for _, fld := range q.Fields {
					if fld.Type.named() == typ && !slices.ContainsFunc(fld.Args, func(a struct {
						Name string
						Type typeRef
					}) bool {
						return a.Type.Kind == "NON_NULL"
					}) {
						return fld.Name
					}
				}
			}
			return ""
		}
		var all []string
		for _, p := range crm.Catalogue {
			all = append(all, p.Name)
		}
		without := map[string]actor{}
		covered, controlled := 0, 0
		for _, typ := range schema.Schema.Types {
			tEnt := registry.ByGraphQLType(typ.Name)
			if typ.Kind != "OBJECT" || tEnt == nil || tEnt.Read == "" {
				continue
			}
			id := anyRow(t, db, tEnt.Table, f.id)
			// T is read through node(id), or through its root list when it
			// is not a Node.
			root := ""
			if !slices.Contains(possible["Node"], typ.Name) {
				if root = rootOf(typ.Name); root == "" {
					t.Errorf("%s is neither a Node nor listed by a root query field: the matrix cannot read it", typ.Name)
					continue
				}
			}
			for _, fld := range typ.Fields {
				uPerm, uEnt := readOf(fld.Type.named())
				if uEnt == nil || uPerm == "" || uPerm == tEnt.Read || uPerm == tEnt.AlsoRead || uEnt.AlsoRead != "" {
					continue
				}
				if slices.ContainsFunc(fld.Args, func(a struct {
					Name string
					Type typeRef
				}) bool {
					return a.Type.Kind == "NON_NULL"
				}) {
					t.Errorf("%s.%s has a required argument: the matrix cannot query it", typ.Name, fld.Name)
					continue
				}
				if id == uuid.Nil {
					t.Errorf("no %s row in the demo tenant to read %s.%s from: add one to rowOfEveryType", typ.Name, typ.Name, fld.Name)
					continue
				}
				t.Run(typ.Name+"."+fld.Name, func(t *testing.T) {
					a, ok := without[uPerm]
					if !ok {
						a = f.roleUser("without-"+strings.ReplaceAll(uPerm, ".", "-"),
							slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == uPerm }))
						without[uPerm] = a
					}
					sel := "{ id }"
					if strings.HasSuffix(fld.Type.named(), "Connection") {
						sel = "{ totalCount edges { node { id } } }"
					}
					q := fmt.Sprintf(`query($id: ID!) { node(id: $id) { id ... on %s { %s %s } } }`, typ.Name, fld.Name, sel)
					alone := `query($id: ID!) { node(id: $id) { id } }`
					vars := map[string]any{"id": id}
					if root != "" {
						q, alone, vars = fmt.Sprintf(`{ %s { id %s %s } }`, root, fld.Name, sel), fmt.Sprintf(`{ %s { id } }`, root), nil
					}
					// pick finds the T read in a response and its path.
					pick := func(out gqlResponse) (map[string]json.RawMessage, []any) {
						if root == "" {
							var node map[string]json.RawMessage
							_ = json.Unmarshal(out.Data["node"], &node)
							return node, []any{"node"}
						}
						var rows []map[string]json.RawMessage
						_ = json.Unmarshal(out.Data[root], &rows)
						for i, r := range rows {
							if string(r["id"]) == `"`+id.String()+`"` {
								return r, []any{root, float64(i)}
							}
						}
						return nil, nil
					}
					// No SQL for the forbidden edge: the request costs what
					// reading the node alone costs, and joins no U. The same
					// query by the admin, who may read U, shows the log sees
					// the edge (a statement more, or U joined).
					cost := func(a actor, q string) (int, bool, *apptest.Response, gqlResponse) {
						rec.take()
						res, out := g.graphql(a, q, vars)
						stmts := rec.take()
						return len(stmts), joinsTable(stmts, uEnt.Table), res, out
					}
					cost(a, alone) // warm: the actor's first request
					base, _, _, _ := cost(a, alone)
					n, joined, res, out := cost(a, q)
					if n != base || joined {
						t.Errorf("without %s: %d statements (U joined: %v), the node alone %d: SQL ran for the forbidden %s.%s", uPerm, n, joined, base, typ.Name, fld.Name)
					}
					cost(f.admin, alone) // warm, as for a
					adminBase, _, _, _ := cost(f.admin, alone)
					adminN, adminJoined, _, adminOut := cost(f.admin, q)
					adminNode, _ := pick(adminOut)
					if v := string(adminNode[fld.Name]); v != "" && v != "null" && (adminN > adminBase || adminJoined) {
						controlled++
					} else if v != "" && v != "null" {
						t.Errorf("the admin read %s.%s = %s with %d statements, the node alone %d, U not joined: the log misses edges", typ.Name, fld.Name, v, adminN, adminBase)
					}
					node, at := pick(out)
					if res.Status != http.StatusOK || node == nil {
						t.Fatalf("without %s: %d %s; want the %s itself", uPerm, res.Status, res.Body, typ.Name)
					}
					if string(node["id"]) != `"`+id.String()+`"` {
						t.Errorf("without %s: node %s; want %s", uPerm, node["id"], id)
					}
					if v := string(node[fld.Name]); v != "null" {
						t.Errorf("without %s: %s.%s = %s; want null", uPerm, typ.Name, fld.Name, v)
					}
					found := false
					for _, e := range out.Errors {
						if e.Extensions["code"] == "FORBIDDEN" && fmt.Sprint(e.Path) == fmt.Sprint(append(at, fld.Name)) {
							found = true
						}
					}
					if !found {
						t.Errorf("without %s: %s; want FORBIDDEN at %v", uPerm, res.Body, append(at, fld.Name))
					}
				})
				covered++
			}
		}
		if covered < 20 {
			t.Errorf("only %d fields covered: the introspection found too few edges", covered)
		}
		// Audit users the seed never set (createdBy of seeded rows,
		// deletedBy) are null without any SQL; the others prove the counter.
		t.Logf("%d fields covered, %d of them with a value whose SQL the admin's read shows", covered, controlled)
		if controlled < 20 {
			t.Errorf("only %d of %d fields had a value for the admin: the statement check proves little", controlled, covered)
		}
	})
}

// sqlLog keeps the SQL text of the statements sent through a client.
type sqlLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *sqlLog) log(_ context.Context, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stmts = append(l.stmts, fmt.Sprint(v...))
}

// take returns the statements logged since the last take.
func (l *sqlLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stmts
	l.stmts = nil
	return out
}

// joinsTable reports whether a statement reads table by a join of its
// parent's statement (ent/template/join.tmpl: LEFT JOIN <table> AS j…).
func joinsTable(stmts []string, table string) bool {
	for _, s := range stmts {
		if strings.Contains(s, "LEFT JOIN `"+table+"` AS") || strings.Contains(s, `LEFT JOIN "`+table+`" AS`) {
			return true
		}
	}
	return false
}

// anyRow returns the id of a live row of table in tenant, or uuid.Nil.
func anyRow(t *testing.T, db *store.DB, table string, tenant uuid.UUID) uuid.UUID {
	t.Helper()
	q, args := "SELECT id FROM "+table+" WHERE tenant_id = $1 AND is_deleted = false ORDER BY id LIMIT 1", []any{tenant}
	switch table {
	case "tenants":
		q = "SELECT id FROM tenants WHERE id = $1"
	case "permissions": // global
		q, args = "SELECT id FROM permissions ORDER BY id LIMIT 1", nil
	}
	rows, err := db.SQL.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var id uuid.UUID
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// rowOfEveryType adds to the tenant one row of each type the demo data set
// has none of (the seed writes no lead products, packages, third-party ids…),
// so that the matrix reads every type.
func (f *tenantFixture) rowOfEveryType() {
	f.t.Helper()
	product := anyRow(f.t, f.db, "products", f.id)
	automation := anyRow(f.t, f.db, "automations", f.id)
	if product == uuid.Nil || automation == uuid.Nil {
		f.t.Fatal("the demo tenant has no product or no automation")
	}
	db, ctx := f.db, f.sys
	f.must(db.LeadProduct.Create().SetTenantID(f.id).SetProductID(product).SetLeadID(f.lead).Exec(ctx))
	pkg, err := db.LeadPackage.Create().SetTenantID(f.id).SetName(f.name("Probe package")).SetLeadID(f.lead).Save(ctx)
	f.must(err)
	f.must(db.PackagePrice.Create().SetTenantID(f.id).SetPackageID(pkg.ID).SetType("MSRP").Exec(ctx))
	f.must(db.Incentive.Create().SetTenantID(f.id).SetName(f.name("Probe incentive")).SetLeadID(f.lead).Exec(ctx))
	f.must(db.Survey.Create().SetTenantID(f.id).SetName(f.name("Probe survey")).SetLeadID(f.lead).Exec(ctx))
	f.must(db.CreditAssessment.Create().SetTenantID(f.id).SetProvider("probe").SetLeadID(f.lead).Exec(ctx))
	f.must(db.ConnectionThirdPartyID.Create().SetTenantID(f.id).SetSystemName("dms").SetThirdPartyID("C-1").
		SetConnectionID(f.lead).Exec(ctx))
	f.must(db.CustomerThirdPartyID.Create().SetTenantID(f.id).SetSystemName("dms").SetThirdPartyID("K-1").
		SetContactID(f.contact).Exec(ctx))
	f.must(db.ProductThirdPartyID.Create().SetTenantID(f.id).SetSystemName("dms").SetThirdPartyID("P-1").
		SetProductID(product).Exec(ctx))
	role := anyRow(f.t, f.db, "roles", f.id)
	f.must(db.APIKey.Create().SetTenantID(f.id).SetName(f.name("Probe key")).SetPrefix("ck_probe").
		SetSecretHash(uuid.NewString()).SetUserID(f.user.id).SetRoleID(role).Exec(ctx))
	run, err := db.AutomationRun.Create().SetTenantID(f.id).SetAutomationID(automation).SetEventID(uuid.New()).
		SetTopic("lead.created").SetRecordID(f.lead).SetLeadID(f.lead).SetStatus("DONE").Save(ctx)
	f.must(err)
	// A step and a message reference no other readable type: the matrix
	// reads their audit users.
	f.must(db.AutomationRunStep.Create().SetTenantID(f.id).SetRunID(run.ID).SetPosition(0).SetNodeID("n1").
		SetNodeType("action").SetStatus("DONE").SetCreatedByID(f.user.id).Exec(ctx))
	f.must(db.OutboundMessage.Create().SetTenantID(f.id).SetChannel("EMAIL").SetRecipient("probe@example.com").
		SetStatus("MAILBOX").SetRunID(run.ID).SetCreatedByID(f.user.id).Exec(ctx))
	hook := f.newWebhook()
	f.must(db.WebhookAttempt.Create().SetTenantID(f.id).SetEndpointID(hook).SetEventID(uuid.New()).SetTopic("lead.created").
		SetAttempt(1).SetSucceeded(true).SetStatusCode(200).SetDurationMs(3).Exec(ctx))
	f.newNote(f.user)
}
