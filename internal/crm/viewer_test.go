package crm_test

import (
	"context"
	"testing"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/storetest"
	"github.com/conecrm/gateway/internal/tenancy"
)

func TestViewerHoldsOnlyActiveGroupsAndItsRolesPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		uid := storetest.UserID(t, db, "user@demo-motors.test")
		tid := storetest.TenantID(t, db, "demo-motors.test")
		v, err := crm.ResolveViewer(ctx, db.Client, uid, tid)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.GroupIDs) != 1 || !v.Can(crm.PermTaskWrite) || v.Can(crm.PermStageManage) {
			t.Fatalf("viewer of user@: groups %v, permissions %v", v.GroupIDs, v.Permissions)
		}
		db.SecurityGroup.UpdateOneID(v.GroupIDs[0]).SetIsActive(false).ExecX(tenancy.Bypass(ctx))
		v, err = crm.ResolveViewer(ctx, db.Client, uid, tid)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.GroupIDs) != 0 {
			t.Fatalf("an inactive group still counts: %v", v.GroupIDs)
		}
		other := storetest.TenantID(t, db, "northwind-auto.test")
		if _, err := crm.ResolveViewer(ctx, db.Client, uid, other); crm.AsError(err).Code != crm.NotFound {
			t.Fatalf("user resolved in another tenant: %v", err)
		}
	})
}
