package store_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	neturl "net/url"
	"runtime"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/permission"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/roundrobincursor"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/faultnet"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestWritesAuthClassifiesStatements(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT u.user_type FROM users u WHERE u.id = $1`:                                         false,
		`SELECT "leads"."id" FROM "leads" JOIN "users" ON "users"."id" = "leads"."created_by_id"`: false,
		`WITH x AS (SELECT id FROM users) SELECT * FROM x`:                                        false,
		`INSERT INTO "leads" ("subject", "created_by_id") VALUES ($1, $2)`:                        false,
		`UPDATE "leads" SET "modified_by_id" = $1, "date_updated" = $2`:                           false,
		`INSERT INTO "lead_assignees" ("lead_id", "user_id") VALUES ($1, $2)`:                     false,
		`PRAGMA optimize`: false,
		`SELECT id FROM security_groups WHERE id = $1 FOR UPDATE`:                        false,
		`  (SELECT upper(replace(phone, ' ', '')) FROM users)`:                           false,
		`UPDATE users SET selected = true`:                                               true,
		`INSERT INTO "users" ("id", "email") VALUES ($1, $2) RETURNING "id"`:             true,
		"UPDATE `users` SET `is_active` = ? WHERE `users`.`id` = ?":                      true,
		`update Users set is_active = false`:                                             true,
		`DELETE FROM "user_roles" WHERE "user_id" = $1`:                                  true,
		`INSERT INTO role_permissions (role_id, permission_id) VALUES (?, ?)`:            true,
		`DELETE FROM "security_group_members" WHERE security_group_id = $1`:              true,
		`UPDATE "security_groups" SET "is_active" = $1`:                                  true,
		`UPDATE public.roles SET is_deleted = true`:                                      true,
		`TRUNCATE permissions CASCADE`:                                                   true,
		`WITH gone AS (DELETE FROM users WHERE id = $1 RETURNING id) SELECT 1`:           true,
		`INSERT OR REPLACE INTO users (id) VALUES (?)`:                                   true,
		`CREATE TRIGGER x AFTER UPDATE ON users FOR EACH STATEMENT EXECUTE FUNCTION f()`: true,
		// Comments are not read (River's job bookkeeping, abridged)…
		"-- name: JobSetStateIfRunningMany :many\nWITH job_input AS (SELECT unnest($1::bigint[]) AS id,\n" +
			"  -- To avoid requiring pgx users to register the OID\n  unnest($2::text[])::river_job_state AS state)\n" +
			"UPDATE river_job SET state = job_input.state FROM job_input WHERE river_job.id = job_input.id AND river_job.state = 'running'": false,
		`/* users */ UPDATE leads SET subject = $1`:                       false,
		`UPDATE leads /* nested /* users */ still a comment */ SET a = 1`: false,
		"-- users\nSELECT 1": false,
		"/* a comment first */ SELECT id FROM users FOR UPDATE": false,
		// …but everything outside them is, and no comment starts in a
		// string or a quoted identifier.
		"UPDATE users SET a = 1 -- trailing":                                true,
		"UPDATE leads SET a = '--'; UPDATE users SET a = 1":                 true,
		"UPDATE leads SET a = 'it''s -- x', b = 1; DELETE FROM users":       true,
		`UPDATE leads SET a = E'it\'s -- x'; DELETE FROM users`:             true,
		`UPDATE leads SET a = $q$ -- $q$; DELETE FROM users`:                true,
		"UPDATE \"a--b\" SET x = 1; DELETE FROM user_roles":                 true,
		"DO $$ BEGIN -- comment\n EXECUTE 'UPDATE users SET a = 1'; END $$": true,
		`UPDATE leads SET a = $1; /* */ DELETE FROM roles`:                  true,
	} {
		if got := store.WritesAuth(q); got != want {
			t.Errorf("WritesAuth(%q) = %v, want %v", q, got, want)
		}
	}
	// A write naming the permissions (of no tenant) may change every
	// tenant's viewers, whoever made it.
	for q, want := range map[string][2]bool{
		`UPDATE "permissions" SET "name" = $1 WHERE "id" = $2`:                             {true, true},
		`INSERT INTO permissions (id, name) VALUES ($1, $2)`:                               {true, true},
		`INSERT INTO role_permissions (role_id, permission_id) VALUES ($1, $2)`:            {true, false},
		`DELETE FROM role_permissions WHERE permission_id IN (SELECT id FROM permissions)`: {true, true},
		`UPDATE users SET is_active = false`:                                               {true, false},
		`SELECT name FROM permissions`:                                                     {false, false},
		// An UPDATE setting only columns viewers are not read from, each
		// to a parameter or NULL (ent's renames), changes no viewer…
		`UPDATE "users" SET "display_name" = $1, "date_modified" = $2, "modified_by_id" = $3 WHERE "id" = $4`: {false, false},
		"UPDATE `users` SET `firstname` = ?, `lastname` = NULL WHERE `users`.`id` = ? AND `tenant_id` = ?":    {false, false},
		`UPDATE roles SET name = $1 WHERE id = $2 RETURNING id`:                                               {false, false},
		`UPDATE security_groups SET name = $1, members_order = $2`:                                            {false, false},
		`update "permissions" set "description" = $1`:                                                         {false, false},
		// …anything else may.
		`UPDATE "users" SET "display_name" = $1, "is_active" = $2 WHERE "id" = $3`:             {true, false},
		`UPDATE users SET IS_ACTIVE = $1 WHERE id = $2`:                                        {true, false},
		`UPDATE "users" SET "Access_Revoked_At" = $1`:                                          {true, false},
		`UPDATE users SET display_name = display_name`:                                         {true, false},
		`UPDATE users SET display_name = 'x'`:                                                  {true, false},
		`UPDATE users SET display_name = $1 WHERE id = $2; UPDATE users SET is_active = false`: {true, false},
		`UPDATE users SET display_name = $1 WHERE id IN (SELECT id FROM x) /* ; */`:            {true, false},
		`UPDATE users SET display_name = $1 RETURNING (DELETE)`:                                {true, false},
		`UPDATE users SET display_name = $1 FROM roles WHERE true`:                             {true, false},
		`UPDATE users /* c */ SET display_name = $1`:                                           {true, false},
		`UPDATE users SET (display_name, is_active) = ($1, $2)`:                                {true, false},
		`UPDATE users SET "display_name = $1`:                                                  {true, false},
		`UPDATE leads SET display_name = $1`:                                                   {false, false},
		`UPDATE users SET tenant_id = $1`:                                                      {true, false},
		`UPDATE "permissions" SET "name" = $1`:                                                 {true, true},
	} {
		if w, g := store.ClassifyAuth(q); w != want[0] || g != want[1] {
			t.Errorf("ClassifyAuth(%q) = %v, %v, want %v, %v", q, w, g, want[0], want[1])
		}
	}
}

// Every way this process writes the tables viewers are read from moves
// the generation — ent's mutations of each entity and edge (create,
// update, delete, one and many), hand-written SQL on the pool, in a
// transaction (again after its commit) and as a prepared statement — and
// nothing else does: reads, and writes of other tables.
func TestEveryWriteOfTheViewerTablesMovesTheGeneration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := tenancy.Bypass(context.Background())
		w := db.AuthWatch()
		if db.Dialect == dialect.Postgres {
			db.ListenAuthChanges(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), 5*time.Second)
		}
		tid := storetest.TenantID(t, db, "demo-motors.test")
		uid := storetest.UserID(t, db, "user@demo-motors.test")
		// System work (the bypass) may write any tenant: every write here
		// moves every tenant's generation, this one's too.
		gen := func() uint64 {
			t.Helper()
			g, ok := w.Generation(tid)
			if !ok {
				t.Fatal("the watch is not live")
			}
			return g
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		moves := func(what string, write func()) {
			t.Helper()
			before := gen()
			write()
			if gen() == before {
				t.Errorf("%s did not move the generation", what)
			}
		}
		pid, err := db.Permission.Query().Where(permission.Name("account.read")).OnlyID(ctx)
		must(err)

		// Reads, and writes elsewhere, keep it. (On PostgreSQL the
		// listener may still deliver an earlier notification: let it.)
		time.Sleep(100 * time.Millisecond)
		before := gen()
		_, err = db.User.Query().WithRoles().WithSecurityGroups().All(ctx)
		must(err)
		_, err = db.Role.Query().WithPermissions().All(ctx)
		must(err)
		must(db.Tenant.UpdateOneID(tid).SetName("Demo Motors").Exec(ctx))
		// A round-robin turn (internal/crm's nextRoundRobin): the group's
		// row locked, its cursor in a table of its own.
		group, err := db.SecurityGroup.Query().Where(securitygroup.TenantID(tid)).First(ctx)
		must(err)
		rr, err := db.Tx(ctx)
		must(err)
		_, err = rr.SecurityGroup.Query().Where(securitygroup.ID(group.ID)).Select(securitygroup.FieldID).Modify(func(s *entsql.Selector) {
			if s.Dialect() == dialect.Postgres {
				s.For(entsql.LockNoKeyUpdate)
			}
		}).Strings(ctx)
		must(err)
		must(rr.RoundRobinCursor.Create().SetTenantID(tid).SetSecurityGroupID(group.ID).SetTurn(1).
			OnConflictColumns(roundrobincursor.FieldSecurityGroupID).
			Update(func(u *ent.RoundRobinCursorUpsert) { u.AddTurn(1) }).Exec(ctx))
		must(rr.Commit())
		// So does a rename: no column a viewer is read from (ent's, and
		// hand-written SQL that sets parameters).
		must(db.User.UpdateOneID(uid).SetDisplayName("user").SetFirstname("U").Exec(ctx))
		must(db.Role.Update().Where(role.TenantID(tid), role.Name("User")).SetName("User").Exec(ctx))
		_, err = db.SQL.ExecContext(ctx, db.Rebind(`UPDATE users SET display_name = ? WHERE id = ?`), "user", uid)
		must(err)
		if gen() != before {
			t.Errorf("reads, renames and other writes moved the generation %d → %d", before, gen())
		}

		var newUser, newRole, newGroup uuid.UUID
		moves("User.Create", func() {
			u, err := db.User.Create().SetTenantID(tid).SetUsername("w@demo-motors.test").SetEmail("w@demo-motors.test").
				SetDisplayName("w").SetUserType(user.UserTypeUSER).Save(ctx)
			must(err)
			newUser = u.ID
		})
		moves("User.UpdateOne", func() { must(db.User.UpdateOneID(newUser).SetIsActive(false).Exec(ctx)) })
		moves("User.Update", func() { _, err := db.User.Update().Where(user.ID(newUser)).SetIsActive(true).Save(ctx); must(err) })
		moves("Role.Create", func() {
			r, err := db.Role.Create().SetTenantID(tid).SetName("watched").Save(ctx)
			must(err)
			newRole = r.ID
		})
		moves("role_permissions add", func() { must(db.Role.UpdateOneID(newRole).AddPermissionIDs(pid).Exec(ctx)) })
		moves("role_permissions remove", func() { must(db.Role.UpdateOneID(newRole).RemovePermissionIDs(pid).Exec(ctx)) })
		moves("user_roles add", func() { must(db.User.UpdateOneID(newUser).AddRoleIDs(newRole).Exec(ctx)) })
		moves("user_roles remove", func() { must(db.User.UpdateOneID(newUser).RemoveRoleIDs(newRole).Exec(ctx)) })
		moves("Role.Update", func() { _, err := db.Role.Update().Where(role.ID(newRole)).SetIsDeleted(false).Save(ctx); must(err) })
		moves("SecurityGroup.Create", func() {
			g, err := db.SecurityGroup.Create().SetTenantID(tid).SetName("watched").Save(ctx)
			must(err)
			newGroup = g.ID
		})
		moves("security_group_members add", func() { must(db.SecurityGroup.UpdateOneID(newGroup).AddMemberIDs(uid).Exec(ctx)) })
		moves("security_group_members remove", func() { must(db.SecurityGroup.UpdateOneID(newGroup).RemoveMemberIDs(uid).Exec(ctx)) })
		moves("SecurityGroup.Update", func() {
			_, err := db.SecurityGroup.Update().Where(securitygroup.ID(newGroup)).SetIsActive(false).Save(ctx)
			must(err)
		})
		moves("SecurityGroup.DeleteOne", func() { must(db.SecurityGroup.DeleteOneID(newGroup).Exec(ctx)) })
		moves("Role.DeleteOne", func() { must(db.Role.DeleteOneID(newRole).Exec(ctx)) })
		moves("User.Delete", func() { _, err := db.User.Delete().Where(user.ID(newUser)).Exec(ctx); must(err) })
		moves("Permission.Update", func() {
			_, err := db.Permission.Update().Where(permission.ID(pid)).SetName("account.read").Save(ctx)
			must(err)
		})
		moves("raw UPDATE", func() {
			_, err := db.SQL.ExecContext(ctx, db.Rebind(`UPDATE users SET display_name = display_name WHERE id = ?`), uid)
			must(err)
		})
		moves("raw prepared UPDATE", func() {
			s, err := db.SQL.PrepareContext(ctx, db.Rebind(`UPDATE users SET display_name = display_name WHERE id = ?`))
			must(err)
			defer s.Close()
			_, err = s.ExecContext(ctx, uid)
			must(err)
		})
		moves("raw UPDATE … RETURNING", func() {
			rows, err := db.SQL.QueryContext(ctx, db.Rebind(`UPDATE users SET display_name = display_name WHERE id = ? RETURNING id`), uid)
			must(err)
			must(rows.Close())
		})
		moves("ent transaction", func() {
			tx, err := db.Tx(ctx)
			must(err)
			must(tx.User.UpdateOneID(uid).SetIsActive(true).Exec(ctx))
			must(tx.Commit())
		})

		// A transaction moves it again after its commit: a viewer read
		// between its write and its commit saw the old rows.
		tx, err := db.SQL.BeginTx(ctx, nil)
		must(err)
		_, err = tx.ExecContext(ctx, db.Rebind(`UPDATE users SET display_name = display_name WHERE id = ?`), uid)
		must(err)
		mid := gen()
		must(tx.Commit())
		if gen() == mid {
			t.Error("the commit did not move the generation")
		}
		// A rolled-back one too (harmlessly).
		tx, err = db.SQL.BeginTx(ctx, nil)
		must(err)
		_, err = tx.ExecContext(ctx, db.Rebind(`DELETE FROM user_roles WHERE user_id = ?`), uid)
		must(err)
		mid = gen()
		must(tx.Rollback())
		if gen() == mid {
			t.Error("the rollback did not move the generation")
		}
	})
}

// PostgreSQL: the watch is live only while its listener listens. Cut off
// (the proxy drops the connection and refuses new ones), it is not live —
// a cache falls back to reading — and a change made meanwhile, whose
// notification is lost, is covered: the generation moves when the
// listener is back, before the watch is live again.
func TestAuthWatchIsLiveOnlyWhileListening(t *testing.T) {
	db := storetest.Open(t, dialect.Postgres)
	url := storetest.DBURL(t, db)
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultnet.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	u.Host = p.Addr()
	goroutines := runtime.NumGoroutine()
	second, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	store.ListenAuthChangesThrough(second, u.String(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := second.AuthWatch()
	tid := storetest.TenantID(t, db, "demo-motors.test")
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	gen, ok := w.Generation(tid)
	if !ok {
		t.Fatal("not live after ListenAuthChanges")
	}
	// Another process's change arrives as a notification.
	other, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(`UPDATE users SET access_revoked_at = now() WHERE email = 'user@demo-motors.test'`); err != nil {
		t.Fatal(err)
	}
	waitFor("the notification", func() bool { g, ok := w.Generation(tid); return ok && g > gen })

	// This instance's own write that its connections cannot classify (a
	// SELECT of a function that writes) reaches it by its own notification.
	if _, err := second.SQL.Exec(`CREATE OR REPLACE FUNCTION touch_user() RETURNS void LANGUAGE sql AS
		$$ UPDATE users SET access_revoked_at = now() WHERE email = 'user@demo-motors.test' $$`); err != nil {
		t.Fatal(err)
	}
	gen, _ = w.Generation(tid)
	if _, err := second.SQL.Exec(`SELECT touch_user()`); err != nil {
		t.Fatal(err)
	}
	waitFor("its own notification", func() bool { g, ok := w.Generation(tid); return ok && g > gen })

	last, _ := w.Generation(tid)
	p.Set(faultnet.Down)
	waitFor("not live once the listener is cut", func() bool { _, ok := w.Generation(tid); return !ok })
	if _, err := other.Exec(`UPDATE users SET access_revoked_at = now() WHERE email = 'user@demo-motors.test'`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, ok := w.Generation(tid); ok {
		t.Fatal("live while the listener cannot connect")
	}
	p.Set(faultnet.Up)
	waitFor("live again", func() bool { _, ok := w.Generation(tid); return ok })
	if g, _ := w.Generation(tid); g <= last {
		t.Fatalf("live again at generation %d, not past %d (before the gap)", g, last)
	}
	// Close ends the listener (it waits for its goroutines): no longer
	// live, and no goroutine of the database or its listener is left.
	other.Close()
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Generation(tid); ok {
		t.Fatal("live after Close")
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > goroutines {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before Open:\n%s", runtime.NumGoroutine(), goroutines, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A write the data layer confines to the viewer's tenant (an ent mutation
// under a viewer) moves that tenant's generation only; the same write as
// system work, hand-written SQL under the viewer, or a write of the
// permission catalogue moves every tenant's.
func TestTenantWritesMoveThatTenantsGenerationOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := db.AuthWatch()
		if db.Dialect == dialect.Postgres {
			db.ListenAuthChanges(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), 5*time.Second)
		}
		demo, north := storetest.TenantID(t, db, "demo-motors.test"), storetest.TenantID(t, db, "northwind-auto.test")
		admin := storetest.As(t, db, "admin@demo-motors.test")
		uid := storetest.UserID(t, db, "user@demo-motors.test")
		gen := func(tenant uuid.UUID) uint64 {
			t.Helper()
			g, ok := w.Generation(tenant)
			if !ok {
				t.Fatal("the watch is not live")
			}
			return g
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// Let the notifications of the fixture's writes arrive.
		for last := gen(north); ; last = gen(north) {
			time.Sleep(150 * time.Millisecond)
			if gen(north) == last {
				break
			}
		}
		tenantOnly := func(what string, write func()) {
			t.Helper()
			d, n, all := gen(demo), gen(north), w.Moves()
			write()
			if gen(demo) == d {
				t.Errorf("%s did not move its tenant's generation", what)
			}
			if gen(north) != n || w.Moves() != all {
				t.Errorf("%s moved every tenant's generation", what)
			}
		}
		everyTenant := func(what string, write func()) {
			t.Helper()
			d, n := gen(demo), gen(north)
			write()
			if gen(demo) == d || gen(north) == n {
				t.Errorf("%s did not move every tenant's generation (%d → %d, %d → %d)", what, d, gen(demo), n, gen(north))
			}
		}
		pid, err := db.Permission.Query().Where(permission.Name("account.read")).OnlyID(admin)
		must(err)
		var newUser, newRole, newGroup uuid.UUID
		tenantOnly("User.Create", func() {
			u, err := db.User.Create().SetUsername("t@demo-motors.test").SetEmail("t@demo-motors.test").
				SetDisplayName("t").SetUserType(user.UserTypeUSER).Save(admin)
			must(err)
			newUser = u.ID
		})
		// (The creation's notification may still be on its way: let it.)
		for last := gen(demo); ; last = gen(demo) {
			time.Sleep(150 * time.Millisecond)
			if gen(demo) == last {
				break
			}
		}
		d, n := gen(demo), gen(north)
		must(db.User.UpdateOneID(newUser).SetDisplayName("T").Exec(admin))
		if gen(demo) != d || gen(north) != n {
			t.Error("a rename moved a generation")
		}
		tenantOnly("a deactivation", func() { must(db.User.UpdateOneID(newUser).SetIsActive(false).Exec(admin)) })
		tenantOnly("Role.Create with permissions", func() {
			r, err := db.Role.Create().SetName("scoped").AddPermissionIDs(pid).Save(admin)
			must(err)
			newRole = r.ID
		})
		tenantOnly("role_permissions remove", func() { must(db.Role.UpdateOneID(newRole).RemovePermissionIDs(pid).Exec(admin)) })
		tenantOnly("user_roles add", func() { must(db.User.UpdateOneID(uid).AddRoleIDs(newRole).Exec(admin)) })
		tenantOnly("user_roles remove", func() { must(db.Role.UpdateOneID(newRole).RemoveUserIDs(uid).Exec(admin)) })
		tenantOnly("SecurityGroup.Create with a member", func() {
			g, err := db.SecurityGroup.Create().SetName("scoped").AddMemberIDs(uid).Save(admin)
			must(err)
			newGroup = g.ID
		})
		tenantOnly("security_group_members remove", func() { must(db.SecurityGroup.UpdateOneID(newGroup).ClearMembers().Exec(admin)) })
		tenantOnly("SecurityGroup.DeleteOne", func() { must(db.SecurityGroup.DeleteOneID(newGroup).Exec(admin)) })
		tenantOnly("Role.DeleteOne", func() { must(db.Role.DeleteOneID(newRole).Exec(admin)) })
		tenantOnly("an ent transaction", func() {
			tx, err := db.Tx(admin)
			must(err)
			must(tx.User.UpdateOneID(newUser).SetIsActive(true).Exec(admin))
			must(tx.User.DeleteOneID(newUser).Exec(admin))
			mid := gen(demo)
			must(tx.Commit())
			if gen(demo) == mid {
				t.Error("the commit did not move the tenant's generation")
			}
		})

		everyTenant("the same write as system work", func() {
			must(db.User.UpdateOneID(uid).SetIsActive(true).Exec(tenancy.Bypass(admin)))
		})
		everyTenant("hand-written SQL under a viewer", func() {
			_, err := db.SQL.ExecContext(admin, db.Rebind(`UPDATE users SET is_active = ? WHERE id = ?`), true, uid)
			must(err)
		})
		everyTenant("the permission catalogue", func() {
			_, err := db.Permission.Update().Where(permission.ID(pid)).SetName("account.read").Save(admin)
			must(err)
		})
		everyTenant("a transaction mixing both", func() {
			tx, err := db.Tx(admin)
			must(err)
			must(tx.User.UpdateOneID(uid).SetDisplayName("user").Exec(admin))
			_, err = tx.Permission.Update().Where(permission.ID(pid)).SetName("account.read").Save(admin)
			must(err)
			d, n := gen(demo), gen(north)
			must(tx.Commit())
			if gen(demo) == d || gen(north) == n {
				t.Error("the commit did not move every tenant's generation")
			}
		})
	})
}
