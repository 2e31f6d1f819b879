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
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/permission"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// This file is the fixture of the authentication, permission and tenant
// isolation tests of the real routes (server_auth_test.go,
// server_permission_test.go, server_isolation_test.go): the gateway as
// server.go wires it, over a seeded database, spoken to as real users.

// gateway is the whole server (New over Routes) on httptest.
type gateway struct {
	*authtest.Server
	t *testing.T
}

// startGateway serves Routes over db, verifying HS256 tokens signed with
// authtest.Secret.
func startGateway(t *testing.T, db *store.DB) *gateway {
	t.Helper()
	return startGatewayWith(t, db, auth.Config{Secret: authtest.Secret})
}

func startGatewayWith(t *testing.T, db *store.DB, cfg auth.Config) *gateway {
	t.Helper()
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = testLog{t}
	}
	log := slog.New(slog.NewTextHandler(w, nil))
	return &gateway{Server: authtest.Start(t, db, cfg, routes(db, log)), t: t}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// routes are the transports as the server mounts them (app.Routes).
func routes(db *store.DB, log *slog.Logger) map[string]http.Handler {
	return app.Routes(db.Client, crm.NewService(db.Client), app.Transports{Logger: log})
}

// actor is a user the tests act as.
type actor struct {
	name   string // "ADMIN", "MANAGER", "USER", "NO ROLES", …
	id     uuid.UUID
	tenant uuid.UUID
}

// token returns a valid HS256 token of a.
func (a actor) token(t testing.TB) string {
	t.Helper()
	tok, err := auth.Mint(authtest.Secret, a.id, a.tenant, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request as a; body is sent as is when it is a string, else as
// JSON (nil: no body).
func (g *gateway) do(a actor, method, path string, body any) *apptest.Response {
	g.t.Helper()
	var raw string
	switch b := body.(type) {
	case nil:
	case string:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			g.t.Fatal(err)
		}
		raw = string(j)
	}
	return g.Send(authtest.Request{Method: method, Path: path, Body: raw}, "Bearer "+a.token(g.t))
}

// graphql sends a GraphQL request as a and decodes the response.
func (g *gateway) graphql(a actor, query string, vars map[string]any) (*apptest.Response, gqlResponse) {
	g.t.Helper()
	res := g.do(a, http.MethodPost, "/graphql", map[string]any{"query": query, "variables": vars})
	// Validation errors come with 422; their body is a GraphQL response too.
	var out gqlResponse
	_ = json.Unmarshal(res.Body, &out)
	return res, out
}

type gqlResponse struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// codes returns the extensions.code of every error.
func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// tenantFixture is one seeded tenant: its users and records the requests
// name, and factories for fresh records (so a destructive request never
// consumes another's target).
type tenantFixture struct {
	t   *testing.T
	db  *store.DB
	sys context.Context // tenancy bypass: tests and system work only

	id                                   uuid.UUID
	admin, manager, user, sales1, noRole actor
	franchise, department, source        uuid.UUID
	contact, contact2, lead, group       uuid.UUID
	n                                    int // for unique names
}

// fixture is the caller's tenant (demo-motors.test) and the other one
// (northwind-auto.test).
type fixture struct {
	demo, other *tenantFixture
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	return &fixture{demo: loadTenant(t, db, "demo-motors.test"), other: loadTenant(t, db, "northwind-auto.test")}
}

func loadTenant(t *testing.T, db *store.DB, domain string) *tenantFixture {
	t.Helper()
	f := &tenantFixture{t: t, db: db, sys: tenancy.Bypass(context.Background()), id: storetest.TenantID(t, db, domain)}
	as := func(name, local string) actor {
		return actor{name: name, id: storetest.UserID(t, db, local+"@"+domain), tenant: f.id}
	}
	f.admin, f.manager, f.user, f.sales1 = as("ADMIN", "admin"), as("MANAGER", "manager"), as("USER", "user"), as("USER sales1", "sales1")
	// A user with no role at all: authenticated, allowed nothing.
	f.noRole = actor{name: "NO ROLES", id: f.newUser("noroles", user.UserTypeUSER), tenant: f.id}

	fr, err := db.Franchise.Query().Where(franchise.TenantID(f.id), franchise.Code("DT")).Only(f.sys)
	f.must(err)
	f.franchise = fr.ID
	f.department, err = db.Department.Query().Where(department.FranchiseID(fr.ID), department.Name("Sales")).OnlyID(f.sys)
	f.must(err)
	f.source, err = db.Source.Query().Where(source.TenantID(f.id)).FirstID(f.sys)
	f.must(err)
	cs, err := db.Contact.Query().Where(contact.TenantID(f.id)).Order(contact.ByID()).Limit(2).IDs(f.sys)
	f.must(err)
	f.contact, f.contact2 = cs[0], cs[1]
	f.lead, err = db.Lead.Query().Where(lead.TenantID(f.id)).Order(lead.ByID()).FirstID(f.sys)
	f.must(err)
	f.group, err = db.SecurityGroup.Query().Where(securitygroup.TenantID(f.id)).FirstID(f.sys)
	f.must(err)
	return f
}

func (f *tenantFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *tenantFixture) name(prefix string) string {
	f.n++
	return fmt.Sprintf("%s %d", prefix, f.n)
}

// newUser adds an active user without roles.
func (f *tenantFixture) newUser(local string, typ user.UserType) uuid.UUID {
	f.t.Helper()
	t, err := f.db.Tenant.Get(f.sys, f.id)
	f.must(err)
	email := local + "@" + t.Domain
	u, err := f.db.User.Create().SetTenantID(f.id).SetUsername(email).SetEmail(email).
		SetDisplayName(local).SetUserType(typ).Save(f.sys)
	f.must(err)
	return u.ID
}

// roleUser returns a USER-type actor whose only role holds exactly perms;
// calling it again for the same local part replaces the role's
// permissions (the viewer is loaded per request, so the change is live).
func (f *tenantFixture) roleUser(local string, perms []string) actor {
	f.t.Helper()
	t, err := f.db.Tenant.Get(f.sys, f.id)
	f.must(err)
	email := local + "@" + t.Domain
	pids, err := f.db.Permission.Query().Where(permission.NameIn(perms...)).IDs(f.sys)
	f.must(err)
	if len(pids) != len(perms) {
		f.t.Fatalf("permissions %v: %d found", perms, len(pids))
	}
	u, err := f.db.User.Query().Where(user.Email(email)).WithRoles().Only(f.sys)
	if ent.IsNotFound(err) {
		r, err := f.db.Role.Create().SetTenantID(f.id).SetName("probe " + local).AddPermissionIDs(pids...).Save(f.sys)
		f.must(err)
		u, err = f.db.User.Create().SetTenantID(f.id).SetUsername(email).SetEmail(email).SetDisplayName(local).
			SetUserType(user.UserTypeUSER).AddRoles(r).Save(f.sys)
		f.must(err)
	} else {
		f.must(err)
		f.must(f.db.Role.UpdateOne(u.Edges.Roles[0]).ClearPermissions().AddPermissionIDs(pids...).Exec(f.sys))
	}
	return actor{name: local, id: u.ID, tenant: f.id}
}

// Factories of fresh records, so a destructive request never consumes
// another request's target.
func (f *tenantFixture) newAccount() uuid.UUID {
	a, err := f.db.Account.Create().SetTenantID(f.id).SetName(f.name("Probe account")).AddContactIDs(f.contact2).Save(f.sys)
	f.must(err)
	return a.ID
}

func (f *tenantFixture) newTask(creator actor, assignee uuid.UUID) uuid.UUID {
	tk, err := f.db.Task.Create().SetTenantID(f.id).SetTitle(f.name("Probe task")).SetAssigneeID(assignee).
		SetCreatedByID(creator.id).SetContactID(f.contact).Save(f.sys)
	f.must(err)
	return tk.ID
}

func (f *tenantFixture) newLead() uuid.UUID {
	l, err := f.db.Lead.Create().SetTenantID(f.id).SetSubject(f.name("Probe lead")).SetContactID(f.contact).
		SetDepartmentID(f.department).SetFranchiseID(f.franchise).SetSourceID(f.source).Save(f.sys)
	f.must(err)
	return l.ID
}

func (f *tenantFixture) newAppointment(creator actor, assignee uuid.UUID) uuid.UUID {
	a, err := f.db.Appointment.Create().SetTenantID(f.id).SetTitle(f.name("Probe appointment")).SetAssigneeID(assignee).
		SetCreatedByID(creator.id).SetContactID(f.contact).Save(f.sys)
	f.must(err)
	return a.ID
}

func (f *tenantFixture) newFollowUp(creator actor, assignee uuid.UUID) uuid.UUID {
	u, err := f.db.FollowUp.Create().SetTenantID(f.id).SetTitle(f.name("Probe follow-up")).SetAssigneeID(assignee).
		SetCreatedByID(creator.id).SetContactID(f.contact).Save(f.sys)
	f.must(err)
	return u.ID
}

func (f *tenantFixture) newStage() uuid.UUID {
	s, err := f.db.ConnectionStage.Create().SetTenantID(f.id).SetName(f.name("Probe stage")).Save(f.sys)
	f.must(err)
	return s.ID
}

func (f *tenantFixture) newCustomField() uuid.UUID {
	c, err := f.db.CustomField.Create().SetTenantID(f.id).SetEntity("lead").
		SetFieldName(strings.ReplaceAll(f.name("probe_field"), " ", "_")).SetFieldType("text").Save(f.sys)
	f.must(err)
	return c.ID
}

func (f *tenantFixture) newLabel() uuid.UUID {
	l, err := f.db.CustomLabel.Create().SetTenantID(f.id).SetValue(map[string]any{"lead": f.name("Deal")}).Save(f.sys)
	f.must(err)
	return l.ID
}

func (f *tenantFixture) newAutomation() uuid.UUID {
	a, err := f.db.Automation.Create().SetTenantID(f.id).SetName(f.name("Probe automation")).
		SetAutomationTrigger("lead.created").Save(f.sys)
	f.must(err)
	return a.ID
}

// savedFilterValue is a valid query-builder query for module "lead".
const savedFilterValue = `{"combinator":"and","rules":[{"field":"subject","operator":"contains","value":"probe"}]}`

func (f *tenantFixture) newSavedFilter(owner actor, private bool) uuid.UUID {
	s, err := f.db.SavedFilter.Create().SetTenantID(f.id).SetName(f.name("Probe filter")).SetModule("lead").
		SetValue(savedFilterValue).SetOwnerID(owner.id).SetPrivate(private).SetCreatedByID(owner.id).Save(f.sys)
	f.must(err)
	return s.ID
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// errorBody decodes a {"error": "..."} body.
func errorBody(t *testing.T, res *apptest.Response) string {
	t.Helper()
	var b map[string]any
	res.JSON(t, &b)
	msg, _ := b["error"].(string)
	return msg
}

// holds reports whether a user of type typ with the default roles holds
// permission perm (typ "" is the user without roles).
func holds(typ, perm string) bool {
	if typ == "ADMIN" {
		return true
	}
	return slices.Contains(crm.DefaultRoles[crm.RoleForUserType[typ]], perm)
}
