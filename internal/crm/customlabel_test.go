package crm_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customlabel"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestCustomLabels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")

		l, err := svc.CreateCustomLabel(ctx, map[string]any{"task": "To-do"})
		if err != nil {
			t.Fatal(err)
		}
		if l, err = svc.UpdateCustomLabel(ctx, l.ID, map[string]any{"task": "Chore"}); err != nil || l.Value["task"] != "Chore" {
			t.Fatalf("update: %+v %v", l, err)
		}
		labels, err := svc.CustomLabels(ctx)
		if err != nil || len(labels) != 2 || labels[1].ID != l.ID {
			t.Fatalf("want the seeded label and the new one, got %d (%v)", len(labels), err)
		}
		if err := svc.DeleteCustomLabel(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		if !db.CustomLabel.Query().Where(customlabel.ID(l.ID), customlabel.IsDeleted(true)).ExistX(tenancy.WithDeleted(ctx)) {
			t.Fatal("delete should be soft")
		}

		foreign := db.CustomLabel.Query().FirstIDX(storetest.As(t, db, "admin@northwind-auto.test"))
		tests := []struct {
			name string
			call func() error
			code fault.Code
		}{
			{"a string value is rejected", func() error { _, err := svc.CreateCustomLabel(ctx, "x"); return err }, fault.Invalid},
			{"a missing value is rejected", func() error { _, err := svc.CreateCustomLabel(ctx, nil); return err }, fault.Invalid},
			{"an array value is rejected on update", func() error {
				_, err := svc.UpdateCustomLabel(ctx, labels[0].ID, []any{"x"})
				return err
			}, fault.Invalid},
			{"a deleted label is not found", func() error { return svc.DeleteCustomLabel(ctx, l.ID) }, fault.NotFound},
			{"an unknown label is not found", func() error {
				_, err := svc.UpdateCustomLabel(ctx, uuid.New(), map[string]any{})
				return err
			}, fault.NotFound},
			{"another tenant's label is not found", func() error { return svc.DeleteCustomLabel(ctx, foreign) }, fault.NotFound},
			{"a USER cannot create labels", func() error {
				_, err := svc.CreateCustomLabel(storetest.As(t, db, "user@demo-motors.test"), map[string]any{})
				return err
			}, fault.Forbidden},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := crm.AsError(tc.call())
				if e == nil || e.Code != tc.code {
					t.Fatalf("want %s, got %v", tc.code, e)
				}
				if tc.code == fault.Invalid && e.Message != "value is required" {
					t.Fatalf("message %q, want the documented one", e.Message)
				}
			})
		}
		if db.CustomLabel.GetX(tenancy.Bypass(ctx), foreign).IsDeleted {
			t.Fatal("another tenant's label was deleted")
		}
	})
}
