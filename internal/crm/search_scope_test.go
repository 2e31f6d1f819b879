package crm_test

import (
	"testing"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A one-word search is an OR over the searched columns; it must stay
// inside the tenant and soft-delete scope the data layer adds.
func TestSearchStaysInScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		gone := db.Account.Create().SetName("Zebra Deleted Motors").SetPrimaryEmail("zebra@example.com").SaveX(ctx)
		db.Account.DeleteOneID(gone.ID).ExecX(ctx)
		for _, search := range []string{"zebra", "example.com"} {
			_, rows, err := svc.ListAccounts(ctx, crm.CustomerFilter{Search: search, Page: crm.Page{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range rows {
				if a.ID == gone.ID || a.TenantID != gone.TenantID {
					t.Fatalf("search %q found %s (deleted %v, tenant %s)", search, a.Name, a.IsDeleted, a.TenantID)
				}
			}
		}
	})
}
