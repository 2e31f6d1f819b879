package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
)

// authTableSpec is a table of AuthTables as its PostgreSQL triggers see it:
// the columns viewerSQL reads of it (crm's TestViewerCacheWatchesEveryColumnItReads
// checks them against viewerSQL) and how a row names the tenant whose
// viewers it is part of — a PL/pgSQL expression over the row R (OLD or
// NEW); "" for a table of no tenant.
type authTableSpec struct {
	name    string
	columns []string
	tenant  string
}

var authTableSpecs = []authTableSpec{
	{"users", []string{"id", "tenant_id", "user_type", "access_revoked_at", "is_active", "is_deleted"}, "R.tenant_id"},
	// A role held, or one of its permissions, counts in the viewer of
	// the role's tenant only (viewerSQL: r.tenant_id = the viewer's).
	{"user_roles", []string{"user_id", "role_id"}, "(SELECT tenant_id FROM roles WHERE id = R.role_id)"},
	{"roles", []string{"id", "tenant_id", "is_deleted"}, "R.tenant_id"},
	{"role_permissions", []string{"role_id", "permission_id"}, "(SELECT tenant_id FROM roles WHERE id = R.role_id)"},
	{"permissions", []string{"id", "name"}, ""},
	{"security_group_members", []string{"security_group_id", "user_id"},
		"(SELECT tenant_id FROM security_groups WHERE id = R.security_group_id)"},
	{"security_groups", []string{"id", "tenant_id", "is_active", "is_deleted"}, "R.tenant_id"},
}

// AuthColumns returns the columns of table the PostgreSQL triggers watch
// (nil for a table not of AuthTables).
func AuthColumns(table string) []string {
	for _, t := range authTableSpecs {
		if t.name == table {
			return t.columns
		}
	}
	return nil
}

// The notification triggers every table of AuthTables carries on
// PostgreSQL (migrateAuthTriggers). They notify AuthChannel — delivered at
// the commit, not at all on a rollback — whoever wrote: this gateway,
// another instance, psql. Every instance acts on every notification, its
// own writes' too (a harmless second move, and nothing a connection pooler
// would have to pass).
//
// Row-level, so that only statements that changed rows notify, and an
// UPDATE only when it changed a column viewerSQL reads (UPDATE OF …,
// WHEN … IS DISTINCT FROM …): renaming a user, a role or a group, or a
// statement that matched no row, notifies no one. The payload is the
// row's tenant (for a join table, its role's or group's), so the other
// instances drop that tenant's viewers only; ” — a table of no tenant
// (permissions), a row whose role or group is gone, TRUNCATE — means every
// tenant. PostgreSQL folds identical notifications of one transaction, so
// a bulk write of one tenant sends one. (Statement-level triggers with
// transition tables would have to compare every changed row with its old
// version in PL/pgSQL, and cannot be limited to columns; docs/
// benchmarks.md, session 8, measures both.)
//
// The names carry a version: a change of what they do gets new names, so
// migrate replaces the triggers of an older version (conecrm_auth_changed,
// statement-level, notifying ”) and leaves current ones alone.
const (
	authTriggerPrefix   = "conecrm_auth_"
	authTriggerWrite    = "conecrm_auth_v2_write"    // INSERT, DELETE
	authTriggerUpdate   = "conecrm_auth_v2_update"   // UPDATE of a watched column
	authTriggerTruncate = "conecrm_auth_v2_truncate" // TRUNCATE: every tenant
	authAllFunction     = "conecrm_auth_v2_all"
	// authTriggerV1 is the previous version's trigger: statement-level,
	// any change, no payload (every tenant).
	authTriggerV1 = "conecrm_auth_changed"
)

var authTriggerNames = []string{authTriggerTruncate, authTriggerUpdate, authTriggerWrite} // sorted

func authRowFunction(t authTableSpec) string { return "conecrm_auth_v2_" + t.name }

// authFunctions returns the statements that (re)create the triggers'
// functions.
func authFunctions() []string {
	notify := `PERFORM pg_notify('` + AuthChannel + `', %s);`
	out := []string{`CREATE OR REPLACE FUNCTION ` + authAllFunction + `() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ` + fmt.Sprintf(notify, "''") + `
  RETURN NULL;
END $$`}
	for _, t := range authTableSpecs {
		var body string
		if t.tenant == "" {
			body = "  " + fmt.Sprintf(notify, "''")
		} else {
			of := func(row string) string {
				return "coalesce(CAST(" + strings.ReplaceAll(t.tenant, "R.", row+".") + " AS text), '')"
			}
			// An UPDATE that moved a row to another tenant (none of the
			// gateway's) notifies both.
			body = `  IF TG_OP <> 'INSERT' THEN
    old_tenant := ` + of("OLD") + `;
    ` + fmt.Sprintf(notify, "old_tenant") + `
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_tenant := ` + of("NEW") + `;
    IF new_tenant IS DISTINCT FROM old_tenant THEN
      ` + fmt.Sprintf(notify, "new_tenant") + `
    END IF;
  END IF;`
		}
		out = append(out, `CREATE OR REPLACE FUNCTION `+authRowFunction(t)+`() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_tenant text;
  new_tenant text;
BEGIN
`+body+`
  RETURN NULL;
END $$`)
	}
	return out
}

// authTriggerStatements returns the statements that create t's triggers.
func authTriggerStatements(t authTableSpec) []string {
	changed := make([]string, len(t.columns))
	for i, c := range t.columns {
		changed[i] = "OLD." + c + " IS DISTINCT FROM NEW." + c
	}
	fn := authRowFunction(t) + "()"
	return []string{
		`CREATE TRIGGER ` + authTriggerWrite + ` AFTER INSERT OR DELETE ON ` + t.name + ` FOR EACH ROW EXECUTE FUNCTION ` + fn,
		`CREATE TRIGGER ` + authTriggerUpdate + ` AFTER UPDATE OF ` + strings.Join(t.columns, ", ") + ` ON ` + t.name +
			` FOR EACH ROW WHEN (` + strings.Join(changed, " OR ") + `) EXECUTE FUNCTION ` + fn,
		`CREATE TRIGGER ` + authTriggerTruncate + ` AFTER TRUNCATE ON ` + t.name + ` FOR EACH STATEMENT EXECUTE FUNCTION ` + authAllFunction + `()`,
	}
}

// authTriggerLock is the advisory lock two instances migrating at once
// take around the triggers' replacement.
const authTriggerLock = 0x636f6e6563726d // "conecrm"

// migrateAuthTriggers gives every table of AuthTables the current
// notification triggers (PostgreSQL): the functions are replaced, a
// table's triggers only when they are not exactly the current ones — those
// of an older version are dropped — in one transaction, so no write is
// ever unwatched.
func (db *DB) migrateAuthTriggers(ctx context.Context) error {
	if db.Dialect != dialect.Postgres {
		return nil
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("auth triggers: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, authTriggerLock); err != nil {
		return fmt.Errorf("auth triggers: %w", err)
	}
	for _, q := range authFunctions() {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("auth triggers: %w", err)
		}
	}
	have, err := authTriggers(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range authTableSpecs {
		if slices.Equal(have[t.name], authTriggerNames) {
			continue
		}
		for _, name := range have[t.name] {
			if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+name+` ON `+t.name); err != nil {
				return fmt.Errorf("auth triggers: %s: %w", t.name, err)
			}
		}
		for _, q := range authTriggerStatements(t) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("auth triggers: %s: %w", t.name, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP FUNCTION IF EXISTS `+authTriggerV1+`()`); err != nil {
		return fmt.Errorf("auth triggers: %w", err)
	}
	return tx.Commit()
}

type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// authTriggers returns the notification triggers (of any version) of the
// current schema's tables, by table, their names sorted.
func authTriggers(ctx context.Context, q queryer) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.relname, t.tgname FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid
		WHERE starts_with(t.tgname, $1) AND NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace
		ORDER BY 1, 2`, authTriggerPrefix)
	if err != nil {
		return nil, fmt.Errorf("auth triggers: %w", err)
	}
	defer rows.Close()
	have := map[string][]string{}
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			return nil, err
		}
		have[table] = append(have[table], name)
	}
	return have, rows.Err()
}

// watched reports whether every table of AuthTables notifies its changes:
// with the current triggers, or with an older version's (which notify
// every change to every tenant: coarser, never missed).
func watched(have map[string][]string) bool {
	for _, t := range AuthTables {
		if !slices.Equal(have[t], authTriggerNames) && !slices.Contains(have[t], authTriggerV1) {
			return false
		}
	}
	return true
}
