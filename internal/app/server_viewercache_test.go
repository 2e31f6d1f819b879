package app_test

import (
	"context"
	"database/sql"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// This file tests the viewer cache (crm.ViewerCache) through the real
// routes: a warm request authenticates in no statement, and every change
// of what a viewer is made of — by the API, by ent, by hand-written SQL,
// on PostgreSQL by another instance or another program — is seen by the
// next request.

// authStatements returns the statements a request that reads nothing
// (GraphQL { __typename }) costs as a: its authentication's.
func authStatements(t *testing.T, g *gateway, a actor) int64 {
	t.Helper()
	before := g.DB.Counter.Total()
	res, out := g.graphql(a, `{ __typename }`, nil)
	if res.Status != http.StatusOK || len(out.Errors) > 0 {
		t.Fatalf("{ __typename } as %s: %d %s", a.name, res.Status, res.Body)
	}
	return g.DB.Counter.Total() - before
}

// status returns the status of a request that reads nothing, as a (a
// token issued now).
func status(g *gateway, a actor) int {
	res, _ := g.graphql(a, `{ __typename }`, nil)
	return res.Status
}

// statusWith is status with the bearer token tok.
func statusWith(g *gateway, tok string) int {
	return g.Send(authtest.Request{Method: http.MethodPost, Path: "/graphql", Body: `{"query":"{ __typename }"}`}, "Bearer "+tok).Status
}

func TestWarmAuthenticationCostsNoStatement(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		if n := authStatements(t, g, f.user); n != 1 {
			t.Errorf("cold: %d statements, want 1 (the viewer's)", n)
		}
		for range 3 {
			if n := authStatements(t, g, f.user); n != 0 {
				t.Errorf("warm: %d statements, want 0", n)
			}
		}
		// A write to a table viewers are not read from keeps the cache.
		f.newLead()
		if n := authStatements(t, g, f.user); n != 0 {
			t.Errorf("after a lead write: %d statements, want 0", n)
		}
		// A write to one they are read from ends it.
		f.newUser("someone", "USER")
		if n := authStatements(t, g, f.user); n != 1 {
			t.Errorf("after a user write: %d statements, want 1", n)
		}
	})
}

// Every change of a viewer's facts answers on the very next request,
// whatever made it: the admin API, an ent mutation, hand-written SQL.
func TestViewerCacheSeesEveryChangeOnTheNextRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		warm := func(a actor) {
			t.Helper()
			for range 2 {
				if st := status(g, a); st != http.StatusOK {
					t.Fatalf("%s before: %d", a.name, st)
				}
			}
		}
		mutate := func(q string, id uuid.UUID) {
			t.Helper()
			res, out := g.graphql(f.admin, q, map[string]any{"id": id})
			if res.Status != http.StatusOK || len(out.Errors) > 0 {
				t.Fatalf("%s: %d %s", q, res.Status, res.Body)
			}
		}

		t.Run("deactivated through the API", func(t *testing.T) {
			a := actor{name: "deactivated", id: f.newUser("deactivated", "USER"), tenant: f.id}
			old := a.token(t)
			warm(a)
			mutate(`mutation($id: ID!) { deactivateUser(id: $id) { id } }`, a.id)
			if st := status(g, a); st != http.StatusUnauthorized {
				t.Fatalf("after deactivation: %d, want 401", st)
			}
			// Reactivated: a token issued before stays dead
			// (access_revoked_at), checked in Go against the cached row,
			// while one issued in a later second works.
			mutate(`mutation($id: ID!) { reactivateUser(id: $id) { id } }`, a.id)
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
			for range 2 {
				if st := statusWith(g, old); st != http.StatusUnauthorized {
					t.Fatalf("old token after reactivation: %d, want 401", st)
				}
				if st := status(g, a); st != http.StatusOK {
					t.Fatalf("new token after reactivation: %d, want 200", st)
				}
			}
		})
		t.Run("deleted through the API", func(t *testing.T) {
			a := actor{name: "deleted", id: f.newUser("deleted", "USER"), tenant: f.id}
			warm(a)
			mutate(`mutation($id: ID!) { deleteUser(id: $id) }`, a.id)
			if st := status(g, a); st != http.StatusUnauthorized {
				t.Fatalf("after deletion: %d, want 401", st)
			}
		})
		t.Run("deactivated by hand-written SQL", func(t *testing.T) {
			a := actor{name: "raw", id: f.newUser("raw", "USER"), tenant: f.id}
			warm(a)
			if _, err := db.SQL.ExecContext(context.Background(), db.Rebind(`UPDATE users SET is_active = ? WHERE id = ?`), false, a.id); err != nil {
				t.Fatal(err)
			}
			if st := status(g, a); st != http.StatusUnauthorized {
				t.Fatalf("after a raw UPDATE: %d, want 401", st)
			}
		})

		// A guarded route that only reads: 200 with api_key.manage, 403
		// without.
		guarded := func(a actor) int {
			return g.do(a, http.MethodGet, "/api/api-key", nil).Status
		}
		t.Run("permission removed from the role", func(t *testing.T) {
			a := f.roleUser("perm-removed", []string{crm.PermAPIKeyManage})
			for range 2 {
				if st := guarded(a); st != http.StatusOK {
					t.Fatalf("with the permission: %d, want 200", st)
				}
			}
			f.roleUser("perm-removed", []string{crm.PermAccountRead}) // an ent update of the role
			if st := guarded(a); st != http.StatusForbidden {
				t.Fatalf("after the permission's removal: %d, want 403", st)
			}
		})
		t.Run("permission removed by hand-written SQL in a transaction", func(t *testing.T) {
			a := f.roleUser("perm-raw", []string{crm.PermAPIKeyManage})
			for range 2 {
				if st := guarded(a); st != http.StatusOK {
					t.Fatalf("with the permission: %d, want 200", st)
				}
			}
			tx, err := db.SQL.BeginTx(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(db.Rebind(`DELETE FROM role_permissions WHERE role_id IN (SELECT role_id FROM user_roles WHERE user_id = ?)`), a.id); err != nil {
				t.Fatal(err)
			}
			// Not committed: a request now reads the old facts, which must
			// not be trusted past the commit. (Not on SQLite: a connection
			// the pool opens meanwhile runs PRAGMA optimize, which waits
			// for the write lock this transaction holds.)
			if db.Dialect == dialect.Postgres {
				if st := guarded(a); st != http.StatusOK {
					t.Fatalf("before the commit: %d, want 200", st)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if st := guarded(a); st != http.StatusForbidden {
				t.Fatalf("after the commit: %d, want 403", st)
			}
		})
		t.Run("role removed from the user", func(t *testing.T) {
			a := f.roleUser("role-removed", []string{crm.PermAPIKeyManage})
			for range 2 {
				if st := guarded(a); st != http.StatusOK {
					t.Fatalf("with the role: %d, want 200", st)
				}
			}
			f.must(db.User.UpdateOneID(a.id).ClearRoles().Exec(f.sys))
			if st := guarded(a); st != http.StatusForbidden {
				t.Fatalf("after the role's removal: %d, want 403", st)
			}
		})
		t.Run("group membership", func(t *testing.T) {
			// The task record rule: a USER changes a task assigned to a
			// group they belong to.
			a := f.roleUser("grouped", crm.DefaultRoles[crm.RoleForUserType["USER"]])
			task := "/api/task/" + f.newTask(f.admin, f.group).String()
			patch := func() int { return g.do(a, http.MethodPatch, task, map[string]any{"title": "Retitled"}).Status }
			for range 2 {
				if st := patch(); st != http.StatusForbidden {
					t.Fatalf("outside the group: %d, want 403", st)
				}
			}
			f.must(db.SecurityGroup.UpdateOneID(f.group).AddMemberIDs(a.id).Exec(f.sys))
			if st := patch(); st != http.StatusOK {
				t.Fatalf("added to the group: %d, want 200", st)
			}
			f.must(db.SecurityGroup.UpdateOneID(f.group).RemoveMemberIDs(a.id).Exec(f.sys))
			if st := patch(); st != http.StatusForbidden {
				t.Fatalf("removed from the group: %d, want 403", st)
			}
		})
	})
}

// Requests hammer the gateway while a deactivation commits: no request
// that starts after the deactivation's response was received is let in.
func TestNoRequestAfterARevocationIsAuthorised(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		a := actor{name: "hammered", id: f.newUser("hammered", "USER"), tenant: f.id}
		if st := status(g, a); st != http.StatusOK {
			t.Fatalf("before: %d", st)
		}
		var revoked atomic.Int64 // UnixNano of the revocation's response; 0 before
		var late, allowed, refused atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := revoked.Load() != 0
					switch st := status(g, a); {
					case st == http.StatusOK && after:
						late.Add(1)
					case st == http.StatusOK:
						allowed.Add(1)
					case st == http.StatusUnauthorized:
						refused.Add(1)
					default:
						t.Errorf("status %d", st)
					}
				}
			}()
		}
		time.Sleep(300 * time.Millisecond)
		res, out := g.graphql(f.admin, `mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": a.id})
		revoked.Store(time.Now().UnixNano())
		if res.Status != http.StatusOK || len(out.Errors) > 0 {
			t.Fatalf("deactivate: %d %s", res.Status, res.Body)
		}
		time.Sleep(300 * time.Millisecond)
		close(stop)
		wg.Wait()
		if late.Load() > 0 {
			t.Errorf("%d requests started after the revocation's response were authorised", late.Load())
		}
		if allowed.Load() == 0 || refused.Load() == 0 {
			t.Errorf("allowed %d before, refused %d after: the hammer did not straddle the revocation", allowed.Load(), refused.Load())
		}
	})
}

// Two gateway instances on one PostgreSQL database: a change made through
// A, or by another program (psql), reaches B through the triggers'
// notifications; B's cache never serves a viewer its listener could have
// missed a change of.
func TestViewerCacheAcrossInstances(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "postgres")
	url := storetest.DBURL(t, db)
	second, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	f := newFixture(t, db).demo
	ga, gb := startGateway(t, db), startGateway(t, second)
	within := func(g *gateway, a actor, want int, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			st := status(g, a)
			if st == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d after %s, want %d", a.name, st, d, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	warmOn := func(g *gateway, a actor) {
		t.Helper()
		within(g, a, http.StatusOK, 2*time.Second)
		deadline := time.Now().Add(2 * time.Second)
		for authStatements(t, g, a) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s never served from the cache", a.name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	t.Run("revoked through A", func(t *testing.T) {
		a := actor{name: "via A", id: f.newUser("via-a", "USER"), tenant: f.id}
		warmOn(gb, a)
		res, out := ga.graphql(f.admin, `mutation($id: ID!) { deactivateUser(id: $id) { id } }`, map[string]any{"id": a.id})
		if res.Status != http.StatusOK || len(out.Errors) > 0 {
			t.Fatalf("deactivate: %d %s", res.Status, res.Body)
		}
		within(gb, a, http.StatusUnauthorized, 2*time.Second)
	})
	t.Run("revoked by another program", func(t *testing.T) {
		a := actor{name: "via psql", id: f.newUser("via-psql", "USER"), tenant: f.id}
		warmOn(ga, a)
		warmOn(gb, a)
		other, err := sql.Open("postgres", url)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if _, err := other.Exec(`UPDATE users SET is_active = false WHERE id = $1`, a.id); err != nil {
			t.Fatal(err)
		}
		within(ga, a, http.StatusUnauthorized, 2*time.Second)
		within(gb, a, http.StatusUnauthorized, 2*time.Second)
	})
	t.Run("listener killed", func(t *testing.T) {
		a := actor{name: "listener", id: f.newUser("listener", "USER"), tenant: f.id}
		warmOn(gb, a)
		gen, _ := second.AuthWatch().Generation(f.id)
		if _, err := db.SQL.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()`, store.AuthListenerName); err != nil {
			t.Fatal(err)
		}
		// Revoked by another program right away, possibly while B's
		// listener is down: B must refuse all the same — by the
		// notification, or by the flush when its listener is back.
		other, err := sql.Open("postgres", url)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if _, err := other.Exec(`UPDATE users SET access_revoked_at = now() + interval '1 hour' WHERE id = $1`, a.id); err != nil {
			t.Fatal(err)
		}
		within(gb, a, http.StatusUnauthorized, 2*time.Second)
		// B listens again, with a new generation, and serves from the
		// cache again.
		b := actor{name: "after the reconnection", id: f.newUser("reconnected", "USER"), tenant: f.id}
		warmOn(gb, b)
		if now, ok := second.AuthWatch().Generation(f.id); !ok || now <= gen {
			t.Fatalf("generation %d → %d (live %v)", gen, now, ok)
		}
	})
}

// An API key's user comes from the cache too (the key itself is read on
// every request, with the role it is narrowed to), and a key narrowed to a role
// narrows its own request only, never the cached viewer its user's
// tokens share.
func TestAPIKeysShareTheViewerCache(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		userRole, err := db.Role.Query().Where(role.TenantID(f.id), role.Name("User")).OnlyID(f.sys)
		f.must(err)
		res := g.do(f.admin, http.MethodPost, "/api/api-key", map[string]any{"name": "narrow", "roleId": userRole})
		var k createdKey
		res.JSON(t, &k)
		withKey := func() int {
			return g.Send(authtest.Request{Method: http.MethodGet, Path: "/api/api-key"}, "Bearer "+k.Secret).Status
		}
		for range 3 {
			if st := withKey(); st != http.StatusForbidden {
				t.Fatalf("narrowed key listing keys: %d, want 403", st)
			}
			if st := g.do(f.admin, http.MethodGet, "/api/api-key", nil).Status; st != http.StatusOK {
				t.Fatalf("the admin's token after the narrowed key: %d, want 200", st)
			}
		}
		before := db.Counter.Total()
		st := g.Send(authtest.Request{Method: http.MethodPost, Path: "/graphql", Body: `{"query":"{ __typename }"}`}, "Bearer "+k.Secret).Status
		// The key, its role and the role's permissions; none for its user.
		if n := db.Counter.Total() - before; st != http.StatusOK || n != 3 {
			t.Errorf("a warm API key request: %d, %d statements, want 200 and 3 (the key, its role, the role's permissions)", st, n)
		}
	})
}
