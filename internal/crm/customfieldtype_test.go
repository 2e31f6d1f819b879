package crm_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestCheckCustomFieldValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		field := func(entity customfield.Entity, name string) uuid.UUID {
			return db.CustomField.Query().
				Where(customfield.EntityEQ(entity), customfield.FieldName(name)).OnlyIDX(ctx)
		}
		budget, financing, tradeIn := field("lead", "budget"), field("lead", "financing"), field("lead", "tradeIn")
		birthday := field("contact", "birthday")
		multi := db.CustomField.Create().SetEntity("lead").SetFieldName("colours").
			SetFieldType("multiselect").SetOptions(`{"choices":["red","blue"]}`).SaveX(ctx).ID
		bounded := db.CustomField.Create().SetEntity("lead").SetFieldName("seats").
			SetFieldType("number").SetOptions(`{"min":1,"max":9}`).SaveX(ctx).ID
		when := db.CustomField.Create().SetEntity("lead").SetFieldName("handover").
			SetFieldType("datetime").SaveX(ctx).ID
		otherTenant := db.CustomField.Query().Where(customfield.FieldName("budget")).
			OnlyIDX(storetest.As(t, db, "admin@northwind-auto.test"))

		tests := []struct {
			name    string
			values  []crm.CustomFieldValueInput
			badPath string // "" when the values are valid
		}{
			{"valid values of every checked type pass", []crm.CustomFieldValueInput{
				{budget, "25000.50"}, {financing, "loan"}, {tradeIn, "false"},
				{multi, `["red","blue"]`}, {bounded, "9"}, {when, "2024-05-01T10:00:00Z"},
			}, ""},
			{"an empty value means no value for any type", []crm.CustomFieldValueInput{{budget, ""}, {financing, ""}}, ""},
			{"a number field rejects text", []crm.CustomFieldValueInput{{budget, "lots"}}, "customFieldValues[0].value"},
			{"a number field rejects infinity", []crm.CustomFieldValueInput{{budget, "Inf"}}, "customFieldValues[0].value"},
			{"a number above max is rejected", []crm.CustomFieldValueInput{{bounded, "10"}}, "customFieldValues[0].value"},
			{"a select field rejects a value outside its choices", []crm.CustomFieldValueInput{{tradeIn, "true"}, {financing, "barter"}}, "customFieldValues[1].value"},
			{"a boolean field accepts only true or false", []crm.CustomFieldValueInput{{tradeIn, "yes"}}, "customFieldValues[0].value"},
			{"a multiselect value must be a JSON array of choices", []crm.CustomFieldValueInput{{multi, "red"}}, "customFieldValues[0].value"},
			{"a multiselect value must not repeat a choice", []crm.CustomFieldValueInput{{multi, `["red","red"]`}}, "customFieldValues[0].value"},
			{"a datetime must be RFC 3339", []crm.CustomFieldValueInput{{when, "2024-05-01 10:00"}}, "customFieldValues[0].value"},
			{"a field of another entity is unknown", []crm.CustomFieldValueInput{{birthday, "2000-01-01"}}, "customFieldValues[0].field"},
			{"a field of another tenant is unknown", []crm.CustomFieldValueInput{{otherTenant, "1"}}, "customFieldValues[0].field"},
			{"an unknown field id is rejected", []crm.CustomFieldValueInput{{uuid.New(), "1"}}, "customFieldValues[0].field"},
			{"a field given twice is rejected", []crm.CustomFieldValueInput{{budget, "1"}, {budget, "2"}}, "customFieldValues[1].field"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := crm.CheckCustomFieldValues(ctx, db.Client, "lead", tc.values)
				if tc.badPath == "" {
					if err != nil {
						t.Fatalf("unexpected error: %v", err)
					}
					if len(got) != len(tc.values) || got[0].Field.ID != tc.values[0].FieldID {
						t.Fatalf("checked values = %+v", got)
					}
					return
				}
				assertInvalid(t, err, tc.badPath)
			})
		}
	})
}

// assertInvalid fails unless err is an Invalid fault.Error naming field.
func assertInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e := crm.AsError(err)
	if e == nil || e.Code != fault.Invalid || len(e.Fields[field]) == 0 {
		t.Fatalf("want Invalid naming %s, got %v", field, err)
	}
}
