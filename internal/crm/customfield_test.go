package crm_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestCustomFieldInputRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		input := func(entity, name, typ string, options *string) crm.CustomFieldInput {
			return crm.CustomFieldInput{Entity: &entity, FieldName: &name, FieldType: &typ, Options: options}
		}
		tests := []struct {
			name  string
			in    crm.CustomFieldInput
			field string // the field named by the error; "" when valid
		}{
			{"a text field needs no options", input("task", "room", "text", nil), ""},
			{"a select field with choices is valid", input("contact", "tier", "select", new(`{"choices":["gold","silver"]}`)), ""},
			{"a number field may bound its values", input("account", "rating", "number", new(`{"min":1,"max":10}`)), ""},
			{"the entity must be a known one", input("invoice", "x", "text", nil), "entity"},
			{"the type must be a known one", input("lead", "x", "money", nil), "fieldType"},
			{"the name is required", crm.CustomFieldInput{Entity: new("lead"), FieldType: new("text")}, "fieldName"},
			{"options must be a JSON object", input("lead", "x", "text", new(`["a"]`)), "options"},
			{"options must be valid JSON", input("lead", "x", "text", new(`{"choices":`)), "options"},
			{"a select field needs choices", input("lead", "x", "select", new(`{}`)), "options"},
			{"a multiselect field needs a non-empty choice list", input("lead", "x", "multiselect", new(`{"choices":[]}`)), "options"},
			{"choices must be strings", input("lead", "x", "select", new(`{"choices":[1,2]}`)), "options"},
			{"choices must be distinct", input("lead", "x", "select", new(`{"choices":["a","a"]}`)), "options"},
			{"min must not exceed max", input("lead", "x", "number", new(`{"min":5,"max":1}`)), "options"},
			{"the name must be free among the entity's live fields", input("lead", "budget", "text", nil), "fieldName"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				f, err := svc.CreateCustomField(ctx, tc.in)
				if tc.field != "" {
					assertInvalid(t, err, tc.field)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if f.FieldName != *tc.in.FieldName || (tc.in.Options == nil && f.Options != "{}") {
					t.Fatalf("created %+v", f)
				}
			})
		}
		if _, err := svc.CreateCustomField(storetest.As(t, db, "user@demo-motors.test"), input("lead", "y", "text", nil)); crm.AsError(err).Code != fault.Forbidden {
			t.Fatalf("a USER creating a field: want Forbidden, got %v", err)
		}
	})
}

func TestCustomFieldUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		id := func(name string) uuid.UUID {
			return db.CustomField.Query().Where(customfield.FieldName(name)).OnlyIDX(ctx)
		}
		financing := id("financing")
		foreign := db.CustomField.Query().FirstIDX(storetest.As(t, db, "admin@northwind-auto.test"))

		f, err := svc.UpdateCustomField(ctx, financing, crm.CustomFieldInput{
			FieldName: new("payment"), Options: new(`{"choices":["cash","loan"]}`),
			Entity: new("lead"), FieldType: new("select"), // unchanged values are accepted
		})
		if err != nil || f.FieldName != "payment" || f.Options != `{"choices":["cash","loan"]}` {
			t.Fatalf("update: %+v %v", f, err)
		}
		tests := []struct {
			name  string
			id    uuid.UUID
			in    crm.CustomFieldInput
			field string
			code  fault.Code
		}{
			{"the entity cannot change", financing, crm.CustomFieldInput{Entity: new("contact")}, "entity", fault.Invalid},
			{"the type cannot change", financing, crm.CustomFieldInput{FieldType: new("text")}, "fieldType", fault.Invalid},
			{"a select field cannot lose its choices", financing, crm.CustomFieldInput{Options: new(`{}`)}, "options", fault.Invalid},
			{"the name cannot be blank", financing, crm.CustomFieldInput{FieldName: new(" ")}, "fieldName", fault.Invalid},
			{"the name cannot be another live field's", financing, crm.CustomFieldInput{FieldName: new("budget")}, "fieldName", fault.Invalid},
			{"an unknown field is not found", uuid.New(), crm.CustomFieldInput{FieldName: new("z")}, "", fault.NotFound},
			{"another tenant's field is not found", foreign, crm.CustomFieldInput{FieldName: new("z")}, "", fault.NotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := svc.UpdateCustomField(ctx, tc.id, tc.in)
				if tc.field != "" {
					assertInvalid(t, err, tc.field)
					return
				}
				if e := crm.AsError(err); e == nil || e.Code != tc.code {
					t.Fatalf("want %s, got %v", tc.code, err)
				}
			})
		}
		if got := db.CustomField.GetX(ctx, financing); got.FieldName != "payment" || got.FieldType != "select" {
			t.Fatalf("failed updates changed the field: %+v", got)
		}
		if got := db.CustomField.GetX(tenancy.Bypass(ctx), foreign); got.FieldName == "z" {
			t.Fatal("another tenant's field was renamed")
		}
	})
}

func TestCustomFieldDeleteHidesItsValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		budget := db.CustomField.Query().Where(customfield.FieldName("budget")).OnlyIDX(ctx)
		values := db.CustomFieldValue.Query().Where(customfieldvalue.FieldIDEQ(budget)).CountX(ctx)
		if values == 0 {
			t.Fatal("the seed should hold budget values")
		}
		if err := svc.DeleteCustomField(ctx, budget); err != nil {
			t.Fatal(err)
		}
		if n := db.CustomFieldValue.Query().Where(customfieldvalue.FieldIDEQ(budget)).CountX(ctx); n != 0 {
			t.Fatalf("%d values of the deleted field are still visible", n)
		}
		if n := db.CustomFieldValue.Query().Where(customfieldvalue.FieldIDEQ(budget), customfieldvalue.IsDeleted(true)).
			CountX(tenancy.WithDeleted(ctx)); n != values {
			t.Fatalf("want %d soft-deleted values, got %d", values, n)
		}
		fields, err := svc.ListCustomFields(ctx, "lead")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			if f.ID == budget {
				t.Fatal("a deleted field is listed")
			}
		}
		// The name is free again.
		if _, err := svc.CreateCustomField(ctx, crm.CustomFieldInput{
			Entity: new("lead"), FieldName: new("budget"), FieldType: new("number"),
		}); err != nil {
			t.Fatalf("reusing a deleted field's name: %v", err)
		}
		if err := svc.DeleteCustomField(ctx, budget); crm.AsError(err).Code != fault.NotFound {
			t.Fatalf("deleting twice: want NotFound, got %v", err)
		}
		if _, err := svc.ListCustomFields(ctx, "invoice"); crm.AsError(err).Code != fault.Invalid {
			t.Fatalf("an unknown entity: want Invalid, got %v", err)
		}
	})
}

// Concurrent creates of one name: the check and the partial unique index
// together let exactly one through, and the others get the same clear
// Invalid error (never a driver error) on both databases.
func TestCustomFieldConcurrentCreatesOfOneName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		const n = 6
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := svc.CreateCustomField(ctx, crm.CustomFieldInput{
					Entity: new("lead"), FieldName: new("warranty"), FieldType: new("boolean"),
				})
				errs <- err
			}()
		}
		created := 0
		for range n {
			if err := <-errs; err == nil {
				created++
			} else if e := crm.AsError(err); e.Code != fault.Invalid || len(e.Fields["fieldName"]) == 0 {
				t.Errorf("a losing create: want Invalid naming fieldName, got %v", err)
			}
		}
		if created != 1 {
			t.Fatalf("%d creates of one name succeeded, want 1", created)
		}
	})
}

// A create that gets past the name check in a race meets the partial unique
// index; fieldNameTaken turns that violation into the same Invalid error.
func TestFieldNameTakenMapsTheUniqueIndexViolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		_, err := db.CustomField.Create().SetEntity("lead").SetFieldName("budget").SetFieldType("text").Save(ctx)
		if err == nil {
			t.Fatal("the unique index let a duplicate live field name through")
		}
		if e := crm.AsError(crm.FieldNameTaken(err)); e.Code != fault.Invalid || len(e.Fields["fieldName"]) == 0 {
			t.Fatalf("want Invalid naming fieldName, got %v", e)
		}
	})
}
