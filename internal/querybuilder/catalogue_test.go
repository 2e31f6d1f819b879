package querybuilder_test

import (
	"encoding/json"
	"testing"

	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// sample is a valid value of field f.
func sample(f querybuilder.Field) any {
	switch f.Type {
	case querybuilder.TypeNumber:
		return 1
	case querybuilder.TypeBoolean:
		return true
	case querybuilder.TypeDate:
		return "2026-01-01"
	case querybuilder.TypeDateTime:
		return "2026-01-01T00:00:00Z"
	case querybuilder.TypeEnum:
		return f.Values[0]
	}
	return "a"
}

// everyOperator is an "or" group of one rule per operator field f accepts.
func everyOperator(f querybuilder.Field) []byte {
	var rules []any
	for _, op := range f.Operators() {
		r := map[string]any{"field": f.Name, "operator": op, "value": sample(f)}
		switch op {
		case querybuilder.OpIn, querybuilder.OpNotIn, querybuilder.OpBetween, querybuilder.OpNotBetween:
			r["value"] = []any{sample(f), sample(f)}
		}
		rules = append(rules, r)
	}
	b, _ := json.Marshal(map[string]any{"combinator": "or", "rules": rules})
	return b
}

// TestEveryFieldRuns compiles every operator of every catalogued field of
// every entity and runs it (count and page), on both databases: a typo in the catalogue or a
// dialect slip would fail here.
func TestEveryFieldRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		svc := crm.NewService(db.Client)
		for _, entity := range querybuilder.Entities() {
			c, err := svc.FilterCatalogue(ctx, entity)
			if err != nil {
				t.Fatalf("%s: %v", entity, err)
			}
			for _, f := range c.Fields() {
				// The count and a page, through the entity's own finder.
				if _, err := svc.Filter(ctx, entity, everyOperator(f), querybuilder.Page{Limit: 1}); err != nil {
					t.Errorf("%s.%s: %v", entity, f.Name, err)
				}
			}
		}
	})
}

func TestCustomFieldsAreTypedByFieldType(t *testing.T) {
	c := testCatalogue(t, "lead")
	want := map[string]querybuilder.Type{
		"custom.budget": querybuilder.TypeNumber, "custom.financing": querybuilder.TypeEnum, "custom.tradeIn": querybuilder.TypeBoolean,
		"custom.visitDate": querybuilder.TypeDate, "custom.callbackAt": querybuilder.TypeDateTime, "custom.notes": querybuilder.TypeString,
		"custom.extras": querybuilder.TypeEnum,
	}
	for name, typ := range want {
		f, ok := c.Field(name)
		if !ok || f.Type != typ {
			t.Errorf("%s: got %v (found %v), want %s", name, f.Type, ok, typ)
		}
	}
	if f, _ := c.Field("custom.financing"); len(f.Values) != 3 {
		t.Errorf("select choices: %v", f.Values)
	}
}

func TestEnumValuesAreTheSchemas(t *testing.T) {
	f, ok := testCatalogue(t, "task").Field("type")
	if !ok {
		t.Fatal("task has no type field")
	}
	for _, v := range f.Values {
		if err := task.TypeValidator(task.Type(v)); err != nil {
			t.Error(err)
		}
	}
}

func TestLabels(t *testing.T) {
	for name, want := range map[string]string{
		"lastName": "Last name", "contact.primaryEmail": "Contact primary email", "cpo": "Cpo", "émile": "Émile",
	} {
		if got := querybuilder.LabelOf(name); got != want {
			t.Errorf("querybuilder.LabelOf(%q) = %q, want %q", name, got, want)
		}
	}
}
