package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// authTriggerNames returns the notification triggers of the viewer tables
// (any version), by table.
func authTriggerNames(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	rows, err := db.SQL.Query(`SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE t.tgname LIKE 'conecrm_auth%' AND NOT t.tgisinternal ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][]string{}
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			t.Fatal(err)
		}
		got[table] = append(got[table], name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

var currentAuthTriggers = []string{"conecrm_auth_v2_truncate", "conecrm_auth_v2_update", "conecrm_auth_v2_write"}

func checkCurrentAuthTriggers(t *testing.T, db *store.DB) {
	t.Helper()
	got := authTriggerNames(t, db)
	if len(got) != len(store.AuthTables) {
		t.Errorf("triggers on %v, want on each of %v only", got, store.AuthTables)
	}
	for _, table := range store.AuthTables {
		if !slices.Equal(got[table], currentAuthTriggers) {
			t.Errorf("%s: triggers %v, want %v", table, got[table], currentAuthTriggers)
		}
	}
	var old int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM pg_proc WHERE proname = 'conecrm_auth_changed'`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	if old != 0 {
		t.Error("the previous version's trigger function is left")
	}
}

// migrate gives every table viewers are read from the current
// notification triggers; running it again changes nothing, and a database
// migrated by the previous version (one statement-level trigger per table,
// notifying every change) gets its triggers replaced.
func TestMigrateReplacesTheAuthTriggers(t *testing.T) {
	db := storetest.Open(t, dialect.Postgres)
	ctx := context.Background()
	checkCurrentAuthTriggers(t, db) // the template was migrated already
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkCurrentAuthTriggers(t, db)

	// The previous version's triggers, as it created them; one table
	// with none at all (a table the previous version did not watch).
	if _, err := db.SQL.Exec(`CREATE OR REPLACE FUNCTION conecrm_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('conecrm_auth', '');
  RETURN NULL;
END $$`); err != nil {
		t.Fatal(err)
	}
	for i, table := range store.AuthTables {
		for _, name := range currentAuthTriggers {
			if _, err := db.SQL.Exec(`DROP TRIGGER ` + name + ` ON ` + table); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			continue
		}
		if _, err := db.SQL.Exec(`CREATE TRIGGER conecrm_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ` + table +
			` FOR EACH STATEMENT EXECUTE FUNCTION conecrm_auth_changed()`); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkCurrentAuthTriggers(t, db)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkCurrentAuthTriggers(t, db)
}

// The triggers notify a change of what a viewer is read from, with the
// tenant whose viewers it changes, and nothing else: not a column viewers
// are not read from (a rename), not a statement that changed no row or no
// value.
func TestAuthTriggersNotifyTheViewersTenant(t *testing.T) {
	db := storetest.Open(t, dialect.Postgres)
	url := storetest.DBURL(t, db)
	payloads := storetest.AuthPayloads(t, url)
	sys := tenancy.Bypass(context.Background())
	demo, north := storetest.TenantID(t, db, "demo-motors.test"), storetest.TenantID(t, db, "northwind-auto.test")
	user := storetest.UserID(t, db, "user@demo-motors.test")
	northUser := storetest.UserID(t, db, "user@northwind-auto.test")
	demoRole, err := db.Role.Query().Where(role.TenantID(demo), role.Name("User")).OnlyID(sys)
	if err != nil {
		t.Fatal(err)
	}
	demoGroup, err := db.SecurityGroup.Query().Where(securitygroup.TenantID(demo)).FirstID(sys)
	if err != nil {
		t.Fatal(err)
	}
	// Another program: no gateway connection, no context.
	other, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var perm uuid.UUID
	if err := other.QueryRow(`SELECT id FROM permissions WHERE name = 'account.read'`).Scan(&perm); err != nil {
		t.Fatal(err)
	}
	payloads() // the fixture's
	for _, c := range []struct {
		what, q string
		args    []any
		want    []string
	}{
		{"a user renamed", `UPDATE users SET display_name = 'Renamed', firstname = 'R', date_modified = now() WHERE id = $1`, []any{user}, nil},
		{"a viewer column set to its value", `UPDATE users SET is_active = is_active, user_type = user_type WHERE id = $1`, []any{user}, nil},
		{"no row changed", `UPDATE users SET is_active = false WHERE id = $1`, []any{uuid.New()}, nil},
		{"no join row deleted", `DELETE FROM user_roles WHERE user_id = $1`, []any{uuid.New()}, nil},
		{"a role renamed", `UPDATE roles SET name = name || ' 2' WHERE id = $1`, []any{demoRole}, nil},
		{"a group renamed and reordered", `UPDATE security_groups SET name = name || ' 2', members_order = NULL WHERE id = $1`, []any{demoGroup}, nil},
		{"a user deactivated", `UPDATE users SET is_active = false WHERE id = $1`, []any{user}, []string{demo.String()}},
		{"a user reactivated", `UPDATE users SET is_active = true, access_revoked_at = now() WHERE id = $1`, []any{user}, []string{demo.String()}},
		{"a user's type", `UPDATE users SET user_type = 'MANAGER' WHERE id = $1`, []any{user}, []string{demo.String()}},
		{"a user deleted (soft)", `UPDATE users SET is_deleted = true WHERE id = $1`, []any{user}, []string{demo.String()}},
		{"a user undeleted", `UPDATE users SET is_deleted = false, user_type = 'USER' WHERE id = $1`, []any{user}, []string{demo.String()}},
		{"a role's users removed", `DELETE FROM user_roles WHERE role_id = $1 AND user_id = $2`, []any{demoRole, user}, []string{demo.String()}},
		{"a role given", `INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)`, []any{user, demoRole}, []string{demo.String()}},
		{"a permission removed", `DELETE FROM role_permissions WHERE role_id = $1 AND permission_id = $2`, []any{demoRole, perm}, []string{demo.String()}},
		{"a permission added", `INSERT INTO role_permissions (role_id, permission_id) VALUES ($1, $2)`, []any{demoRole, perm}, []string{demo.String()}},
		{"a role deleted (soft)", `UPDATE roles SET is_deleted = true WHERE id = $1`, []any{demoRole}, []string{demo.String()}},
		{"a role restored", `UPDATE roles SET is_deleted = false WHERE id = $1`, []any{demoRole}, []string{demo.String()}},
		{"a member added", `INSERT INTO security_group_members (security_group_id, user_id) VALUES ($1, $2)`, []any{demoGroup, northUser}, []string{demo.String()}},
		{"a member removed", `DELETE FROM security_group_members WHERE security_group_id = $1 AND user_id = $2`, []any{demoGroup, northUser}, []string{demo.String()}},
		{"a group deactivated", `UPDATE security_groups SET is_active = NOT is_active WHERE id = $1`, []any{demoGroup}, []string{demo.String()}},
		{"a group reactivated", `UPDATE security_groups SET is_active = NOT is_active WHERE id = $1`, []any{demoGroup}, []string{demo.String()}},
		// Many rows of one tenant: one notification (PostgreSQL folds
		// identical ones within a transaction).
		{"a tenant's users revoked", `UPDATE users SET access_revoked_at = now() WHERE tenant_id = $1`, []any{demo}, []string{demo.String()}},
		// Two tenants' rows: each tenant's.
		{"two tenants' users revoked", `UPDATE users SET access_revoked_at = now() WHERE id IN ($1, $2)`, []any{user, northUser},
			[]string{demo.String(), north.String()}},
		// The catalogue belongs to no tenant: every tenant's.
		{"a permission renamed", `UPDATE permissions SET name = name || '.x' WHERE id = $1`, []any{perm}, []string{""}},
		{"a permission's name back", `UPDATE permissions SET name = 'account.read' WHERE id = $1`, []any{perm}, []string{""}},
		{"a permission's name set to itself", `UPDATE permissions SET name = name WHERE id = $1`, []any{perm}, nil},
	} {
		if _, err := other.Exec(c.q, c.args...); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		want := c.want
		if want == nil {
			want = []string{}
		}
		slices.Sort(want)
		if got := payloads(); !slices.Equal(got, want) {
			t.Errorf("%s: notified %q, want %q", c.what, got, want)
		}
	}

	// A transaction of several writes of one tenant: one notification, at
	// its commit; a rolled-back one, none.
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE users SET is_active = false WHERE id = $1`, `UPDATE users SET is_active = true WHERE id = $1`,
		`DELETE FROM user_roles WHERE user_id = $1`} {
		if _, err := tx.Exec(q, user); err != nil {
			t.Fatal(err)
		}
	}
	if got := payloads(); len(got) != 0 {
		t.Errorf("before the commit: notified %q", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := payloads(); !slices.Equal(got, []string{demo.String()}) {
		t.Errorf("a transaction: notified %q, want one %q", got, demo)
	}
	tx, err = other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE users SET is_active = false WHERE tenant_id = $1`, north); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := payloads(); len(got) != 0 {
		t.Errorf("a rollback: notified %q", got)
	}
	// TRUNCATE names no rows: every tenant's.
	if _, err := other.Exec(`TRUNCATE security_group_members`); err != nil {
		t.Fatal(err)
	}
	if got := payloads(); !slices.Equal(got, []string{""}) {
		t.Errorf("TRUNCATE: notified %q, want every tenant's (\"\")", got)
	}
}

// The update trigger's column list is AuthColumns (which a crm test holds
// to viewerSQL).
func TestAuthUpdateTriggersWatchTheViewerColumns(t *testing.T) {
	for _, table := range store.AuthTables {
		cols := store.AuthColumns(table)
		if len(cols) == 0 {
			t.Errorf("%s: no columns watched", table)
			continue
		}
		stmts := store.AuthTriggerStatements(table)
		if len(stmts) != 3 || !strings.Contains(stmts[1], "AFTER UPDATE OF "+strings.Join(cols, ", ")+" ON "+table) {
			t.Errorf("%s: %q", table, stmts)
		}
	}
}
