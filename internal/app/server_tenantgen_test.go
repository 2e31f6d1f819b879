package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// This file tests the viewer cache per tenant (store.AuthWatch's
// generations): an administrator's write in one tenant ends that tenant's
// cached viewers only — on this instance and, on PostgreSQL, on the others
// —, a write whose tenant is not known ends every tenant's, and every
// revocation still refuses the very next request.

// settle waits until db's change listener (PostgreSQL) has acted on every
// notification sent so far: it sends one naming a tenant of its own, which
// arrives after them, and waits for that tenant's generation to move.
func settle(t *testing.T, db *store.DB) {
	t.Helper()
	if db.Dialect != dialect.Postgres {
		return
	}
	w, probe := db.AuthWatch(), uuid.New()
	own := func() uint64 { g, _ := w.Generation(probe); return g - w.Moves() }
	if _, err := db.SQL.Exec(`SELECT pg_notify($1, $2)`, store.AuthChannel, probe.String()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); own() == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not receive the probe notification")
		}
	}
}

// adminWrite runs a GraphQL mutation as f's administrator.
func adminWrite(t *testing.T, g *gateway, f *tenantFixture, q string, vars map[string]any) {
	t.Helper()
	res, out := g.graphql(f.admin, q, vars)
	if res.Status != http.StatusOK || len(out.Errors) > 0 {
		t.Fatalf("%s: %d %s", q, res.Status, res.Body)
	}
}

// createGroup makes a security group of f whose one member is member,
// through the administration API.
func createGroup(t *testing.T, g *gateway, f *tenantFixture, member actor) uuid.UUID {
	t.Helper()
	res, out := g.graphql(f.admin, `mutation($in: SecurityGroupInput!) { createSecurityGroup(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "Group of " + member.name, "memberIDs": []uuid.UUID{member.id}}})
	if res.Status != http.StatusOK || len(out.Errors) > 0 {
		t.Fatalf("createSecurityGroup: %d %s", res.Status, res.Body)
	}
	var created struct{ ID uuid.UUID }
	if err := json.Unmarshal(out.Data["createSecurityGroup"], &created); err != nil {
		t.Fatal(err)
	}
	return created.ID
}

// probeRole returns the role f.roleUser made for local.
func probeRole(t *testing.T, db *store.DB, f *tenantFixture, local string) uuid.UUID {
	t.Helper()
	id, err := db.Role.Query().Where(role.TenantID(f.id), role.Name("probe "+local)).OnlyID(f.sys)
	f.must(err)
	return id
}

// revocation is a change that must refuse a user's next request.
type revocation struct {
	name   string
	revoke func()
	check  func() int
	want   int
}

// An administrator's writes of one tenant's users, roles and groups keep
// every other tenant's cached viewers (no statement on their next
// request), and end their own tenant's — unless they change nothing a
// viewer is read from (a rename); a write of no known tenant —
// hand-written SQL, system work — ends every tenant's.
func TestAnotherTenantsAdminWritesKeepTheCachedViewers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		demo, other := fx.demo, fx.other
		probe := other.roleUser("tenantgen", []string{crm.PermAccountRead})
		probesRole := probeRole(t, db, other, "tenantgen")
		g := startGateway(t, db)
		readers := []actor{demo.user, demo.manager}
		where := func(a actor) string {
			if a.tenant == demo.id {
				return "this tenant"
			}
			return "the other tenant"
		}
		kept := func(what string, as ...actor) {
			t.Helper()
			settle(t, db)
			for _, a := range as {
				if n := authStatements(t, g, a); n != 0 {
					t.Errorf("after %s: %s (%s) cost %d auth statements, want 0 (still cached)", what, a.name, where(a), n)
				}
			}
		}
		flushed := func(what string, as ...actor) {
			t.Helper()
			for _, a := range as {
				if n := authStatements(t, g, a); n != 1 {
					t.Errorf("after %s: %s (%s) cost %d auth statements, want 1 (read again)", what, a.name, where(a), n)
				}
			}
		}
		for _, a := range append(readers, other.user, probe) {
			authStatements(t, g, a)
		}
		kept("warming up", append(readers, other.user, probe)...)

		// The other tenant's administrator at work.
		adminWrite(t, g, other, `mutation($id: ID!) { updateUser(id: $id, input: {displayName: "Renamed"}) { id } }`,
			map[string]any{"id": other.user.id})
		// A rename changes no viewer: not even its own tenant's are read
		// again.
		kept("another tenant's user renamed", readers...)
		kept("its own tenant's user renamed", other.user)
		adminWrite(t, g, other, `mutation($id: ID!) { updateRole(id: $id, input: {permissions: ["contact.read"]}) { id } }`,
			map[string]any{"id": probesRole})
		kept("another tenant's role edited", readers...)
		if st := g.do(probe, http.MethodGet, "/api/account", nil).Status; st != http.StatusForbidden {
			t.Errorf("the edited role's user listing accounts: %d, want 403", st)
		}
		createGroup(t, g, other, other.user)
		kept("another tenant's group created with a member", readers...)
		adminWrite(t, g, other, `mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": other.sales1.id})
		kept("another tenant's user deactivated", readers...)
		if st := status(g, other.sales1); st != http.StatusUnauthorized {
			t.Errorf("the deactivated user: %d, want 401", st)
		}

		// This tenant's administrator: its own viewers are read again,
		// the other tenant's kept.
		authStatements(t, g, other.user)
		adminWrite(t, g, demo, `mutation($id: ID!) { updateUser(id: $id, input: {displayName: "Renamed"}) { id } }`,
			map[string]any{"id": demo.sales1.id})
		kept("its own tenant's user renamed", readers...)
		adminWrite(t, g, demo, `mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": demo.sales1.id})
		flushed("its own tenant's user deactivated", readers...)
		kept("another tenant's user deactivated", other.user)

		// A write of no known tenant ends every tenant's viewers.
		if _, err := db.SQL.ExecContext(context.Background(), db.Rebind(`UPDATE users SET is_active = ? WHERE id = ?`),
			true, demo.manager.id); err != nil {
			t.Fatal(err)
		}
		flushed("hand-written SQL", demo.user, other.user)
		other.newUser("system-made", "USER") // ent under the tenancy bypass
		flushed("system work", demo.user, other.user)
	})
}

// Every revocation made through the administration API — a write of one
// tenant — refuses the user's very next request, while the other tenant's
// viewers stay cached.
func TestEveryRevocationThroughTheAdminAPIRefusesAtOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f := fx.demo
		watcher := fx.other.user
		userRole, err := db.Role.Query().Where(role.TenantID(f.id), role.Name("User")).OnlyID(f.sys)
		f.must(err)
		// Every user is made first: system work ends every tenant's viewers.
		a := f.roleUser("rev-role", []string{crm.PermAPIKeyManage})
		b := f.roleUser("rev-perm", []string{crm.PermAPIKeyManage})
		bRole := probeRole(t, db, f, "rev-perm")
		c := f.roleUser("rev-group", crm.DefaultRoles[crm.RoleForUserType["USER"]])
		d := f.roleUser("rev-group-off", crm.DefaultRoles[crm.RoleForUserType["USER"]])
		e := actor{name: "rev-deactivated", id: f.newUser("rev-deactivated", "USER"), tenant: f.id}
		h := actor{name: "rev-deleted", id: f.newUser("rev-deleted", "USER"), tenant: f.id}
		g := startGateway(t, db)
		guarded := func(x actor) func() int {
			return func() int { return g.do(x, http.MethodGet, "/api/api-key", nil).Status }
		}
		// The task record rule: a USER changes a task assigned to a group
		// they belong to.
		patch := func(x actor, group uuid.UUID) func() int {
			task := "/api/task/" + f.newTask(f.admin, group).String()
			return func() int { return g.do(x, http.MethodPatch, task, map[string]any{"title": "Retitled"}).Status }
		}
		groupC, groupD := createGroup(t, g, f, c), createGroup(t, g, f, d)
		patchC, patchD := patch(c, groupC), patch(d, groupD)
		revocations := []revocation{
			{"role taken from the user", func() {
				adminWrite(t, g, f, `mutation($id: ID!, $r: ID!) { updateUser(id: $id, input: {roleIDs: [$r]}) { id } }`,
					map[string]any{"id": a.id, "r": userRole})
			}, guarded(a), http.StatusForbidden},
			{"permission taken from the role", func() {
				adminWrite(t, g, f, `mutation($id: ID!) { updateRole(id: $id, input: {permissions: ["account.read"]}) { id } }`,
					map[string]any{"id": bRole})
			}, guarded(b), http.StatusForbidden},
			{"user taken from the group", func() {
				adminWrite(t, g, f, `mutation($id: ID!) { updateSecurityGroup(id: $id, input: {memberIDs: []}) { id } }`,
					map[string]any{"id": groupC})
			}, patchC, http.StatusForbidden},
			{"group deactivated", func() {
				adminWrite(t, g, f, `mutation($id: ID!) { updateSecurityGroup(id: $id, input: {isActive: false}) { id } }`,
					map[string]any{"id": groupD})
			}, patchD, http.StatusForbidden},
			{"user deactivated", func() {
				adminWrite(t, g, f, `mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": e.id})
			}, func() int { return status(g, e) }, http.StatusUnauthorized},
			{"user deleted", func() {
				adminWrite(t, g, f, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": h.id})
			}, func() int { return status(g, h) }, http.StatusUnauthorized},
		}
		for _, r := range revocations {
			for range 2 {
				if st := r.check(); st != http.StatusOK {
					t.Fatalf("%s: before, %d", r.name, st)
				}
			}
		}
		authStatements(t, g, watcher)
		for _, r := range revocations {
			r.revoke()
			if st := r.check(); st != r.want {
				t.Errorf("%s: the next request answered %d, want %d", r.name, st, r.want)
			}
		}
		settle(t, db)
		if n := authStatements(t, g, watcher); n != 0 {
			t.Errorf("the other tenant's user after this tenant's revocations: %d auth statements, want 0", n)
		}
	})
}

// Two instances on one PostgreSQL database: a revocation made through A in
// one tenant refuses the user on B at once (its notification names the
// tenant) and keeps B's viewers of the other tenant; a rename through A
// sends no notification at all, so B keeps even that tenant's viewers.
func TestViewerCachePerTenantAcrossInstances(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, dialect.Postgres)
	url := storetest.DBURL(t, db)
	second, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	fx := newFixture(t, db)
	f, other := fx.demo, fx.other
	a := f.roleUser("across-role", []string{crm.PermAPIKeyManage})
	b := f.roleUser("across-perm", []string{crm.PermAPIKeyManage})
	bRole := probeRole(t, db, f, "across-perm")
	c := f.roleUser("across-group", crm.DefaultRoles[crm.RoleForUserType["USER"]])
	e := actor{name: "across-deactivated", id: f.newUser("across-deactivated", "USER"), tenant: f.id}
	userRole, err := db.Role.Query().Where(role.TenantID(f.id), role.Name("User")).OnlyID(f.sys)
	f.must(err)
	ga, gb := startGateway(t, db), startGateway(t, second)
	group := createGroup(t, ga, f, c)
	task := "/api/task/" + f.newTask(f.admin, group).String()
	payloads := storetest.AuthPayloads(t, url)

	within := func(what string, check func() int, want int) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for st := check(); st != want; st = check() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: B answers %d after 2 s, want %d", what, st, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	guarded := func(x actor) func() int {
		return func() int { return gb.do(x, http.MethodGet, "/api/api-key", nil).Status }
	}
	patch := func() int { return gb.do(c, http.MethodPatch, task, map[string]any{"title": "Retitled"}).Status }
	warm := func(x actor) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for authStatements(t, gb, x) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s never served from B's cache", x.name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	within("a's keys before", guarded(a), http.StatusOK)
	within("b's keys before", guarded(b), http.StatusOK)
	within("c's group task before", patch, http.StatusOK)
	within("e before", func() int { return status(gb, e) }, http.StatusOK)
	for _, x := range []actor{a, b, c, e, f.user, other.user} {
		warm(x)
	}
	payloads()

	// A rename through A notifies no one: B keeps the renamed user's
	// viewer, and its tenant's.
	adminWrite(t, ga, f, `mutation($id: ID!) { updateUser(id: $id, input: {displayName: "Renamed across"}) { id } }`,
		map[string]any{"id": f.user.id})
	if got := payloads(); len(got) != 0 {
		t.Errorf("a rename notified %q", got)
	}
	settle(t, second)
	payloads() // settle's own
	for _, x := range []actor{f.user, other.user} {
		if n := authStatements(t, gb, x); n != 0 {
			t.Errorf("after a rename through A, %s on B: %d auth statements, want 0", x.name, n)
		}
	}

	for _, r := range []revocation{
		{"role taken from the user", func() {
			adminWrite(t, ga, f, `mutation($id: ID!, $r: ID!) { updateUser(id: $id, input: {roleIDs: [$r]}) { id } }`,
				map[string]any{"id": a.id, "r": userRole})
		}, guarded(a), http.StatusForbidden},
		{"permission taken from the role", func() {
			adminWrite(t, ga, f, `mutation($id: ID!) { updateRole(id: $id, input: {permissions: ["account.read"]}) { id } }`,
				map[string]any{"id": bRole})
		}, guarded(b), http.StatusForbidden},
		{"user taken from the group", func() {
			adminWrite(t, ga, f, `mutation($id: ID!) { updateSecurityGroup(id: $id, input: {memberIDs: []}) { id } }`,
				map[string]any{"id": group})
		}, patch, http.StatusForbidden},
		{"user deactivated", func() {
			adminWrite(t, ga, f, `mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": e.id})
		}, func() int { return status(gb, e) }, http.StatusUnauthorized},
	} {
		r.revoke()
		within(r.name, r.check, r.want)
		if got := payloads(); !slices.Equal(got, []string{f.id.String()}) {
			t.Errorf("%s: notified %q, want the tenant %s once", r.name, got, f.id)
		}
		settle(t, second)
		payloads()
		if n := authStatements(t, gb, other.user); n != 0 {
			t.Errorf("after %s through A, the other tenant's user on B: %d auth statements, want 0", r.name, n)
		}
	}
}
