package store_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A database migrated when the round-robin turn was a column of
// security_groups (rr_cursor) keeps every group's turn: migrate carries it
// over to round_robin_cursors — a turn taken there already wins — drops
// the column, and changes nothing when run again.
func TestMigrateCarriesTheRoundRobinTurnsOver(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sys := tenancy.Bypass(ctx)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.SQL.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		groups := db.SecurityGroup.Query().Order(securitygroup.ByID()).AllX(sys)
		if len(groups) < 2 {
			t.Fatalf("%d seeded groups", len(groups))
		}
		exec(`DELETE FROM round_robin_cursors`)
		exec(`ALTER TABLE security_groups ADD COLUMN rr_cursor BIGINT NOT NULL DEFAULT 0`)
		want := map[uuid.UUID]int{}
		for i, g := range groups {
			want[g.ID] = 7 + i
			exec(`UPDATE security_groups SET rr_cursor = ? WHERE id = ?`, 7+i, g.ID)
		}
		// The first group took turns in the new table already (an instance
		// of the new version ran before this one migrated).
		exec(`INSERT INTO round_robin_cursors (id, tenant_id, date_created, is_deleted, dtype, security_group_id, turn)
			VALUES (?, ?, ?, ?, 'round_robin_cursor', ?, 40)`, uuid.New(), groups[0].TenantID, groups[0].DateCreated, false, groups[0].ID)
		want[groups[0].ID] = 40
		for range 2 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			cursors := db.RoundRobinCursor.Query().AllX(sys)
			got := map[uuid.UUID]int{}
			for _, c := range cursors {
				got[c.SecurityGroupID] = c.Turn
				if g := db.SecurityGroup.GetX(sys, c.SecurityGroupID); g.TenantID != c.TenantID {
					t.Errorf("group %s of tenant %s has its cursor in tenant %s", g.ID, g.TenantID, c.TenantID)
				}
			}
			if len(got) != len(want) {
				t.Errorf("cursors %v, want %v", got, want)
			}
			for id, n := range want {
				if got[id] != n {
					t.Errorf("group %s: turn %d, want %d", id, got[id], n)
				}
			}
			column := `SELECT count(*) FROM pragma_table_info('security_groups') WHERE name = 'rr_cursor'`
			if db.Dialect == dialect.Postgres {
				column = `SELECT count(*) FROM information_schema.columns
					WHERE table_schema = current_schema() AND table_name = 'security_groups' AND column_name = 'rr_cursor'`
			}
			var n int
			if err := db.SQL.QueryRowContext(ctx, column).Scan(&n); err != nil || n != 0 {
				t.Fatalf("security_groups.rr_cursor after migrate: %d columns, %v", n, err)
			}
		}
	})
}
