package crm_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

func TestViewerHoldsOnlyActiveGroupsAndItsRolesPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		uid := storetest.UserID(t, db, "user@demo-motors.test")
		tid := storetest.TenantID(t, db, "demo-motors.test")
		v, err := crm.ResolveViewer(ctx, db.Client, uid, tid, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(v.GroupIDs) != 1 || !v.Can(crm.PermTaskWrite) || v.Can(crm.PermStageManage) {
			t.Fatalf("viewer of user@: groups %v, permissions %v", v.GroupIDs, v.Permissions)
		}
		db.SecurityGroup.UpdateOneID(v.GroupIDs[0]).SetIsActive(false).ExecX(tenancy.Bypass(ctx))
		v, err = crm.ResolveViewer(ctx, db.Client, uid, tid, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(v.GroupIDs) != 0 {
			t.Fatalf("an inactive group still counts: %v", v.GroupIDs)
		}
		other := storetest.TenantID(t, db, "northwind-auto.test")
		if _, err := crm.ResolveViewer(ctx, db.Client, uid, other, time.Now()); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("user resolved in another tenant: %v", err)
		}
	})
}

// Authentication runs before every request: the viewer costs one statement
// whatever the user holds, and a deactivated or deleted user, or a deleted
// role, counts at once.
func TestViewerIsOneStatementAndHonoursRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sys := tenancy.Bypass(ctx)
		uid := storetest.UserID(t, db, "user@demo-motors.test")
		tid := storetest.TenantID(t, db, "demo-motors.test")
		before := db.Counter.Total()
		v, err := crm.ResolveViewer(ctx, db.Client, uid, tid, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n := db.Counter.Total() - before; n != 1 {
			t.Errorf("viewer cost %d statements, want 1", n)
		}
		if v.Type != "USER" || len(v.Permissions) == 0 || v.UserID != uid || v.TenantID != tid {
			t.Fatalf("viewer %+v", v)
		}
		// A deleted role no longer confers its permissions.
		roles := db.User.GetX(sys, uid).QueryRoles().AllX(sys)
		for _, r := range roles {
			db.Role.DeleteOneID(r.ID).ExecX(viewer.NewContext(ctx, &viewer.Viewer{UserID: uid, TenantID: tid, Type: viewer.TypeAdmin}))
		}
		if v, err = crm.ResolveViewer(ctx, db.Client, uid, tid, time.Now()); err != nil || len(v.Permissions) != 0 {
			t.Fatalf("permissions of deleted roles: %v, %v", v, err)
		}
		db.User.UpdateOneID(uid).SetIsActive(false).ExecX(sys)
		if _, err := crm.ResolveViewer(ctx, db.Client, uid, tid, time.Now()); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("deactivated user resolved: %v", err)
		}
		admin := storetest.UserID(t, db, "admin@demo-motors.test")
		db.User.DeleteOneID(admin).ExecX(viewer.NewContext(ctx, &viewer.Viewer{UserID: admin, TenantID: tid, Type: viewer.TypeAdmin}))
		if _, err := crm.ResolveViewer(ctx, db.Client, admin, tid, time.Now()); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("deleted user resolved: %v", err)
		}
	})
}

// The viewer is one row: the lists come aggregated, so several groups
// parse back, an ADMIN (whose roles are not read: it holds everything)
// still holds every permission, and users of the same roles share one
// permission set.
func TestViewerListsAreAggregated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sys := tenancy.Bypass(ctx)
		uid := storetest.UserID(t, db, "user@demo-motors.test")
		tid := storetest.TenantID(t, db, "demo-motors.test")
		v, err := crm.ResolveViewer(ctx, db.Client, uid, tid, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		as := viewer.NewContext(ctx, &viewer.Viewer{UserID: uid, TenantID: tid, Type: viewer.TypeAdmin})
		db.SecurityGroup.Create().SetName("second").AddMemberIDs(uid).ExecX(as)
		groups := db.SecurityGroup.Query().AllX(as)
		for _, g := range groups {
			if !slices.Contains(v.GroupIDs, g.ID) {
				db.SecurityGroup.UpdateOneID(g.ID).AddMemberIDs(uid).SetIsActive(true).ExecX(sys)
			}
		}
		again, err := crm.ResolveViewer(ctx, db.Client, uid, tid, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) < 2 || len(again.GroupIDs) != len(groups) {
			t.Fatalf("%d groups of %d resolved: %v", len(again.GroupIDs), len(groups), again.GroupIDs)
		}
		if len(again.Permissions) == 0 || !maps.Equal(again.Permissions, v.Permissions) {
			t.Fatalf("permissions %v, before %v", again.Permissions, v.Permissions)
		}
		admin, err := crm.ResolveViewer(ctx, db.Client, storetest.UserID(t, db, "admin@demo-motors.test"), tid, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if admin.Type != viewer.TypeAdmin || len(crm.Permissions(admin)) != len(crm.Catalogue) {
			t.Fatalf("ADMIN viewer %+v holds %d of %d permissions", admin, len(crm.Permissions(admin)), len(crm.Catalogue))
		}
	})
}
