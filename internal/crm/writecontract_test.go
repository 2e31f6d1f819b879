package crm_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// numberField makes a number custom field of entity (a text value is then
// refused on it).
func numberField(t *testing.T, db *store.DB, ctx context.Context, entity customfield.Entity, name string) uuid.UUID {
	t.Helper()
	return db.CustomField.Create().SetEntity(entity).SetFieldName(name).SetFieldType(customfield.FieldTypeNumber).SaveX(ctx).ID
}

// Custom field values on accounts, contacts and tasks, as on leads: a
// change is an event with the value before and after, an empty value
// removes it (after null), and a refused value names its field and
// changes neither the stored value nor the outbox.
func TestCustomFieldValuesOnAccountsContactsAndTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		me := viewer.FromContext(ctx).UserID
		cases := []struct {
			entity customfield.Entity
			topic  string
			create func(vals []crm.CustomFieldValueInput) (uuid.UUID, error)
			update func(id uuid.UUID, vals []crm.CustomFieldValueInput) error
		}{
			{customfield.EntityAccount, "account", func(vals []crm.CustomFieldValueInput) (uuid.UUID, error) {
				a, err := svc.CreateAccount(ctx, crm.AccountInput{Name: new("Valued"), CustomFieldValues: vals})
				if err != nil {
					return uuid.Nil, err
				}
				return a.ID, nil
			}, func(id uuid.UUID, vals []crm.CustomFieldValueInput) error {
				_, err := svc.UpdateAccount(ctx, id, crm.AccountInput{CustomFieldValues: vals})
				return err
			}},
			{customfield.EntityContact, "contact", func(vals []crm.CustomFieldValueInput) (uuid.UUID, error) {
				c, err := svc.CreateContact(ctx, crm.ContactWriteInput{ContactInput: crm.ContactInput{FirstName: new("Valued")}, CustomFieldValues: vals})
				if err != nil {
					return uuid.Nil, err
				}
				return c.ID, nil
			}, func(id uuid.UUID, vals []crm.CustomFieldValueInput) error {
				_, err := svc.UpdateContact(ctx, id, crm.ContactWriteInput{CustomFieldValues: vals})
				return err
			}},
			{customfield.EntityTask, "task", func(vals []crm.CustomFieldValueInput) (uuid.UUID, error) {
				tk, err := svc.CreateTask(ctx, crm.TaskInput{Title: new("Valued"), AssigneeID: &me, CustomFieldValues: vals})
				if err != nil {
					return uuid.Nil, err
				}
				return tk.ID, nil
			}, func(id uuid.UUID, vals []crm.CustomFieldValueInput) error {
				_, err := svc.UpdateTask(ctx, id, crm.TaskInput{CustomFieldValues: vals})
				return err
			}},
		}
		for _, c := range cases {
			t.Run(string(c.entity), func(t *testing.T) {
				text := customField(t, db, ctx, c.entity, "contract_"+string(c.entity))
				num := numberField(t, db, ctx, c.entity, "contract_n_"+string(c.entity))
				stored := func(id, field uuid.UUID) *string {
					v, err := db.CustomFieldValue.Query().Where(customfieldvalue.RecordID(id), customfieldvalue.FieldIDEQ(field)).Only(ctx)
					if err != nil {
						return nil
					}
					return &v.Value
				}
				id, err := c.create([]crm.CustomFieldValueInput{{FieldID: text, Value: "first"}})
				if err != nil {
					t.Fatal(err)
				}
				field := "customFieldValues.contract_" + string(c.entity)
				if ch := change(t, lastEvent(t, db, ctx, id, c.topic+".created"), field); ch["before"] != nil || ch["after"] != "first" {
					t.Fatalf("created change %v", ch)
				}
				if err := c.update(id, []crm.CustomFieldValueInput{{FieldID: text, Value: "second"}}); err != nil {
					t.Fatal(err)
				}
				if ch := change(t, lastEvent(t, db, ctx, id, c.topic+".updated"), field); ch["before"] != "first" || ch["after"] != "second" {
					t.Fatalf("updated change %v", ch)
				}
				if v := stored(id, text); v == nil || *v != "second" {
					t.Fatalf("stored %v", v)
				}
				n := len(events(t, db, ctx, id))
				assertInvalid(t, c.update(id, []crm.CustomFieldValueInput{{FieldID: text, Value: "third"}, {FieldID: num, Value: "not a number"}}),
					"customFieldValues[1].value")
				if v := stored(id, text); v == nil || *v != "second" || len(events(t, db, ctx, id)) != n {
					t.Fatalf("a refused update changed the value (%v) or emitted (%d events, had %d)", v, len(events(t, db, ctx, id)), n)
				}
				if err := c.update(id, []crm.CustomFieldValueInput{{FieldID: text, Value: ""}}); err != nil {
					t.Fatal(err)
				}
				if ch := change(t, lastEvent(t, db, ctx, id, c.topic+".updated"), field); ch["before"] != "second" || ch["after"] != nil {
					t.Fatalf("removed change %v", ch)
				}
				if v := stored(id, text); v != nil {
					t.Fatalf("an empty value left %q", *v)
				}
			})
		}
	})
}

// Appointments and follow-ups: a refused update changes nothing and emits
// nothing; completing emits taskDone false → true; a delete's event has
// no changes; another tenant's answers NotFound for every write.
func TestAppointmentAndFollowUpWriteContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		stranger := storetest.As(t, db, "admin@northwind-auto.test")
		me := viewer.FromContext(ctx).UserID

		a, err := svc.CreateAppointment(ctx, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("Contract"), AssigneeID: &me}})
		if err != nil {
			t.Fatal(err)
		}
		n := len(events(t, db, ctx, a.ID))
		assertInvalid(t, mustFail(svc.UpdateAppointment(ctx, a.ID, crm.AppointmentInput{EventInput: crm.EventInput{Title: new("Renamed")},
			URL: crm.Opt[string]{Set: true, Value: new("ftp://nope")}})), "url")
		if got := db.Appointment.GetX(ctx, a.ID); got.Title != "Contract" || got.URL != nil || len(events(t, db, ctx, a.ID)) != n {
			t.Fatalf("a refused update wrote: %+v", got)
		}
		for name, err := range map[string]error{
			"update":   mustFail(svc.UpdateAppointment(stranger, a.ID, crm.AppointmentInput{NoShow: new(true)})),
			"complete": mustFail(svc.CompleteAppointment(stranger, a.ID)),
			"delete":   svc.DeleteAppointment(stranger, a.ID),
		} {
			if crm.AsError(err).Code != fault.NotFound {
				t.Errorf("another tenant's %s: %v", name, err)
			}
		}
		if _, err := svc.CompleteAppointment(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if ch := change(t, lastEvent(t, db, ctx, a.ID, "appointment.completed"), "taskDone"); ch["before"] != false || ch["after"] != true {
			t.Fatalf("completed change %v", ch)
		}
		if !db.Appointment.GetX(ctx, a.ID).TaskDone {
			t.Fatal("not stored as done")
		}
		if err := svc.DeleteAppointment(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if ev := lastEvent(t, db, ctx, a.ID, "appointment.deleted"); len(ev.Payload["changes"].(map[string]any)) != 0 {
			t.Fatalf("deleted changes %v", ev.Payload["changes"])
		}

		f, err := svc.CreateFollowUp(ctx, crm.EventInput{Title: new("Contract"), AssigneeID: &me})
		if err != nil {
			t.Fatal(err)
		}
		n = len(events(t, db, ctx, f.ID))
		assertInvalid(t, mustFail(svc.UpdateFollowUp(ctx, f.ID, crm.EventInput{Title: new("Renamed"), AssigneeID: new(uuid.New())})), "assignee")
		if got := db.FollowUp.GetX(ctx, f.ID); got.Title != "Contract" || len(events(t, db, ctx, f.ID)) != n {
			t.Fatalf("a refused update wrote: %+v", got)
		}
		for name, err := range map[string]error{
			"update": mustFail(svc.UpdateFollowUp(stranger, f.ID, crm.EventInput{Title: new("theirs")})),
			"delete": svc.DeleteFollowUp(stranger, f.ID),
		} {
			if crm.AsError(err).Code != fault.NotFound {
				t.Errorf("another tenant's follow-up %s: %v", name, err)
			}
		}
		if _, err := svc.CompleteFollowUp(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		if ch := change(t, lastEvent(t, db, ctx, f.ID, "followUp.completed"), "taskDone"); ch["before"] != false || ch["after"] != true {
			t.Fatalf("completed change %v", ch)
		}
	})
}

// Third-party ids on a contact of its own: the update's event has them
// before and after; another tenant's contact answers NotFound; a refused
// list names its field and keeps the stored ids.
func TestContactThirdPartyIDsContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		one := func(system, id string) *[]crm.ThirdPartyIDInput {
			return &[]crm.ThirdPartyIDInput{{SystemName: system, ThirdPartyID: id}}
		}
		c, err := svc.CreateContact(ctx, crm.ContactWriteInput{ContactInput: crm.ContactInput{FirstName: new("Linked"),
			CustomerFields: crm.CustomerFields{ThirdPartyIDs: one("dms", "C-1")}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.UpdateContact(ctx, c.ID, crm.ContactWriteInput{ContactInput: crm.ContactInput{CustomerFields: crm.CustomerFields{ThirdPartyIDs: one("dms", "C-2")}}})
		if err != nil || len(got.Edges.ThirdPartyIds) != 1 || got.Edges.ThirdPartyIds[0].ThirdPartyID != "C-2" {
			t.Fatalf("answer %+v %v", got, err)
		}
		ch := change(t, lastEvent(t, db, ctx, c.ID, "contact.updated"), "thirdPartyIds")
		before, _ := ch["before"].([]any)
		after, _ := ch["after"].([]any)
		if len(before) != 1 || len(after) != 1 || before[0].(map[string]any)["thirdPartyId"] != "C-1" || after[0].(map[string]any)["thirdPartyId"] != "C-2" {
			t.Fatalf("thirdPartyIds change %v", ch)
		}
		n := len(events(t, db, ctx, c.ID))
		assertInvalid(t, mustFail(svc.UpdateContact(ctx, c.ID, crm.ContactWriteInput{ContactInput: crm.ContactInput{
			CustomerFields: crm.CustomerFields{ThirdPartyIDs: one("dms", "")}}})), "thirdPartyIds[0].thirdPartyId")
		if ids := db.Contact.QueryThirdPartyIds(db.Contact.GetX(ctx, c.ID)).AllX(ctx); len(ids) != 1 || ids[0].ThirdPartyID != "C-2" || len(events(t, db, ctx, c.ID)) != n {
			t.Fatalf("a refused update changed the ids: %v", ids)
		}
		stranger := storetest.As(t, db, "admin@northwind-auto.test")
		if _, err := svc.UpdateContact(stranger, c.ID, crm.ContactWriteInput{ContactInput: crm.ContactInput{
			CustomerFields: crm.CustomerFields{ThirdPartyIDs: one("dms", "X")}}}); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("another tenant's contact: %v", err)
		}
	})
}

// A lead's third-party ids (the spec's Connection.thirdPartyIds) are
// written by updateLead: given, they replace the lead's; an empty list
// clears them; the event has them before and after; a second id of one
// system is refused naming it and changes nothing; USER (no lead.write)
// and another tenant are refused.
func TestLeadThirdPartyIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		ids := func(pairs ...string) *[]crm.ThirdPartyIDInput {
			out := []crm.ThirdPartyIDInput{}
			for i := 0; i < len(pairs); i += 2 {
				out = append(out, crm.ThirdPartyIDInput{SystemName: pairs[i], ThirdPartyID: pairs[i+1]})
			}
			return &out
		}
		l, err := svc.CreateLead(ctx, leadInput(t, db, ctx, "With third-party ids"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.UpdateLead(ctx, l.ID, crm.LeadUpdateInput{ThirdPartyIDs: ids("dms", "L-1", "erp", "9")})
		if err != nil || len(got.Edges.ThirdPartyIds) != 2 {
			t.Fatalf("answer %+v %v", got, err)
		}
		ch := change(t, lastEvent(t, db, ctx, l.ID, "lead.updated"), "thirdPartyIds")
		if after, _ := ch["after"].([]any); ch["before"] != nil || len(after) != 2 || after[0].(map[string]any)["systemName"] != "dms" {
			t.Fatalf("thirdPartyIds change %v", ch)
		}
		stored := func() int { return db.Lead.QueryThirdPartyIds(db.Lead.GetX(ctx, l.ID)).CountX(ctx) }
		n := len(events(t, db, ctx, l.ID))
		assertInvalid(t, mustFail(svc.UpdateLead(ctx, l.ID, crm.LeadUpdateInput{Subject: new("Renamed"), ThirdPartyIDs: ids("dms", "1", "DMS", "2")})),
			"thirdPartyIds[1].systemName")
		if stored() != 2 || len(events(t, db, ctx, l.ID)) != n || db.Lead.GetX(ctx, l.ID).Subject == "Renamed" {
			t.Fatal("a refused update changed the lead")
		}
		if _, err := svc.UpdateLead(storetest.As(t, db, "user@demo-motors.test"), l.ID, crm.LeadUpdateInput{ThirdPartyIDs: ids()}); crm.AsError(err).Code != fault.Forbidden {
			t.Fatalf("USER: %v", err)
		}
		if _, err := svc.UpdateLead(storetest.As(t, db, "admin@northwind-auto.test"), l.ID, crm.LeadUpdateInput{ThirdPartyIDs: ids()}); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("another tenant: %v", err)
		}
		if _, err := svc.UpdateLead(ctx, l.ID, crm.LeadUpdateInput{ThirdPartyIDs: ids()}); err != nil || stored() != 0 {
			t.Fatalf("an empty list must clear them: %d left, %v", stored(), err)
		}
	})
}
