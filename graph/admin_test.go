package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/source"
	entuser "github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

var sys = tenancy.Bypass(context.Background())

// field returns the extensions.fields of the first error.
func (r *result) fields() map[string]any {
	if len(r.Errors) == 0 {
		return nil
	}
	f, _ := r.Errors[0].Extensions["fields"].(map[string]any)
	return f
}

// mustCode fails unless the response's first error has code.
func mustCode(t *testing.T, r *result, code string, fields ...string) {
	t.Helper()
	if r.code() != code {
		t.Fatalf("want %s, got %+v", code, r.Errors)
	}
	for _, f := range fields {
		if _, ok := r.fields()[f]; !ok {
			t.Errorf("no error for %s in %v", f, r.fields())
		}
	}
}

// events returns the topics of the tenant's outbox events about subject.
func events(t *testing.T, db *store.DB, subject uuid.UUID) []string {
	t.Helper()
	topics, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(subject)).
		Order(outboxevent.ByDateCreated()).Select(outboxevent.FieldTopic).Strings(sys)
	if err != nil {
		t.Fatal(err)
	}
	return topics
}

func roleID(t *testing.T, db *store.DB, domain, name string) uuid.UUID {
	t.Helper()
	id, err := db.Role.Query().Where(role.TenantID(storetest.TenantID(t, db, domain)), role.Name(name)).OnlyID(sys)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAdminManagesUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		otherRole := roleID(t, db, "northwind-auto.test", "User")

		r := query(t, s, admin, `mutation { createUser(input: {email: " New.Rep@Demo-Motors.test ", firstname: "Nia",
			lastname: "Rep", mobilePhone: "555-0100"}) { id email username displayName userType isActive roles { name } } }`, nil)
		var created struct {
			CreateUser struct {
				ID                                     uuid.UUID
				Email, Username, DisplayName, UserType string
				IsActive                               bool
				Roles                                  []struct{ Name string }
			}
		}
		r.into(t, &created)
		u := created.CreateUser
		if u.Email != "new.rep@demo-motors.test" || u.Username != u.Email || u.DisplayName != "Nia Rep" ||
			u.UserType != "USER" || !u.IsActive || len(u.Roles) != 1 || u.Roles[0].Name != "User" {
			t.Fatalf("created %+v", u)
		}
		if got := events(t, db, u.ID); !slices.Equal(got, []string{"user.created"}) {
			t.Errorf("events %v", got)
		}

		t.Run("the email names one user of the tenant", func(t *testing.T) {
			n, _ := db.User.Query().Count(sys)
			r := query(t, s, admin, `mutation { createUser(input: {email: "NEW.REP@demo-motors.test"}) { id } }`, nil)
			mustCode(t, r, "BAD_USER_INPUT", "input.email")
			if m, _ := db.User.Query().Count(sys); m != n {
				t.Errorf("users: %d before, %d after", n, m)
			}
			// Another tenant may have a user of the same email.
			r = query(t, s, otherAdmin, `mutation { createUser(input: {email: "new.rep@demo-motors.test"}) { id } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("other tenant: %+v", r.Errors)
			}
		})

		t.Run("bad input names each field", func(t *testing.T) {
			r := query(t, s, admin, `mutation($role: ID!) { createUser(input: {email: "not an email", displayName: " ",
				roleIDs: [$role]}) { id } }`, map[string]any{"role": otherRole})
			mustCode(t, r, "BAD_USER_INPUT", "input.email", "input.displayName", "input.roleIDs")
			r = query(t, s, admin, `mutation { createUser(input: {firstname: "x"}) { id } }`, nil)
			mustCode(t, r, "BAD_USER_INPUT", "input.email")
		})

		t.Run("update", func(t *testing.T) {
			mgr := roleID(t, db, "demo-motors.test", "Manager")
			r := query(t, s, admin, `mutation($id: ID!, $role: ID!) { updateUser(id: $id, input: {lastname: "Lead",
				mobilePhone: "", userType: MANAGER, roleIDs: [$role], roundRobinStatus: "available"}) {
				displayName lastname mobilePhone userType roundRobinStatus roles { name } } }`,
				map[string]any{"id": u.ID, "role": mgr})
			var data struct {
				UpdateUser struct {
					Lastname, UserType, RoundRobinStatus string
					MobilePhone                          *string
					Roles                                []struct{ Name string }
				}
			}
			r.into(t, &data)
			got := data.UpdateUser
			if got.Lastname != "Lead" || got.MobilePhone != nil || got.UserType != "MANAGER" ||
				got.RoundRobinStatus != "available" || len(got.Roles) != 1 || got.Roles[0].Name != "Manager" {
				t.Fatalf("updated %+v", got)
			}
			if got := events(t, db, u.ID); !slices.Equal(got, []string{"user.created", "user.updated"}) {
				t.Errorf("events %v", got)
			}
			r = query(t, s, admin, `mutation($id: ID!) { updateUser(id: $id, input: {email: "x@y.test"}) { id } }`,
				map[string]any{"id": u.ID})
			mustCode(t, r, "BAD_USER_INPUT", "input.email")
		})

		t.Run("another tenant's user is unknown", func(t *testing.T) {
			other := storetest.UserID(t, db, "user@northwind-auto.test")
			for _, q := range []string{
				`mutation($id: ID!) { updateUser(id: $id, input: {firstname: "x"}) { id } }`,
				`mutation($id: ID!) { deactivateUser(id: $id) { id } }`,
				`mutation($id: ID!) { reactivateUser(id: $id) { id } }`,
				`mutation($id: ID!) { deleteUser(id: $id) }`,
			} {
				mustCode(t, query(t, s, admin, q, map[string]any{"id": other}), "NOT_FOUND")
			}
			if v, _ := db.User.Get(sys, other); !v.IsActive || v.Firstname == nil || *v.Firstname == "x" {
				t.Errorf("other tenant's user changed: %+v", v)
			}
		})

		t.Run("needs user.manage", func(t *testing.T) {
			for _, email := range []string{user, "manager@demo-motors.test"} {
				r := query(t, s, email, `mutation { createUser(input: {email: "z@demo-motors.test"}) { id } }`, nil)
				mustCode(t, r, "FORBIDDEN")
			}
		})

		t.Run("delete frees the email and cuts access", func(t *testing.T) {
			tok, err := auth.Mint(apptest.Secret, u.ID, storetest.TenantID(t, db, "demo-motors.test"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			r := query(t, s, admin, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": u.ID})
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			if st := rawQuery(t, s, tok, `{ viewer { user { id } } }`); st != http.StatusUnauthorized {
				t.Errorf("deleted user's token: %d", st)
			}
			r = query(t, s, admin, `mutation { createUser(input: {email: "new.rep@demo-motors.test"}) { id } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("email of a deleted user: %+v", r.Errors)
			}
		})
	})
}

// rawQuery posts q with the bearer token tok and returns the status.
func rawQuery(t *testing.T, s *apptest.Server, tok, q string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(`{"query":`+quote(q)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	return s.Send(req).Status
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", " ").Replace(s) + `"`
}

func TestReactivationDoesNotReviveOldTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		id := storetest.UserID(t, db, user)
		old := s.Token(user)
		if st := rawQuery(t, s, old, `{ viewer { user { id } } }`); st != http.StatusOK {
			t.Fatalf("before: %d", st)
		}
		r := query(t, s, admin, `mutation($id: ID!) { deactivateUser(id: $id) { isActive } }`, map[string]any{"id": id})
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"isActive":false`) {
			t.Fatalf("deactivate: %s %+v", r.Data, r.Errors)
		}
		if st := rawQuery(t, s, old, `{ viewer { user { id } } }`); st != http.StatusUnauthorized {
			t.Errorf("deactivated: %d", st)
		}
		r = query(t, s, admin, `mutation($id: ID!) { reactivateUser(id: $id) { isActive } }`, map[string]any{"id": id})
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"isActive":true`) {
			t.Fatalf("reactivate: %s %+v", r.Data, r.Errors)
		}
		if st := rawQuery(t, s, old, `{ viewer { user { id } } }`); st != http.StatusUnauthorized {
			t.Errorf("token issued before the deactivation works again after the reactivation: %d", st)
		}
		// iat has whole seconds: a token of the deactivation's second is
		// refused too, one issued in a later second works.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
		tid := storetest.TenantID(t, db, "demo-motors.test")
		fresh, err := auth.Mint(apptest.Secret, id, tid, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if st := rawQuery(t, s, fresh, `{ viewer { user { id } } }`); st != http.StatusOK {
			t.Errorf("token issued after the reactivation: %d", st)
		}
		if got := events(t, db, id); !slices.Equal(got, []string{"user.deactivated", "user.reactivated"}) {
			t.Errorf("events %v", got)
		}
	})
}

func TestNobodyRemovesTheirOwnLastAdminAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		self := storetest.UserID(t, db, admin)
		userRole := roleID(t, db, "demo-motors.test", "User")
		vars := map[string]any{"id": self, "role": userRole}
		for name, q := range map[string]string{
			"deactivate": `mutation($id: ID!) { deactivateUser(id: $id) { id } }`,
			"delete":     `mutation($id: ID!) { deleteUser(id: $id) }`,
			"demote":     `mutation($id: ID!) { updateUser(id: $id, input: {userType: MANAGER}) { id } }`,
		} {
			r := query(t, s, admin, q, vars)
			mustCode(t, r, "CONFLICT")
			if u, _ := db.User.Get(sys, self); !u.IsActive || u.UserType != entuser.UserTypeADMIN {
				t.Fatalf("%s: changed %+v", name, u)
			}
		}
		// With a second ADMIN, admin@ may become a MANAGER who keeps
		// user.manage through the Administrator role, not a USER without it.
		r := query(t, s, admin, `mutation { createUser(input: {email: "boss2@demo-motors.test", userType: ADMIN}) { id } }`, nil)
		var boss2 struct{ CreateUser struct{ ID uuid.UUID } }
		r.into(t, &boss2)
		r = query(t, s, admin, `mutation($id: ID!, $role: ID!) { updateUser(id: $id, input: {userType: USER, roleIDs: [$role]}) { id } }`, vars)
		mustCode(t, r, "CONFLICT")
		r = query(t, s, admin, `mutation($id: ID!) { updateUser(id: $id, input: {userType: MANAGER}) { userType } }`, vars)
		if len(r.Errors) > 0 {
			t.Fatalf("demote keeping user.manage: %+v", r.Errors)
		}

		// A role edit cannot take user.manage from the one who makes it.
		r = query(t, s, admin, `mutation { createRole(input: {name: "People", permissions: ["user.manage", "user.read"]}) { id } }`, nil)
		var created struct{ CreateRole struct{ ID uuid.UUID } }
		r.into(t, &created)
		mgr := storetest.UserID(t, db, "manager@demo-motors.test")
		r = query(t, s, admin, `mutation($id: ID!, $a: ID!, $b: ID!) { updateUser(id: $id, input: {roleIDs: [$a, $b]}) { id } }`,
			map[string]any{"id": mgr, "a": created.CreateRole.ID, "b": roleID(t, db, "demo-motors.test", "Manager")})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		r = query(t, s, "manager@demo-motors.test", `mutation($id: ID!) { updateRole(id: $id, input: {permissions: ["user.read"]}) { id } }`,
			map[string]any{"id": created.CreateRole.ID})
		mustCode(t, r, "CONFLICT")
		r = query(t, s, "manager@demo-motors.test", `mutation($id: ID!, $to: ID!) { deleteRole(id: $id, reassignTo: $to) }`,
			map[string]any{"id": created.CreateRole.ID, "to": roleID(t, db, "demo-motors.test", "User")})
		mustCode(t, r, "CONFLICT")
		// ...but the manager may manage the other users.
		r = query(t, s, "manager@demo-motors.test", `mutation { createUser(input: {email: "hire@demo-motors.test"}) { id } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("manager with user.manage: %+v", r.Errors)
		}

		// user.manage does not lead to more: a non-ADMIN grants only what
		// they hold, and leaves ADMIN users alone.
		m := "manager@demo-motors.test"
		adminRole := roleID(t, db, "demo-motors.test", "Administrator")
		for name, c := range map[string]struct {
			q    string
			vars map[string]any
		}{
			"make an ADMIN":       {`mutation { createUser(input: {email: "esc1@demo-motors.test", userType: ADMIN}) { id } }`, nil},
			"give a wider role":   {`mutation($r: ID!) { createUser(input: {email: "esc2@demo-motors.test", roleIDs: [$r]}) { id } }`, map[string]any{"r": adminRole}},
			"take a wider role":   {`mutation($id: ID!, $r: ID!) { updateUser(id: $id, input: {roleIDs: [$r]}) { id } }`, map[string]any{"id": mgr, "r": adminRole}},
			"widen a role":        {`mutation($id: ID!) { updateRole(id: $id, input: {permissions: ["user.manage", "settings.manage"]}) { id } }`, map[string]any{"id": created.CreateRole.ID}},
			"deactivate an ADMIN": {`mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": boss2.CreateUser.ID}},
		} {
			r := query(t, s, m, c.q, c.vars)
			if r.code() != "FORBIDDEN" {
				t.Errorf("%s: %+v", name, r.Errors)
			}
		}
	})
}

func TestRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		r := query(t, s, admin, `mutation { createRole(input: {name: "Viewer", permissions: ["lead.read", "lead.read", "account.read"]}) {
			id name isDefault permissions { name } } }`, nil)
		var data struct {
			CreateRole struct {
				ID          uuid.UUID
				Name        string
				IsDefault   bool
				Permissions []struct{ Name string }
			}
		}
		r.into(t, &data)
		viewerRole := data.CreateRole
		if viewerRole.IsDefault || len(viewerRole.Permissions) != 2 {
			t.Fatalf("created %+v", viewerRole)
		}
		mustCode(t, query(t, s, admin, `mutation { createRole(input: {name: "X", permissions: ["lead.read", "root"]}) { id } }`, nil),
			"BAD_USER_INPUT", "input.permissions[1]")
		mustCode(t, query(t, s, admin, `mutation { createRole(input: {permissions: []}) { id } }`, nil),
			"BAD_USER_INPUT", "input.name")
		mustCode(t, query(t, s, user, `mutation { createRole(input: {name: "X"}) { id } }`, nil), "FORBIDDEN")

		// The permission list applies from the holder's next request.
		u := storetest.UserID(t, db, user)
		r = query(t, s, admin, `mutation($id: ID!, $role: ID!) { updateUser(id: $id, input: {roleIDs: [$role]}) { id } }`,
			map[string]any{"id": u, "role": viewerRole.ID})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		r = query(t, s, admin, `mutation($id: ID!) { updateRole(id: $id, input: {name: "Reader", permissions: ["account.read"]}) { name } }`,
			map[string]any{"id": viewerRole.ID})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		var v struct {
			Viewer struct{ Permissions []string }
		}
		query(t, s, user, `{ viewer { permissions } }`, nil).into(t, &v)
		if !slices.Equal(v.Viewer.Permissions, []string{"account.read"}) {
			t.Errorf("permissions after the role edit: %v", v.Viewer.Permissions)
		}

		def := roleID(t, db, "demo-motors.test", "User")
		r = query(t, s, admin, `mutation($id: ID!) { deleteRole(id: $id) }`, map[string]any{"id": def})
		mustCode(t, r, "CONFLICT")
		r = query(t, s, admin, `mutation($id: ID!) { updateRole(id: $id, input: {name: "Staff"}) { name isDefault } }`, map[string]any{"id": def})
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"isDefault":true`) {
			t.Fatalf("rename a default role: %s %+v", r.Data, r.Errors)
		}

		r = query(t, s, admin, `mutation($id: ID!) { deleteRole(id: $id) }`, map[string]any{"id": viewerRole.ID})
		mustCode(t, r, "CONFLICT")
		if !strings.Contains(r.Errors[0].Message, "1 users") {
			t.Errorf("message without the count: %q", r.Errors[0].Message)
		}
		other := roleID(t, db, "northwind-auto.test", "User")
		mustCode(t, query(t, s, admin, `mutation($id: ID!, $to: ID!) { deleteRole(id: $id, reassignTo: $to) }`,
			map[string]any{"id": viewerRole.ID, "to": other}), "BAD_USER_INPUT", "reassignTo")
		mustCode(t, query(t, s, admin, `mutation($id: ID!) { deleteRole(id: $id) }`, map[string]any{"id": other}), "NOT_FOUND")
		r = query(t, s, admin, `mutation($id: ID!, $to: ID!) { deleteRole(id: $id, reassignTo: $to) }`,
			map[string]any{"id": viewerRole.ID, "to": def})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		roles, _ := db.User.Query().Where(entuser.ID(u)).QueryRoles().Select(role.FieldName).Strings(sys)
		if !slices.Equal(roles, []string{"Staff"}) {
			t.Errorf("holder's roles after the reassigning delete: %v", roles)
		}
		if got := events(t, db, viewerRole.ID); !slices.Equal(got, []string{"role.created", "role.updated", "role.deleted"}) {
			t.Errorf("events %v", got)
		}

		t.Run("roles and the catalogue are listed", func(t *testing.T) {
			var data struct {
				Roles []struct {
					Name        string
					IsDefault   bool
					Permissions []struct{ Name string }
				}
				PermissionCatalogue []struct{ Name, Description string }
			}
			query(t, s, user, `{ roles { name isDefault permissions { name } } permissionCatalogue { name description } }`, nil).into(t, &data)
			var names []string
			for _, r := range data.Roles {
				names = append(names, r.Name)
				if r.Name == "Administrator" && (!r.IsDefault || len(r.Permissions) != len(crm.Catalogue)) {
					t.Errorf("Administrator: default %v, %d permissions", r.IsDefault, len(r.Permissions))
				}
			}
			if !slices.Equal(names, []string{"Administrator", "Manager", "Staff"}) {
				t.Errorf("roles %v", names)
			}
			if len(data.PermissionCatalogue) != len(crm.Catalogue) || data.PermissionCatalogue[0].Name != crm.Catalogue[0].Name ||
				data.PermissionCatalogue[0].Description == "" {
				t.Errorf("catalogue %+v", data.PermissionCatalogue)
			}
			var other struct{ Roles []struct{ Name string } }
			query(t, s, otherAdmin, `{ roles { name } }`, nil).into(t, &other)
			if len(other.Roles) != 3 {
				t.Errorf("other tenant's roles %v", other.Roles)
			}
			r := query(t, s, admin, `mutation { createUser(input: {email: "nobody@demo-motors.test", roleIDs: []}) { id } }`, nil)
			var nobody struct{ CreateUser struct{ ID uuid.UUID } }
			r.into(t, &nobody)
			tok, err := auth.Mint(apptest.Secret, nobody.CreateUser.ID, storetest.TenantID(t, db, "demo-motors.test"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(`{"query":"{ roles { name } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			if res := s.Send(req); !strings.Contains(string(res.Body), "FORBIDDEN") {
				t.Errorf("a user without user.read: %s", res.Body)
			}
		})
	})
}

// leadFixture creates leads in the department of the security group.
type leadFixture struct {
	t                                *testing.T
	s                                *apptest.Server
	db                               *store.DB
	dept, contact, source, franchise uuid.UUID
}

// assign creates a lead and returns the email of its assignee.
func (f *leadFixture) assign() string {
	f.t.Helper()
	r := query(f.t, f.s, admin, `mutation($d: ID!, $c: ID!, $s: ID!, $f: ID!) { createLead(input: {subject: "rr",
		departmentID: $d, contactID: $c, sourceID: $s, franchiseID: $f}) { id } }`,
		map[string]any{"d": f.dept, "c": f.contact, "s": f.source, "f": f.franchise})
	var data struct{ CreateLead struct{ ID uuid.UUID } }
	r.into(f.t, &data)
	emails, err := f.db.Lead.Query().Where(lead.ID(data.CreateLead.ID)).QueryAssignees().Select(entuser.FieldEmail).Strings(sys)
	if err != nil || len(emails) != 1 {
		f.t.Fatalf("assignees %v %v", emails, err)
	}
	return strings.TrimSuffix(emails[0], "@demo-motors.test")
}

func TestSecurityGroupsKeepTheRoundRobinTurn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		tid := storetest.TenantID(t, db, "demo-motors.test")
		id := func(local string) uuid.UUID { return storetest.UserID(t, db, local+"@demo-motors.test") }
		ids := map[string]uuid.UUID{}
		for _, local := range []string{"user", "sales1", "sales2", "manager"} {
			ids[local] = id(local)
		}
		members := func(locals ...string) []uuid.UUID {
			out := []uuid.UUID{}
			for _, l := range locals {
				out = append(out, ids[l])
			}
			return out
		}
		r := query(t, s, admin, `mutation($m: [ID!]) { createSecurityGroup(input: {name: "Closers", roundRobin: true, memberIDs: $m}) {
			id name displayName isActive members { email } } }`, map[string]any{"m": members("user", "sales1", "sales2")})
		var created struct {
			CreateSecurityGroup struct {
				ID       uuid.UUID
				Name     string
				IsActive bool
				Members  []struct{ Email string }
			}
		}
		r.into(t, &created)
		g := created.CreateSecurityGroup
		if g.Name != "Closers" || !g.IsActive || len(g.Members) != 3 {
			t.Fatalf("created %+v", g)
		}
		f := &leadFixture{t: t, s: s, db: db}
		f.franchise = db.Franchise.Query().Where(franchise.TenantID(tid)).FirstIDX(sys)
		f.contact = db.Contact.Query().Where(contact.TenantID(tid)).FirstIDX(sys)
		f.source = db.Source.Query().Where(source.TenantID(tid)).FirstIDX(sys)
		r = query(t, s, admin, `mutation($f: ID!, $g: ID!) { createDepartment(input: {name: "Fleet", franchiseID: $f, securityGroupID: $g}) { id } }`,
			map[string]any{"f": f.franchise, "g": g.ID})
		var dept struct{ CreateDepartment struct{ ID uuid.UUID } }
		r.into(t, &dept)
		f.dept = dept.CreateDepartment.ID

		update := func(decl, input string, vars map[string]any) {
			t.Helper()
			vars["id"] = g.ID
			r := query(t, s, admin, `mutation($id: ID!, `+decl+`) { updateSecurityGroup(id: $id, input: `+input+`) { id } }`, vars)
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
		}
		var got []string
		turn := func(n int) {
			for range n {
				got = append(got, f.assign())
			}
		}
		turn(2) // user, sales1; sales2 is next
		update(`$m: [ID!]`, `{memberIDs: $m}`, map[string]any{"m": members("user", "sales2")})
		turn(1) // sales2 still next although the rotation shrank
		// user is next; removing them hands the turn to the next one still
		// in the rotation (sales2), and a new member takes their place in
		// the order given.
		update(`$m: [ID!]`, `{memberIDs: $m}`, map[string]any{"m": members("manager", "sales2")})
		turn(2) // sales2, manager
		// Deactivating a member skips them; reactivating brings them back.
		r = query(t, s, admin, `mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": ids["sales2"]})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		turn(2) // manager, manager
		r = query(t, s, admin, `mutation($id: ID!) { reactivateUser(id: $id) { id } }`, map[string]any{"id": ids["sales2"]})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		turn(2) // manager's turn was next: manager, sales2
		want := []string{"user", "sales1", "sales2", "sales2", "manager", "manager", "manager", "manager", "sales2"}
		if !slices.Equal(got, want) {
			t.Errorf("assignees\n got %v\nwant %v", got, want)
		}

		t.Run("deactivate, serve, bad input, isolation, delete", func(t *testing.T) {
			depts, _ := db.Department.Query().Where(department.TenantID(tid)).IDs(sys)
			update(`$d: [ID!]`, `{isActive: false, displayName: "Closing team", departmentIDs: $d, franchiseIDs: []}`,
				map[string]any{"d": depts[:1]})
			r := query(t, s, admin, `query($id: ID!) { node(id: $id) { ... on SecurityGroup { isActive displayName departments { id } franchises { id } } } }`,
				map[string]any{"id": g.ID})
			if !strings.Contains(string(r.Data), `"isActive":false`) || !strings.Contains(string(r.Data), depts[0].String()) ||
				!strings.Contains(string(r.Data), `"franchises":[]`) {
				t.Errorf("after update: %s %+v", r.Data, r.Errors)
			}
			other := storetest.UserID(t, db, "user@northwind-auto.test")
			mustCode(t, query(t, s, admin, `mutation($id: ID!, $m: [ID!]) { updateSecurityGroup(id: $id, input: {name: " ", memberIDs: $m}) { id } }`,
				map[string]any{"id": g.ID, "m": []uuid.UUID{other}}), "BAD_USER_INPUT", "input.name", "input.memberIDs")
			mustCode(t, query(t, s, otherAdmin, `mutation($id: ID!) { updateSecurityGroup(id: $id, input: {name: "x"}) { id } }`,
				map[string]any{"id": g.ID}), "NOT_FOUND")
			mustCode(t, query(t, s, user, `mutation { createSecurityGroup(input: {name: "x"}) { id } }`, nil), "FORBIDDEN")
			r = query(t, s, admin, `mutation($id: ID!) { deleteSecurityGroup(id: $id) }`, map[string]any{"id": g.ID})
			mustCode(t, r, "CONFLICT")
			if !strings.Contains(r.Errors[0].Message, "1 departments") {
				t.Errorf("message %q", r.Errors[0].Message)
			}
			r = query(t, s, admin, `mutation { createSecurityGroup(input: {name: "Empty"}) { id } }`, nil)
			var e struct{ CreateSecurityGroup struct{ ID uuid.UUID } }
			r.into(t, &e)
			if r := query(t, s, admin, `mutation($id: ID!) { deleteSecurityGroup(id: $id) }`, map[string]any{"id": e.CreateSecurityGroup.ID}); len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			if got := events(t, db, e.CreateSecurityGroup.ID); !slices.Equal(got, []string{"securityGroup.created", "securityGroup.deleted"}) {
				t.Errorf("events %v", got)
			}
		})
	})
}

func TestReferenceData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		tid := storetest.TenantID(t, db, "demo-motors.test")
		id := func(r *result, field string) uuid.UUID {
			t.Helper()
			var data map[string]struct{ ID uuid.UUID }
			r.into(t, &data)
			return data[field].ID
		}
		ok := func(r *result) {
			t.Helper()
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
		}

		fr := id(query(t, s, admin, `mutation { createFranchise(input: {name: "Airport", code: "AP"}) { id } }`, nil), "createFranchise")
		dept := id(query(t, s, admin, `mutation($f: ID!) { createDepartment(input: {name: "Sales", franchiseID: $f}) { id } }`,
			map[string]any{"f": fr}), "createDepartment")
		src := id(query(t, s, admin, `mutation { createSource(input: {name: "Trade show"}) { id } }`, nil), "createSource")
		st := id(query(t, s, admin, `mutation { createStatus(input: {name: "Won back", kind: SOLD, position: 9}) { id } }`, nil), "createStatus")
		pg := id(query(t, s, admin, `mutation { createProductGroup(input: {name: "Services"}) { id } }`, nil), "createProductGroup")
		child := id(query(t, s, admin, `mutation($p: ID!) { createProductGroup(input: {name: "Detailing", parentID: $p}) { id } }`,
			map[string]any{"p": pg}), "createProductGroup")
		prod := id(query(t, s, admin, `mutation($g: ID!) { createProduct(input: {name: "Wax", sku: "SRV-1", defaultCost: "10.5",
			defaultSalesPrice: "25", currency: "CAD", productGroupID: $g}) { id } }`, map[string]any{"g": child}), "createProduct")

		// Deactivate keeps the record, readable, with isActive false.
		for _, c := range []struct {
			mutation string
			id       uuid.UUID
		}{{"updateFranchise", fr}, {"updateDepartment", dept}, {"updateSource", src}, {"updateStatus", st},
			{"updateProduct", prod}, {"updateProductGroup", child}} {
			r := query(t, s, admin, `mutation($id: ID!) { `+c.mutation+`(id: $id, input: {isActive: false}) { isActive } }`,
				map[string]any{"id": c.id})
			if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"isActive":false`) {
				t.Errorf("%s: %s %+v", c.mutation, r.Data, r.Errors)
			}
		}
		ok(query(t, s, admin, `mutation($id: ID!) { updateFranchise(id: $id, input: {name: "Airport West", isActive: true}) { id } }`,
			map[string]any{"id": fr}))
		if got := events(t, db, fr); !slices.Equal(got, []string{"franchise.created", "franchise.updated", "franchise.updated"}) {
			t.Errorf("franchise events %v", got)
		}

		t.Run("a new lead may not name a deactivated record", func(t *testing.T) {
			c := db.Contact.Query().Where(contact.TenantID(tid)).FirstIDX(sys)
			n, _ := db.Lead.Query().Count(sys)
			r := query(t, s, admin, `mutation($d: ID!, $c: ID!, $s: ID!, $f: ID!) { createLead(input: {subject: "x",
				departmentID: $d, contactID: $c, sourceID: $s, franchiseID: $f}) { id } }`,
				map[string]any{"d": dept, "c": c, "s": src, "f": fr})
			mustCode(t, r, "BAD_USER_INPUT", "input.departmentID", "input.sourceID")
			if m, _ := db.Lead.Query().Count(sys); m != n {
				t.Errorf("leads: %d before, %d after", n, m)
			}
			ok(query(t, s, admin, `mutation($id: ID!) { updateDepartment(id: $id, input: {isActive: true}) { id } }`, map[string]any{"id": dept}))
			ok(query(t, s, admin, `mutation($id: ID!) { updateSource(id: $id, input: {isActive: true}) { id } }`, map[string]any{"id": src}))
			r = query(t, s, admin, `mutation($d: ID!, $c: ID!, $s: ID!, $f: ID!) { createLead(input: {subject: "x",
				departmentID: $d, contactID: $c, sourceID: $s, franchiseID: $f}) { id } }`,
				map[string]any{"d": dept, "c": c, "s": src, "f": fr})
			var l struct{ CreateLead struct{ ID uuid.UUID } }
			r.into(t, &l)
			// Deleted again, so that the records below are free to delete.
			if err := db.Lead.DeleteOneID(l.CreateLead.ID).Exec(sys); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("bad input names each field", func(t *testing.T) {
			other, _ := db.Franchise.Query().Where(franchise.TenantIDNEQ(tid)).FirstID(sys)
			mustCode(t, query(t, s, admin, `mutation($f: ID!) { createDepartment(input: {name: "", franchiseID: $f}) { id } }`,
				map[string]any{"f": other}), "BAD_USER_INPUT", "input.name", "input.franchiseID")
			mustCode(t, query(t, s, admin, `mutation { createDepartment(input: {name: "x"}) { id } }`, nil),
				"BAD_USER_INPUT", "input.franchiseID")
			mustCode(t, query(t, s, admin, `mutation { createProduct(input: {name: "x", defaultCost: "ten", currency: "usd"}) { id } }`, nil),
				"BAD_USER_INPUT", "input.defaultCost", "input.currency")
			mustCode(t, query(t, s, admin, `mutation { createStatus(input: {name: "x", position: -1}) { id } }`, nil),
				"BAD_USER_INPUT", "input.position")
			mustCode(t, query(t, s, admin, `mutation { createSource(input: {}) { id } }`, nil), "BAD_USER_INPUT", "input.name")
			mustCode(t, query(t, s, admin, `mutation($id: ID!, $p: ID!) { updateProductGroup(id: $id, input: {parentID: $p}) { id } }`,
				map[string]any{"id": pg, "p": child}), "BAD_USER_INPUT", "input.parentID")
		})

		t.Run("another tenant's records are unknown", func(t *testing.T) {
			for _, m := range []string{"updateFranchise", "updateSource", "updateStatus", "updateProductGroup"} {
				mustCode(t, query(t, s, otherAdmin, `mutation($id: ID!) { `+m+`(id: $id, input: {name: "x"}) { id } }`,
					map[string]any{"id": map[string]uuid.UUID{"updateFranchise": fr, "updateSource": src, "updateStatus": st, "updateProductGroup": pg}[m]}),
					"NOT_FOUND")
			}
			mustCode(t, query(t, s, otherAdmin, `mutation($id: ID!) { deleteProduct(id: $id) }`, map[string]any{"id": prod}), "NOT_FOUND")
		})

		t.Run("permissions", func(t *testing.T) {
			for _, q := range []string{
				`mutation { createFranchise(input: {name: "x"}) { id } }`,
				`mutation { createSource(input: {name: "x"}) { id } }`,
				`mutation { createProduct(input: {name: "x"}) { id } }`,
			} {
				mustCode(t, query(t, s, "manager@demo-motors.test", q, nil), "FORBIDDEN")
			}
		})

		t.Run("a used record is not deleted; the counts say why", func(t *testing.T) {
			website, _ := db.Source.Query().Where(source.TenantID(tid), source.Name("Website")).OnlyID(sys)
			n, _ := db.Lead.Query().Where(lead.SourceID(website)).Count(sys)
			r := query(t, s, admin, `mutation($id: ID!) { deleteSource(id: $id) }`, map[string]any{"id": website})
			mustCode(t, r, "CONFLICT")
			if want := "(" + itoa(n) + " connections)"; !strings.Contains(r.Errors[0].Message, want) {
				t.Errorf("message %q lacks %q", r.Errors[0].Message, want)
			}
			r = query(t, s, admin, `mutation($id: ID!) { deleteFranchise(id: $id) }`, map[string]any{"id": fr})
			mustCode(t, r, "CONFLICT")
			if !strings.Contains(r.Errors[0].Message, "1 departments") {
				t.Errorf("message %q", r.Errors[0].Message)
			}
			r = query(t, s, admin, `mutation($id: ID!) { deleteProductGroup(id: $id) }`, map[string]any{"id": pg})
			mustCode(t, r, "CONFLICT")
			if !strings.Contains(r.Errors[0].Message, "1 product groups") {
				t.Errorf("message %q", r.Errors[0].Message)
			}
			for _, c := range []struct {
				mutation string
				id       uuid.UUID
			}{{"deleteProduct", prod}, {"deleteProductGroup", child}, {"deleteProductGroup", pg}, {"deleteDepartment", dept},
				{"deleteFranchise", fr}, {"deleteSource", src}, {"deleteStatus", st}} {
				ok(query(t, s, admin, `mutation($id: ID!) { `+c.mutation+`(id: $id) }`, map[string]any{"id": c.id}))
			}
			if got := events(t, db, src); !slices.Equal(got, []string{"source.created", "source.updated", "source.updated", "source.deleted"}) {
				t.Errorf("source events %v", got)
			}
		})
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// Membership writes to a group while its leads are being assigned: each
// write moves the cursor, yet no turn is lost or served twice, so with the
// members unchanged every member gets the same number of leads.
func TestRoundRobinStaysFairUnderConcurrentGroupWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		tid := storetest.TenantID(t, db, "demo-motors.test")
		members := []uuid.UUID{storetest.UserID(t, db, user), storetest.UserID(t, db, "sales1@demo-motors.test"),
			storetest.UserID(t, db, "sales2@demo-motors.test")}
		r := query(t, s, admin, `mutation($m: [ID!]) { createSecurityGroup(input: {name: "Busy", roundRobin: true, memberIDs: $m}) { id } }`,
			map[string]any{"m": members})
		var g struct{ CreateSecurityGroup struct{ ID uuid.UUID } }
		r.into(t, &g)
		f := &leadFixture{t: t, s: s, db: db}
		f.franchise = db.Franchise.Query().Where(franchise.TenantID(tid)).FirstIDX(sys)
		f.contact = db.Contact.Query().Where(contact.TenantID(tid)).FirstIDX(sys)
		f.source = db.Source.Query().Where(source.TenantID(tid)).FirstIDX(sys)
		r = query(t, s, admin, `mutation($f: ID!, $g: ID!) { createDepartment(input: {name: "Busy", franchiseID: $f, securityGroupID: $g}) { id } }`,
			map[string]any{"f": f.franchise, "g": g.CreateSecurityGroup.ID})
		var d struct{ CreateDepartment struct{ ID uuid.UUID } }
		r.into(t, &d)
		f.dept = d.CreateDepartment.ID

		const workers, perWorker = 3, 8
		got := make(chan string, workers*perWorker)
		done := make(chan struct{})
		var writers sync.WaitGroup
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				// The same members, so the rotation is unchanged; the write
				// still reads and rewrites the cursor.
				r := post(t, s, admin, map[string]any{"query": `mutation($id: ID!, $m: [ID!], $n: String) {
					updateSecurityGroup(id: $id, input: {memberIDs: $m, displayName: $n}) { id } }`,
					"variables": map[string]any{"id": g.CreateSecurityGroup.ID, "m": members, "n": fmt.Sprint("Busy ", i)}})
				if len(r.Errors) > 0 {
					t.Errorf("group write: %+v", r.Errors)
					return
				}
			}
		}()
		var leads sync.WaitGroup
		for range workers {
			leads.Add(1)
			go func() {
				defer leads.Done()
				for range perWorker {
					got <- f.assign()
				}
			}()
		}
		leads.Wait()
		close(done)
		writers.Wait()
		close(got)
		counts := map[string]int{}
		for a := range got {
			counts[a]++
		}
		for _, local := range []string{"user", "sales1", "sales2"} {
			if counts[local] != workers*perWorker/3 {
				t.Errorf("assignments %v: not %d each", counts, workers*perWorker/3)
				break
			}
		}
	})
}
