package store_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A database migrated before the sort indexes ended with the id has
// (tenant_id, name) where the schema now has (tenant_id, name, id): migrate
// creates the new index, drops the old one (writes would keep updating it
// for nothing) and analyses again, so the new index has its statistics
// (SQLite plans the sorted page by them: internal/rest's plan test). A
// date_created index that ended with the id (briefly) goes the same way.
func TestMigrateReplacesSortIndexesWithoutTheID(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, q := range []string{
			`DROP INDEX account_tenant_id_name_id`,
			`CREATE INDEX account_tenant_id_name ON accounts (tenant_id, name)`,
			`CREATE INDEX contact_tenant_id_date_created_id ON contacts (tenant_id, date_created, id)`,
		} {
			if _, err := db.SQL.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if db.Dialect == dialect.SQLite {
			if _, err := db.SQL.ExecContext(ctx, `DELETE FROM sqlite_stat1`); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		indexes := `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`
		if db.Dialect == dialect.Postgres {
			indexes = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`
		}
		for name, want := range map[string]int{"account_tenant_id_name": 0, "account_tenant_id_name_id": 1, "contact_tenant_id_last_name_id": 1,
			"contact_tenant_id_date_created_id": 0, "contact_tenant_id_date_created": 1} {
			var n int
			if err := db.SQL.QueryRowContext(ctx, indexes, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("after migrate: %d indexes %s, want %d", n, name, want)
			}
		}
		if db.Dialect == dialect.SQLite {
			var n int
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE idx = 'account_tenant_id_name_id'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("the new index has %d stat1 rows after migrate, want 1", n)
			}
		}
		// Nothing to replace: migrate again changes nothing.
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
