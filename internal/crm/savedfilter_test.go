package crm_test

import (
	"context"
	"testing"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

func TestSavedFilterRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		domain := crm.NewService(db.Client)
		svc := domain.SavedFilters()
		owner := storetest.As(t, db, "sales1@demo-motors.test")
		colleague := storetest.As(t, db, "manager@demo-motors.test")
		stranger := storetest.As(t, db, "admin@northwind-auto.test")
		v := *viewer.FromContext(owner)
		v.Permissions = map[string]bool{}
		powerless := viewer.NewContext(context.Background(), &v)

		f, err := svc.Create(owner, crm.SavedFilterInput{Name: new("Mine"), Module: new("lead"), Value: new(`{"rules":[]}`)})
		if err != nil || !f.Private || f.OwnerID != v.UserID {
			t.Fatalf("create: %+v %v", f, err)
		}
		assertInvalid(t, mustFail(svc.Create(owner, crm.SavedFilterInput{Name: new("x"), Module: new("widget"), Value: new("{}")})), "module")
		assertInvalid(t, mustFail(svc.Create(owner, crm.SavedFilterInput{Name: new("x"), Module: new("lead"), Value: new(`{"rules":[{"field":"nope"}]}`)})), "value")
		assertInvalid(t, mustFail(svc.Create(owner, crm.SavedFilterInput{Module: new("lead"), Value: new("{}")})), "name")

		for name, err := range map[string]error{
			"a colleague reads a private filter":   mustFail(svc.Get(colleague, f.ID)),
			"a colleague updates it":               mustFail(svc.Update(colleague, f.ID, crm.SavedFilterInput{Private: new(false)})),
			"a colleague deletes it":               svc.Delete(colleague, f.ID),
			"no saved_filter.write: create":        mustFail(svc.Create(powerless, crm.SavedFilterInput{Name: new("x"), Module: new("lead"), Value: new("{}")})),
			"no saved_filter.write: own update":    mustFail(svc.Update(powerless, f.ID, crm.SavedFilterInput{Name: new("x")})),
			"no saved_filter.read: list":           mustFail(svc.List(powerless)),
			"no saved_filter.read: even one's own": mustFail(svc.Get(powerless, f.ID)),
		} {
			if e := crm.AsError(err); e == nil || e.Code != fault.Forbidden {
				t.Errorf("%s: want Forbidden, got %v", name, err)
			}
		}
		for name, err := range map[string]error{
			"another tenant reads":   mustFail(svc.Get(stranger, f.ID)),
			"another tenant deletes": svc.Delete(stranger, f.ID),
		} {
			if e := crm.AsError(err); e == nil || e.Code != fault.NotFound {
				t.Errorf("%s: want NotFound, got %v", name, err)
			}
		}
		if _, err := svc.Update(owner, f.ID, crm.SavedFilterInput{Private: new(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(colleague, f.ID); err != nil {
			t.Fatalf("a shared filter is readable by the tenant: %v", err)
		}
		if _, err := domain.SavedFilterPredicate(colleague, "lead", f.ID); err != nil {
			t.Fatalf("a shared filter compiles for its module: %v", err)
		}
		assertInvalid(t, mustFail(domain.SavedFilterPredicate(colleague, "task", f.ID)), "savedFilter")
		if err := svc.Delete(owner, f.ID); err != nil {
			t.Fatal(err)
		}
		if e := crm.AsError(mustFail(svc.Get(owner, f.ID))); e == nil || e.Code != fault.NotFound {
			t.Fatalf("deleted filter: %v", e)
		}
	})
}

// mustFail drops a result, keeping the error.
func mustFail[T any](_ T, err error) error { return err }
