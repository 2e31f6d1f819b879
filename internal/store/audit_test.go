package store_test

import (
	"testing"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/migrate"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The audit users are ent edges (ent/schema/mixin.go) on columns that
// predate them: the migration gives them no foreign key, so an existing
// database migrates unchanged, and a write's stamps cost no statement of
// the reference check (the hooks take them from the viewer).
func TestAuditEdgesAddNoForeignKeyAndNoStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := `SELECT "from" FROM pragma_foreign_key_list($1)`
		if db.Dialect == dialect.Postgres {
			q = `SELECT kcu.column_name FROM information_schema.table_constraints tc
				JOIN information_schema.key_column_usage kcu
				  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
				WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = $1`
		}
		keys := 0
		for _, table := range migrate.Tables {
			rows, err := db.SQL.Query(q, table.Name)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var column string
				if err := rows.Scan(&column); err != nil {
					t.Fatal(err)
				}
				keys++
				switch column {
				case "created_by_id", "modified_by_id", "deleted_by_id":
					t.Errorf("%s.%s has a foreign key", table.Name, column)
				}
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if keys == 0 {
			t.Fatal("no foreign key found at all: the query reads nothing")
		}

		ctx := storetest.As(t, db, "manager@demo-motors.test")
		before := db.Counter.Total()
		acc := db.Account.Create().SetName("Stamped Co").SaveX(ctx)
		db.Account.Update().Where(account.ID(acc.ID)).SetName("Stamped Inc").ExecX(ctx)
		if n := db.Counter.Total() - before; n != 2 {
			t.Errorf("a create and an update cost %d statements, want 2 (their audit stamps are not reference-checked)", n)
		}
	})
}
