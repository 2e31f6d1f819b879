package crm_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/appointment"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// powerless is the viewer of ctx without any permission.
func powerless(ctx context.Context) context.Context {
	v := *viewer.FromContext(ctx)
	v.Permissions = map[string]bool{}
	return viewer.NewContext(context.Background(), &v)
}

func TestAppointmentWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		sys := tenancy.Bypass(context.Background())
		manager := storetest.As(t, db, "manager@demo-motors.test")
		userCtx := storetest.As(t, db, "user@demo-motors.test")
		me := viewer.FromContext(manager).UserID
		user := viewer.FromContext(userCtx).UserID
		count := func() int { return db.Appointment.Query().CountX(sys) }

		t.Run("create answers the committed state and emits appointment.created", func(t *testing.T) {
			a, err := svc.CreateAppointment(manager, crm.AppointmentInput{
				EventInput: crm.EventInput{Title: new("Test drive"), AssigneeID: &user,
					Start: crm.Opt[time.Time]{Set: true, Value: new(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))}},
				Type: crm.Opt[string]{Set: true, Value: new("showroom")}, URL: crm.Opt[string]{Set: true, Value: new("https://meet.example/x")},
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.Title != "Test drive" || a.AssigneeID != user || a.Type != "showroom" || *a.URL != "https://meet.example/x" || *a.CreatedByID != me {
				t.Fatalf("answer %+v", a)
			}
			ev := lastEvent(t, db, manager, a.ID, "appointment.created")
			if c := change(t, ev, "title"); c["before"] != nil || c["after"] != "Test drive" {
				t.Fatalf("title change %v", c)
			}
			if ev.Payload["recordType"] != "appointment" || ev.Payload["actorId"] != me.String() {
				t.Fatalf("payload %v", ev.Payload)
			}
		})
		t.Run("bad input names the field and changes nothing", func(t *testing.T) {
			n := count()
			for field, in := range map[string]crm.AppointmentInput{
				"title":    {EventInput: crm.EventInput{AssigneeID: &user}},
				"assignee": {EventInput: crm.EventInput{Title: new("x"), AssigneeID: new(uuid.New())}},
				"url":      {EventInput: crm.EventInput{Title: new("x"), AssigneeID: &user}, URL: crm.Opt[string]{Set: true, Value: new("javascript:alert(1)")}},
				"end": {EventInput: crm.EventInput{Title: new("x"), AssigneeID: &user,
					Start: crm.Opt[time.Time]{Set: true, Value: new(time.Now())}, End: crm.Opt[time.Time]{Set: true, Value: new(time.Now().Add(-time.Hour))}}},
				"contact": {EventInput: crm.EventInput{Title: new("x"), AssigneeID: &user, ContactID: crm.Opt[uuid.UUID]{Set: true, Value: new(uuid.New())}}},
			} {
				assertInvalid(t, mustFail(svc.CreateAppointment(manager, in)), field)
			}
			if count() != n {
				t.Fatal("a refused create wrote an appointment")
			}
		})
		t.Run("update, complete and delete under the USER record rule", func(t *testing.T) {
			mine, err := svc.CreateAppointment(manager, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("mine"), AssigneeID: &user}})
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := svc.CreateAppointment(manager, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("theirs"), AssigneeID: &me}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.UpdateAppointment(userCtx, theirs.ID, crm.AppointmentInput{NoShow: new(true)}); crm.AsError(err).Code != fault.Forbidden {
				t.Fatalf("USER on someone else's: %v", err)
			}
			if err := svc.DeleteAppointment(userCtx, theirs.ID); crm.AsError(err).Code != fault.Forbidden {
				t.Fatalf("USER deletes someone else's: %v", err)
			}
			u, err := svc.UpdateAppointment(userCtx, mine.ID, crm.AppointmentInput{CustomerConfirmed: new(true), EventInput: crm.EventInput{Title: new("mine, confirmed")}})
			if err != nil || !u.CustomerConfirmed || u.Title != "mine, confirmed" || u.Edited == nil || !*u.Edited {
				t.Fatalf("update: %+v %v", u, err)
			}
			ev := lastEvent(t, db, manager, mine.ID, "appointment.updated")
			if c := change(t, ev, "title"); c["before"] != "mine" || c["after"] != "mine, confirmed" {
				t.Fatalf("title change %v", c)
			}
			if c := change(t, ev, "customerConfirmed"); c["before"] != false || c["after"] != true {
				t.Fatalf("customerConfirmed change %v", c)
			}
			done, err := svc.CompleteAppointment(userCtx, mine.ID)
			if err != nil || !done.TaskDone {
				t.Fatalf("complete: %+v %v", done, err)
			}
			if _, err := svc.CompleteAppointment(userCtx, mine.ID); err != nil {
				t.Fatal(err)
			}
			want := []string{"appointment.created", "appointment.updated", "appointment.updated", "appointment.completed"}
			if got := topics(t, db, manager, mine.ID); !slices.Equal(got, want) {
				t.Fatalf("topics %v, want %v (completing twice completes once)", got, want)
			}
			if err := svc.DeleteAppointment(userCtx, mine.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.UpdateAppointment(manager, mine.ID, crm.AppointmentInput{NoShow: new(true)}); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("update after delete: %v", err)
			}
			lastEvent(t, db, manager, mine.ID, "appointment.deleted")
		})
		t.Run("another tenant's appointment answers NotFound and is unchanged", func(t *testing.T) {
			a, err := svc.CreateAppointment(manager, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("ours"), AssigneeID: &me}})
			if err != nil {
				t.Fatal(err)
			}
			stranger := storetest.As(t, db, "admin@northwind-auto.test")
			if _, err := svc.UpdateAppointment(stranger, a.ID, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("theirs")}}); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("update: %v", err)
			}
			if err := svc.DeleteAppointment(stranger, a.ID); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("delete: %v", err)
			}
			if got := db.Appointment.Query().Where(appointment.ID(a.ID)).OnlyX(sys); got.Title != "ours" {
				t.Fatalf("changed: %+v", got)
			}
		})
		t.Run("without event.write or event.delete: refused", func(t *testing.T) {
			a, err := svc.CreateAppointment(manager, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("x"), AssigneeID: &me}})
			if err != nil {
				t.Fatal(err)
			}
			none := powerless(manager)
			for name, err := range map[string]error{
				"create":           mustFail(svc.CreateAppointment(none, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("x"), AssigneeID: &me}})),
				"update":           mustFail(svc.UpdateAppointment(none, a.ID, crm.AppointmentInput{NoShow: new(true)})),
				"delete":           svc.DeleteAppointment(none, a.ID),
				"follow-up create": mustFail(svc.CreateFollowUp(none, crm.EventInput{Title: new("x"), AssigneeID: &me})),
			} {
				if crm.AsError(err).Code != fault.Forbidden {
					t.Errorf("%s: %v, want Forbidden", name, err)
				}
			}
		})
		t.Run("custom values of appointment fields", func(t *testing.T) {
			f, err := svc.CreateCustomField(manager, crm.CustomFieldInput{Entity: new("appointment"), FieldName: new("room"), FieldType: new(string(customfield.FieldTypeText))})
			if err != nil {
				t.Fatal(err)
			}
			a, err := svc.CreateAppointment(manager, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("x"), AssigneeID: &me,
				CustomFieldValues: []crm.CustomFieldValueInput{{FieldID: f.ID, Value: "B12"}}}})
			if err != nil {
				t.Fatal(err)
			}
			if c := change(t, lastEvent(t, db, manager, a.ID, "appointment.created"), "customFieldValues.room"); c["after"] != "B12" {
				t.Fatalf("custom value change %v", c)
			}
		})
	})
}

func TestFollowUpWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		manager := storetest.As(t, db, "manager@demo-motors.test")
		userCtx := storetest.As(t, db, "user@demo-motors.test")
		me := viewer.FromContext(manager).UserID
		user := viewer.FromContext(userCtx).UserID

		f, err := svc.CreateFollowUp(manager, crm.EventInput{Title: new("Call back"), AssigneeID: &user})
		if err != nil || f.FromAutomation || f.Title != "Call back" {
			t.Fatalf("create: %+v %v", f, err)
		}
		byRun, err := svc.CreateFollowUp(crm.WithCause(manager, uuid.New()), crm.EventInput{Title: new("auto"), AssigneeID: &me})
		if err != nil || !byRun.FromAutomation {
			t.Fatalf("an automation's follow-up: %+v %v", byRun, err)
		}
		if ev := lastEvent(t, db, manager, byRun.ID, "followUp.created"); ev.Payload["causationId"] == nil {
			t.Fatalf("no causation id: %v", ev.Payload)
		}
		assertInvalid(t, mustFail(svc.UpdateFollowUp(userCtx, f.ID, crm.EventInput{Title: new("  ")})), "title")
		if _, err := svc.UpdateFollowUp(userCtx, byRun.ID, crm.EventInput{Title: new("mine now")}); crm.AsError(err).Code != fault.Forbidden {
			t.Fatalf("USER on someone else's: %v", err)
		}
		done, err := svc.CompleteFollowUp(userCtx, f.ID)
		if err != nil || !done.TaskDone {
			t.Fatalf("complete: %+v %v", done, err)
		}
		if err := svc.DeleteFollowUp(userCtx, f.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"followUp.created", "followUp.updated", "followUp.completed", "followUp.deleted"}
		if got := topics(t, db, manager, f.ID); !slices.Equal(got, want) {
			t.Fatalf("topics %v, want %v", got, want)
		}
		stranger := storetest.As(t, db, "admin@northwind-auto.test")
		if _, err := svc.CompleteFollowUp(stranger, byRun.ID); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("another tenant's: %v", err)
		}
	})
}

// A write whose transaction fails (here: an event hook refuses) leaves
// neither the appointment nor its event.
func TestAFailedAppointmentWriteLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		boom := errors.New("boom")
		svc.OnEvent(func(context.Context, *ent.Client, crm.Event) error { return boom })
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		me := viewer.FromContext(ctx).UserID
		before := storetest.TakeSnapshot(t, db)
		if _, err := svc.CreateAppointment(ctx, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("x"), AssigneeID: &me}}); err == nil {
			t.Fatal("the write succeeded")
		}
		storetest.NothingWritten(t, db, before)
	})
}

// Every configuration write emits its event: stages, custom fields,
// custom labels, automations, saved filters.
func TestConfigurationWritesEmitEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		check := func(id uuid.UUID, want ...string) {
			t.Helper()
			if got := topics(t, db, ctx, id); !slices.Equal(got, want) {
				t.Fatalf("topics %v, want %v", got, want)
			}
		}

		st, err := svc.CreateStage(ctx, new("Qualified"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateStage(ctx, st.ID, new("Qualified!")); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateStage(ctx, st.ID, new("Qualified!")); err != nil { // no change, no event
			t.Fatal(err)
		}
		if err := svc.DeleteStage(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		check(st.ID, "stage.created", "stage.updated", "stage.deleted")
		if c := change(t, lastEvent(t, db, ctx, st.ID, "stage.updated"), "name"); c["before"] != "Qualified" || c["after"] != "Qualified!" {
			t.Fatalf("name change %v", c)
		}

		f, err := svc.CreateCustomField(ctx, crm.CustomFieldInput{Entity: new("lead"), FieldName: new("eventsBudget"), FieldType: new("text")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateCustomField(ctx, f.ID, crm.CustomFieldInput{FieldName: new("eventsBudget2")}); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteCustomField(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		check(f.ID, "customField.created", "customField.updated", "customField.deleted")

		l, err := svc.CreateCustomLabel(ctx, map[string]any{"lead": "Deal"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateCustomLabel(ctx, l.ID, map[string]any{"lead": "Opportunity"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteCustomLabel(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		check(l.ID, "customLabel.created", "customLabel.updated", "customLabel.deleted")

		a, err := svc.CreateAutomation(ctx, crm.AutomationInput{Name: new("Welcome"), Trigger: new("lead.created")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateAutomation(ctx, a.ID, crm.AutomationInput{Name: new("Hello")}); err != nil {
			t.Fatal(err)
		}
		dup, err := svc.DuplicateAutomation(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteAutomation(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		check(a.ID, "automation.created", "automation.updated", "automation.deleted")
		check(dup.ID, "automation.created")

		sf := svc.SavedFilters()
		filter, err := sf.Create(ctx, crm.SavedFilterInput{Name: new("Mine"), Module: new("lead"), Value: new(`{"rules":[]}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sf.Update(ctx, filter.ID, crm.SavedFilterInput{Private: new(false)}); err != nil {
			t.Fatal(err)
		}
		if err := sf.Delete(ctx, filter.ID); err != nil {
			t.Fatal(err)
		}
		check(filter.ID, "savedFilter.created", "savedFilter.updated", "savedFilter.deleted")

		// A refused write emits nothing.
		n := db.OutboxEvent.Query().Where(outboxevent.TopicHasPrefix("stage.")).CountX(registry.Unchecked(ctx))
		assertInvalid(t, mustFail(svc.CreateStage(ctx, new("  "))), "name")
		if db.OutboxEvent.Query().Where(outboxevent.TopicHasPrefix("stage.")).CountX(registry.Unchecked(ctx)) != n {
			t.Fatal("a refused write emitted an event")
		}
	})
}
