package crm_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Tenants made before roles carried is_default get their default roles
// flagged once; a tenant that has flagged defaults is left alone.
func TestMarkDefaultRolesFlagsOlderTenantsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sys := tenancy.Bypass(ctx)
		old := storetest.TenantID(t, db, "demo-motors.test")
		current := storetest.TenantID(t, db, "northwind-auto.test")
		if _, err := db.ExecContext(ctx, "UPDATE roles SET is_default = false WHERE tenant_id = $1", old); err != nil {
			t.Fatal(err)
		}
		// A role named like a default one, made by an administrator of a
		// tenant that already has its defaults.
		if err := db.Role.Create().SetTenantID(current).SetName("User").Exec(sys); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := crm.MarkDefaultRoles(ctx, db.Client); err != nil {
				t.Fatal(err)
			}
		}
		for _, tid := range []uuid.UUID{old, current} {
			names, err := db.Role.Query().Where(role.TenantID(tid), role.IsDefault(true)).
				Order(role.ByName()).Select(role.FieldName).Strings(sys)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, []string{"Administrator", "Manager", "User"}) {
				t.Errorf("tenant %s: default roles %v", tid, names)
			}
		}
		// Once flagged, a start writes nothing to roles, so it does not
		// empty the other instances' viewer caches. (The notifications of
		// the writes above may still be arriving: wait for a quiet spell.)
		gen := stableGeneration(db.AuthWatch())
		if err := crm.MarkDefaultRoles(ctx, db.Client); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if now, _ := db.AuthWatch().Generation(uuid.Nil); now != gen {
			t.Errorf("MarkDefaultRoles with nothing to flag moved the viewer generation %d → %d", gen, now)
		}
	})
}

// stableGeneration returns w's generation once it has not moved for 300 ms.
func stableGeneration(w *store.AuthWatch) uint64 {
	gen, _ := w.Generation(uuid.Nil) // every tenant's (system work)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		now, _ := w.Generation(uuid.Nil)
		if now == gen {
			break
		}
		gen = now
	}
	return gen
}
