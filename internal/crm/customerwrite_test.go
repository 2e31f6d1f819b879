package crm_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// customField creates a text custom field of entity in the viewer's tenant.
func customField(t *testing.T, db *store.DB, ctx context.Context, entity customfield.Entity, name string) uuid.UUID {
	t.Helper()
	return db.CustomField.Create().SetEntity(entity).SetFieldName(name).SetFieldType(customfield.FieldTypeText).SaveX(ctx).ID
}

func TestContactWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		nick := customField(t, db, ctx, customfield.EntityContact, "nickname")

		c, err := svc.CreateContact(ctx, crm.ContactWriteInput{
			ContactInput:      crm.ContactInput{FirstName: new("Ada"), LastName: new("Byron"), CustomerFields: crm.CustomerFields{City: new("Laval")}},
			CustomFieldValues: []crm.CustomFieldValueInput{{FieldID: nick, Value: "Countess"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		stored := db.Contact.GetX(ctx, c.ID)
		if c.FirstName != "Ada" || *stored.City != "Laval" {
			t.Fatalf("answer %+v stored %+v", c, stored)
		}
		ev := lastEvent(t, db, ctx, c.ID, "contact.created")
		if ch := change(t, ev, "customFieldValues.nickname"); ch["after"] != "Countess" {
			t.Fatalf("custom value change %v", ch)
		}

		t.Run("update: answer, stored state, event; a no-op emits nothing", func(t *testing.T) {
			got, err := svc.UpdateContact(ctx, c.ID, crm.ContactWriteInput{ContactInput: crm.ContactInput{CustomerFields: crm.CustomerFields{City: new("Montréal")}}})
			if err != nil || *got.City != "Montréal" || *db.Contact.GetX(ctx, c.ID).City != "Montréal" {
				t.Fatalf("%+v %v", got, err)
			}
			ch := change(t, lastEvent(t, db, ctx, c.ID, "contact.updated"), "city")
			if ch["before"] != "Laval" || ch["after"] != "Montréal" {
				t.Fatalf("city change %v", ch)
			}
			n := len(events(t, db, ctx, c.ID))
			if _, err := svc.UpdateContact(ctx, c.ID, crm.ContactWriteInput{ContactInput: crm.ContactInput{CustomerFields: crm.CustomerFields{City: new("Montréal")}}}); err != nil {
				t.Fatal(err)
			}
			if len(events(t, db, ctx, c.ID)) != n {
				t.Fatal("a no-op update emitted an event")
			}
		})
		t.Run("bad input, permission, tenancy", func(t *testing.T) {
			_, err := svc.UpdateContact(ctx, c.ID, crm.ContactWriteInput{ContactInput: crm.ContactInput{CustomerFields: crm.CustomerFields{PrimaryEmail: new("not an email")}}})
			assertInvalid(t, err, "primaryEmail")
			_, err = svc.CreateContact(ctx, crm.ContactWriteInput{CustomFieldValues: []crm.CustomFieldValueInput{{FieldID: uuid.New(), Value: "x"}}})
			assertInvalid(t, err, "customFieldValues[0].field")
			foreign := storetest.As(t, db, "admin@northwind-auto.test")
			if _, err := svc.UpdateContact(foreign, c.ID, crm.ContactWriteInput{}); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("another tenant's contact: %v", err)
			}
			if err := svc.DeleteContact(foreign, c.ID); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("another tenant's contact: %v", err)
			}
			if err := svc.DeleteContact(storetest.As(t, db, "user@demo-motors.test"), c.ID); crm.AsError(err).Code != fault.Forbidden {
				t.Fatalf("USER without contact.delete: %v", err)
			}
		})
		t.Run("delete clears the primary contact of its accounts in the same transaction", func(t *testing.T) {
			a, err := svc.CreateAccount(ctx, crm.AccountInput{Name: new("Acme"), PrimaryContact: &crm.ContactInput{ID: &c.ID}})
			if err != nil || a.PrimaryContactID == nil || *a.PrimaryContactID != c.ID {
				t.Fatalf("%+v %v", a, err)
			}
			if err := svc.DeleteContact(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if got := db.Account.GetX(ctx, a.ID); got.PrimaryContactID != nil {
				t.Fatalf("primary contact %v after its deletion", got.PrimaryContactID)
			}
			if ch := change(t, lastEvent(t, db, ctx, a.ID, "account.updated"), "primaryContact"); ch["before"] != c.ID.String() || ch["after"] != nil {
				t.Fatalf("primaryContact change %v", ch)
			}
			lastEvent(t, db, ctx, c.ID, "contact.deleted")
			if _, err := svc.UpdateContact(ctx, c.ID, crm.ContactWriteInput{}); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("a deleted contact: %v", err)
			}
		})
	})
}

func TestAccountNestedContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		c1, err := svc.CreateContact(ctx, crm.ContactWriteInput{ContactInput: crm.ContactInput{FirstName: new("One")}})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := svc.CreateContact(ctx, crm.ContactWriteInput{ContactInput: crm.ContactInput{FirstName: new("Two")}})
		if err != nil {
			t.Fatal(err)
		}
		a, err := svc.CreateAccount(ctx, crm.AccountInput{Name: new("Acme"), PrimaryContact: &crm.ContactInput{ID: &c1.ID},
			Contacts: &[]crm.ContactInput{{ID: &c2.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		lastEvent(t, db, ctx, a.ID, "account.created")

		t.Run("a nested contact with an id and fields is updated", func(t *testing.T) {
			_, err := svc.UpdateAccount(ctx, a.ID, crm.AccountInput{Contacts: &[]crm.ContactInput{{ID: &c1.ID}, {ID: &c2.ID, CustomerFields: crm.CustomerFields{City: new("Québec")}}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := db.Contact.GetX(ctx, c2.ID); got.City == nil || *got.City != "Québec" {
				t.Fatalf("nested contact fields dropped: %+v", got)
			}
			lastEvent(t, db, ctx, c2.ID, "contact.updated")
		})
		t.Run("unlinking the primary contact clears it", func(t *testing.T) {
			got, err := svc.UpdateAccount(ctx, a.ID, crm.AccountInput{Contacts: &[]crm.ContactInput{{ID: &c2.ID}}})
			if err != nil || got.PrimaryContactID != nil || db.Account.GetX(ctx, a.ID).PrimaryContactID != nil {
				t.Fatalf("%+v %v", got, err)
			}
		})
		t.Run("primaryContact null clears it", func(t *testing.T) {
			if _, err := svc.UpdateAccount(ctx, a.ID, crm.AccountInput{PrimaryContact: &crm.ContactInput{ID: &c2.ID}}); err != nil {
				t.Fatal(err)
			}
			got, err := svc.UpdateAccount(ctx, a.ID, crm.AccountInput{PrimaryContactSet: true})
			if err != nil || got.PrimaryContactID != nil {
				t.Fatalf("%+v %v", got, err)
			}
			if ch := change(t, lastEvent(t, db, ctx, a.ID, "account.updated"), "primaryContact"); ch["before"] != c2.ID.String() {
				t.Fatalf("primaryContact change %v", ch)
			}
		})
		t.Run("custom field values on accounts", func(t *testing.T) {
			f := customField(t, db, ctx, customfield.EntityAccount, "tier")
			got, err := svc.UpdateAccount(ctx, a.ID, crm.AccountInput{CustomFieldValues: []crm.CustomFieldValueInput{{FieldID: f, Value: "gold"}}})
			if err != nil {
				t.Fatal(err)
			}
			_ = got
			if ch := change(t, lastEvent(t, db, ctx, a.ID, "account.updated"), "customFieldValues.tier"); ch["after"] != "gold" {
				t.Fatalf("tier change %v", ch)
			}
		})
		t.Run("delete emits account.deleted", func(t *testing.T) {
			if err := svc.DeleteAccount(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			lastEvent(t, db, ctx, a.ID, "account.deleted")
		})
	})
}

func TestTaskEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		me := storetest.UserID(t, db, "manager@demo-motors.test")
		f := customField(t, db, ctx, customfield.EntityTask, "outcome")
		task, err := svc.CreateTask(ctx, crm.TaskInput{Title: new("Call back"), AssigneeID: &me,
			CustomFieldValues: []crm.CustomFieldValueInput{{FieldID: f, Value: "pending"}}})
		if err != nil {
			t.Fatal(err)
		}
		if ch := change(t, lastEvent(t, db, ctx, task.ID, "task.created"), "title"); ch["after"] != "Call back" {
			t.Fatalf("title %v", ch)
		}
		got, err := svc.UpdateTask(ctx, task.ID, crm.TaskInput{TaskDone: new(true), CustomFieldValues: []crm.CustomFieldValueInput{{FieldID: f, Value: "reached"}}})
		if err != nil || !got.TaskDone {
			t.Fatalf("%+v %v", got, err)
		}
		if ch := change(t, lastEvent(t, db, ctx, task.ID, crm.TopicTaskCompleted), "taskDone"); ch["before"] != false || ch["after"] != true {
			t.Fatalf("taskDone %v", ch)
		}
		if ch := change(t, lastEvent(t, db, ctx, task.ID, "task.updated"), "customFieldValues.outcome"); ch["before"] != "pending" || ch["after"] != "reached" {
			t.Fatalf("outcome %v", ch)
		}
		// Completing a completed task again completes nothing.
		if _, err := svc.UpdateTask(ctx, task.ID, crm.TaskInput{TaskDone: new(true)}); err != nil {
			t.Fatal(err)
		}
		if got := topics(t, db, ctx, task.ID); len(slices.DeleteFunc(got, func(s string) bool { return s != crm.TopicTaskCompleted })) != 1 {
			t.Fatalf("task.completed emitted %d times", len(got))
		}
		_, err = svc.UpdateTask(ctx, task.ID, crm.TaskInput{CustomFieldValues: []crm.CustomFieldValueInput{{FieldID: uuid.New(), Value: "x"}}})
		assertInvalid(t, err, "customFieldValues[0].field")
		if err := svc.DeleteTask(ctx, task.ID); err != nil {
			t.Fatal(err)
		}
		lastEvent(t, db, ctx, task.ID, "task.deleted")
	})
}

func TestPipelines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		var stages []uuid.UUID
		for i := range 6 {
			stages = append(stages, db.ConnectionStage.Create().SetName(fmt.Sprint("s", i)).SaveX(ctx).ID)
		}
		order := func(p uuid.UUID) []uuid.UUID {
			var out []uuid.UUID
			rows := db.PipelineStage.Query().Where(pipelinestage.PipelineID(p)).Order(pipelinestage.ByPosition()).AllX(ctx)
			for i, r := range rows {
				if r.Position != i {
					t.Fatalf("positions not dense: %d at %d", r.Position, i)
				}
				out = append(out, r.StageID)
			}
			return out
		}
		p, err := svc.CreatePipeline(ctx, "Service", stages[:3])
		if err != nil {
			t.Fatal(err)
		}
		if got := order(p.ID); !slices.Equal(got, stages[:3]) || len(p.Edges.PipelineStages) != 3 {
			t.Fatalf("order %v", got)
		}
		lastEvent(t, db, ctx, p.ID, "pipeline.created")

		if _, err := svc.AddPipelineStage(ctx, p.ID, stages[3], new(0)); err != nil {
			t.Fatal(err)
		}
		if got := order(p.ID); !slices.Equal(got, []uuid.UUID{stages[3], stages[0], stages[1], stages[2]}) {
			t.Fatalf("after add %v", got)
		}
		got, err := svc.MovePipelineStage(ctx, p.ID, stages[3], 99)
		if err != nil {
			t.Fatal(err)
		}
		if o := order(p.ID); !slices.Equal(o, []uuid.UUID{stages[0], stages[1], stages[2], stages[3]}) || got.Edges.PipelineStages[3].StageID != stages[3] {
			t.Fatalf("after move %v", o)
		}
		ch := change(t, lastEvent(t, db, ctx, p.ID, "pipeline.updated"), "stages")
		if len(ch["before"].([]any)) != 4 {
			t.Fatalf("stages change %v", ch)
		}
		if _, err := svc.RemovePipelineStage(ctx, p.ID, stages[1]); err != nil {
			t.Fatal(err)
		}
		if o := order(p.ID); !slices.Equal(o, []uuid.UUID{stages[0], stages[2], stages[3]}) {
			t.Fatalf("after remove %v", o)
		}
		if got, err := svc.RenamePipeline(ctx, p.ID, "After-sales"); err != nil || got.Name != "After-sales" {
			t.Fatalf("%v %v", got, err)
		}

		t.Run("concurrent reorders keep positions dense and unique", func(t *testing.T) {
			for _, st := range stages[4:] {
				if _, err := svc.AddPipelineStage(ctx, p.ID, st, nil); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := range 20 {
				wg.Go(func() {
					all := []uuid.UUID{stages[0], stages[2], stages[3], stages[4], stages[5]}
					if _, err := svc.MovePipelineStage(ctx, p.ID, all[i%5], (i*3)%5); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if o := order(p.ID); len(o) != 5 {
				t.Fatalf("order %v", o)
			}
		})
		t.Run("refusals", func(t *testing.T) {
			foreign := storetest.As(t, db, "admin@northwind-auto.test")
			foreignStage := db.ConnectionStage.Query().FirstIDX(foreign)
			_, err := svc.AddPipelineStage(ctx, p.ID, foreignStage, nil)
			assertInvalid(t, err, "stageID")
			_, err = svc.AddPipelineStage(ctx, p.ID, stages[0], nil)
			assertInvalid(t, err, "stageID")
			_, err = svc.MovePipelineStage(ctx, p.ID, stages[1], 0)
			assertInvalid(t, err, "stageID")
			_, err = svc.CreatePipeline(ctx, " ", nil)
			assertInvalid(t, err, "name")
			if _, err := svc.RenamePipeline(foreign, p.ID, "x"); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("another tenant's pipeline: %v", err)
			}
			if _, err := svc.CreatePipeline(storetest.As(t, db, "user@demo-motors.test"), "x", nil); crm.AsError(err).Code != fault.Forbidden {
				t.Fatalf("USER: %v", err)
			}
			used := *db.Department.Query().Where().FirstX(ctx).PipelineID
			if err := svc.DeletePipeline(ctx, used); crm.AsError(err).Code != fault.Conflict {
				t.Fatalf("a used pipeline: %v", err)
			}
		})
		t.Run("delete", func(t *testing.T) {
			if err := svc.DeletePipeline(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
			if n := db.PipelineStage.Query().Where(pipelinestage.PipelineID(p.ID)).CountX(ctx); n != 0 {
				t.Fatalf("%d placements left", n)
			}
			lastEvent(t, db, ctx, p.ID, "pipeline.deleted")
		})
	})
}
