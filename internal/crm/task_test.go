package crm_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The task record rule: a USER may change tasks assigned to them or to a
// group they belong to, or created by them; MANAGER and ADMIN any task.
func TestTaskRecordRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		sys := tenancy.Bypass(context.Background())
		tid := storetest.TenantID(t, db, "demo-motors.test")
		admin := storetest.UserID(t, db, "admin@demo-motors.test")
		sales1 := storetest.UserID(t, db, "sales1@demo-motors.test")
		user := storetest.UserID(t, db, "user@demo-motors.test")
		group, err := db.SecurityGroup.Query().Where(securitygroup.TenantID(tid)).OnlyID(sys)
		if err != nil {
			t.Fatal(err)
		}
		task := func(assignee, creator uuid.UUID) uuid.UUID {
			tk, err := db.Task.Create().SetTenantID(tid).SetTitle("rule").SetAssigneeID(assignee).SetCreatedByID(creator).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			return tk.ID
		}
		title := "changed"
		tests := []struct {
			name    string
			as      string
			task    uuid.UUID
			allowed bool
		}{
			{"USER, assigned to them", "user@demo-motors.test", task(user, admin), true},
			{"USER, assigned to their group", "user@demo-motors.test", task(group, admin), true},
			{"USER, created by them", "user@demo-motors.test", task(sales1, user), true},
			{"USER, someone else's", "user@demo-motors.test", task(sales1, admin), false},
			{"USER outside the group", "sales1@demo-motors.test", task(user, admin), false},
			{"MANAGER, anyone's", "manager@demo-motors.test", task(sales1, admin), true},
			{"ADMIN, anyone's", "admin@demo-motors.test", task(user, sales1), true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := storetest.As(t, db, tt.as)
				_, err := svc.UpdateTask(ctx, tt.task, crm.TaskInput{Title: &title})
				if tt.allowed != (err == nil) {
					t.Fatalf("update: %v, want allowed=%v", err, tt.allowed)
				}
				if !tt.allowed && crm.AsError(err).Code != fault.Forbidden {
					t.Fatalf("update: %v, want Forbidden", err)
				}
				err = svc.DeleteTask(ctx, tt.task)
				if tt.allowed != (err == nil) {
					t.Fatalf("delete: %v, want allowed=%v", err, tt.allowed)
				}
			})
		}
		t.Run("another tenant's task is NotFound", func(t *testing.T) {
			other := task(user, admin)
			ctx := storetest.As(t, db, "admin@northwind-auto.test")
			if _, err := svc.UpdateTask(ctx, other, crm.TaskInput{Title: &title}); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("update: %v, want NotFound", err)
			}
			if err := svc.DeleteTask(ctx, other); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("delete: %v, want NotFound", err)
			}
			stored, err := db.Task.Get(sys, other)
			if err != nil || stored.Title != "rule" || stored.IsDeleted {
				t.Fatalf("changed: %v %+v", err, stored)
			}
		})
	})
}
