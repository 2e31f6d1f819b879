package crm_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestStageLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")

		st, err := svc.CreateStage(ctx, new("Negotiation"))
		if err != nil {
			t.Fatal(err)
		}
		if st, err = svc.UpdateStage(ctx, st.ID, new("Final negotiation")); err != nil || st.Name != "Final negotiation" {
			t.Fatalf("update: %v %v", st, err)
		}
		list, err := svc.ListStages(ctx)
		if err != nil || list[len(list)-1].ID != st.ID {
			t.Fatalf("the new stage should be listed last: %v", err)
		}
		if err := svc.DeleteStage(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Stage(ctx, st.ID); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("deleted stage: want NotFound, got %v", err)
		}
		deleted := db.ConnectionStage.Query().Where(connectionstage.ID(st.ID)).OnlyX(tenancy.WithDeleted(ctx))
		if !deleted.IsDeleted || deleted.DeletedByID == nil {
			t.Fatalf("delete should be soft and audited: %+v", deleted)
		}
	})
}

func TestStageRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		// One new stage only a pipeline uses, one only a lead is on.
		inPipeline := db.ConnectionStage.Create().SetName("In a pipeline").SaveX(ctx).ID
		db.PipelineStage.Create().SetPipelineID(db.Pipeline.Query().FirstIDX(ctx)).
			SetStageID(inPipeline).SetPosition(99).ExecX(ctx)
		onALead := db.ConnectionStage.Create().SetName("On a lead").SaveX(ctx).ID
		db.Lead.UpdateOneID(db.Lead.Query().FirstIDX(ctx)).SetStageID(onALead).ExecX(ctx)
		foreign := db.ConnectionStage.Query().FirstIDX(storetest.As(t, db, "admin@northwind-auto.test"))

		tests := []struct {
			name string
			call func() error
			code fault.Code
		}{
			{"a stage in a pipeline cannot be deleted", func() error { return svc.DeleteStage(ctx, inPipeline) }, fault.Conflict},
			{"a stage a lead is on cannot be deleted", func() error { return svc.DeleteStage(ctx, onALead) }, fault.Conflict},
			{"another tenant's stage is not found", func() error { return svc.DeleteStage(ctx, foreign) }, fault.NotFound},
			{"another tenant's stage cannot be read", func() error { _, err := svc.Stage(ctx, foreign); return err }, fault.NotFound},
			{"an unknown stage is not found", func() error { _, err := svc.Stage(ctx, uuid.New()); return err }, fault.NotFound},
			{"an unknown stage cannot be renamed", func() error { _, err := svc.UpdateStage(ctx, uuid.New(), new("x")); return err }, fault.NotFound},
			{"a stage needs a name", func() error { _, err := svc.CreateStage(ctx, nil); return err }, fault.Invalid},
			{"a blank name is rejected", func() error { _, err := svc.UpdateStage(ctx, onALead, new("  ")); return err }, fault.Invalid},
			{"an overlong name is rejected", func() error {
				_, err := svc.CreateStage(ctx, new(strings.Repeat("x", 256)))
				return err
			}, fault.Invalid},
			{"a USER cannot create stages", func() error {
				_, err := svc.CreateStage(storetest.As(t, db, "user@demo-motors.test"), new("x"))
				return err
			}, fault.Forbidden},
			{"a USER cannot delete stages", func() error {
				return svc.DeleteStage(storetest.As(t, db, "user@demo-motors.test"), inPipeline)
			}, fault.Forbidden},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := crm.AsError(tc.call()); got == nil || got.Code != tc.code {
					t.Fatalf("want %s, got %v", tc.code, got)
				}
			})
		}
		for _, id := range []uuid.UUID{inPipeline, onALead} {
			if st := db.ConnectionStage.GetX(ctx, id); st.IsDeleted {
				t.Fatalf("a used stage was deleted: %+v", st)
			}
		}
		if !db.ConnectionStage.Query().Where(connectionstage.ID(foreign)).ExistX(tenancy.Bypass(ctx)) {
			t.Fatal("the other tenant's stage should be untouched")
		}
	})
}
