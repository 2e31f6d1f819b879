package crm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// leadInput is a valid new lead of the viewer's tenant: a department with
// a franchise and a pipeline, its franchise, the first contact and source.
func leadInput(t *testing.T, db *store.DB, ctx context.Context, subject string) crm.LeadInput {
	t.Helper()
	d, err := db.Department.Query().Where(department.FranchiseIDNotNil(), department.PipelineIDNotNil()).
		Order(department.ByID()).First(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return crm.LeadInput{
		Subject: &subject, DepartmentID: &d.ID, FranchiseID: d.FranchiseID,
		ContactID: new(db.Contact.Query().FirstIDX(ctx)), SourceID: new(db.Source.Query().FirstIDX(ctx)),
	}
}

// events returns the outbox events of record id, oldest first.
func events(t *testing.T, db *store.DB, ctx context.Context, id uuid.UUID) []*ent.OutboxEvent {
	t.Helper()
	evs, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(id)).
		Order(outboxevent.ByDateCreated(), outboxevent.ByID()).All(registry.Unchecked(ctx)) // no viewer reads the outbox
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestEmitWritesTheEventAndRunsHooksInTheWritesTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		var seen []crm.Event
		svc.OnEvent(func(ctx context.Context, tx *ent.Client, ev crm.Event) error {
			// The hook sees the outbox row through the transaction.
			if _, err := tx.OutboxEvent.Get(ctx, ev.ID); err != nil {
				return err
			}
			seen = append(seen, ev)
			return nil
		})
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		v := viewer.FromContext(ctx)
		run := uuid.New()

		l, err := svc.CreateLead(crm.WithCause(ctx, run), leadInput(t, db, ctx, "Civic"))
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 {
			t.Fatalf("hook ran %d times", len(seen))
		}
		ev := seen[0]
		if ev.Topic != crm.TopicLeadCreated || ev.RecordType != "lead" || ev.RecordID != l.ID ||
			ev.TenantID != v.TenantID || ev.ActorID != v.UserID || ev.CausationID == nil || *ev.CausationID != run {
			t.Fatalf("event %+v", ev)
		}
		if c := ev.Changes["subject"]; c.Before != nil || c.After != "Civic" {
			t.Fatalf("subject change %+v", c)
		}
		rows := events(t, db, ctx, l.ID)
		if len(rows) != 1 || rows[0].ID != ev.ID {
			t.Fatalf("outbox rows %+v", rows)
		}
		p := rows[0].Payload
		if p["topic"] != "lead.created" || p["tenantId"] != v.TenantID.String() || p["actorId"] != v.UserID.String() ||
			p["recordType"] != "lead" || p["recordId"] != l.ID.String() || p["causationId"] != run.String() || p["occurredAt"] == nil {
			t.Fatalf("payload %v", p)
		}
		stage := p["changes"].(map[string]any)["stage"].(map[string]any)
		if stage["before"] != nil || stage["after"] != l.StageID.String() {
			t.Fatalf("stage change %v", stage)
		}

		t.Run("without a cause the causation id is null", func(t *testing.T) {
			l, err := svc.CreateLead(ctx, leadInput(t, db, ctx, "Accord"))
			if err != nil {
				t.Fatal(err)
			}
			if p := events(t, db, ctx, l.ID)[0].Payload; p["causationId"] != nil {
				t.Fatalf("causationId %v", p["causationId"])
			}
		})
	})
}

func TestAFailedWriteEmitsNoEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		boom := errors.New("hook failed")
		svc.OnEvent(func(context.Context, *ent.Client, crm.Event) error { return boom })
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		leads, outbox := db.Lead.Query().CountX(ctx), db.OutboxEvent.Query().CountX(registry.Unchecked(ctx))
		if _, err := svc.CreateLead(ctx, leadInput(t, db, ctx, "Never")); !errors.Is(err, boom) {
			t.Fatalf("want the hook's error, got %v", err)
		}
		if db.Lead.Query().CountX(ctx) != leads || db.OutboxEvent.Query().CountX(registry.Unchecked(ctx)) != outbox {
			t.Fatal("a rolled-back write left a lead or an event")
		}
	})
}

func TestChangesSetComparesValues(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	s1, s2 := "x", "x"
	c := crm.Changes{}
	if c.Set("same", &s1, &s2) || c.Set("nil", (*string)(nil), nil) || c.Set("empty", []uuid.UUID{}, nil) {
		t.Fatalf("equal values recorded: %v", c)
	}
	if !c.Set("id", &a, &b) || c["id"].Before != a || c["id"].After != b {
		t.Fatalf("changed id: %v", c)
	}
}
