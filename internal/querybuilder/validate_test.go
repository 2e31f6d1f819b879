package querybuilder_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/querybuilder"
)

// testCatalogue is entity's catalogue with the fixture's custom fields,
// built without a database.
func testCatalogue(t testing.TB, entity string) *querybuilder.Catalogue {
	t.Helper()
	var custom []*ent.CustomField
	for _, f := range fxCustom {
		if !f.deleted {
			custom = append(custom, &ent.CustomField{ID: uuid.New(), FieldName: f.name,
				FieldType: f.typ, Entity: customfield.Entity(entity), Options: f.options})
		}
	}
	c, err := querybuilder.New(entity, uuid.New(), crm.FilterFields(entity), func(string) error { return nil }, custom)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func compileString(c *querybuilder.Catalogue, query string) error {
	_, err := c.CompileJSON([]byte(query))
	return err
}

// nested returns a query whose groups nest depth levels.
func nested(depth int) string {
	q := `{"id":"leaf","field":"priority","operator":"=","value":1}`
	for i := 0; i < depth; i++ {
		q = fmt.Sprintf(`{"id":"g%d","combinator":"and","rules":[%s]}`, i, q)
	}
	return q
}

func manyRules(n int) string {
	rules := make([]string, n)
	for i := range rules {
		rules[i] = fmt.Sprintf(`{"id":"r%d","field":"priority","operator":"=","value":%d}`, i, i)
	}
	return `{"rules":[` + strings.Join(rules, ",") + `]}`
}

func manyValues(n int) []any {
	vs := make([]any, n)
	for i := range vs {
		vs[i] = i
	}
	return vs
}

func TestValidationErrorsNameTheRule(t *testing.T) {
	c := testCatalogue(t, "lead")
	cases := []struct {
		name, query string
		ref         string // the rule or group named
		msg         string // part of the message
	}{
		{"not an object", `[]`, "query", "rule group object"},
		{"a string", `"x"`, "query", "rule group object"},
		{"null query wrapper", `{"query":"x"}`, "query", "rule group object"},
		{"rules not an array", `{"rules":5}`, "query", "rule group object"},
		{"rule not an object", `{"id":"g","rules":[5]}`, "g", "must be a rule, a group or a combinator"},
		{"unknown combinator", `{"id":"g","combinator":"xor","rules":[]}`, "g", `combinator must be "and" or "or"`},
		{"rule without field", `{"rules":[{"id":"r1","operator":"=","value":1}]}`, "r1", "field is required"},
		{"unknown field", rule("nope", "=", 1), "r1", `unknown field "nope" for lead`},
		{"deleted custom field is unknown", rule("custom.retired", "=", "x"), "r1", "unknown field"},
		{"unknown operator", rule("subject", "like", "x"), "r1", `unknown operator "like"`},
		{"operator invalid for type", rule("priority", "contains", "1"), "r1", `operator "contains" is not valid for number field priority`},
		{"boolean has no <", rule("isQualified", "<", true), "r1", "not valid for boolean"},
		{"string gets an object", rule("subject", "=", map[string]any{"$ne": 1}), "r1", "value must be a string"},
		{"string gets a boolean", rule("subject", "=", true), "r1", "value must be a string"},
		{"number gets text", rule("priority", "=", "abc"), "r1", `"abc" is not a number`},
		{"number gets hex", rule("custom.budget", "=", "0x10"), "r1", "is not a number"},
		{"number out of range", rule("custom.budget", ">", "1e999"), "r1", "out of range"},
		{"whole number column gets a fraction", rule("priority", "=", 1.5), "r1", "priority takes whole numbers"},
		{"boolean gets text", rule("isQualified", "=", "yes"), "r1", "true or false"},
		{"date is not a date", rule("custom.visitDate", "=", "2026-02-30"), "r1", "YYYY-MM-DD"},
		{"datetime is not a datetime", rule("dueDate", ">", "tomorrow"), "r1", "date-time"},
		{"enum value not allowed", rule("status.kind", "=", "open"), "r1", `"open" is not one of OPEN, CLOSED, LOST, SOLD`},
		{"select value not allowed", rule("custom.financing", "in", "cash,bitcoin"), "r1", `value 2: "bitcoin" is not one of`},
		{"between takes two values", rule("priority", "between", []any{1}), "r1", "between takes two values, got 1"},
		{"between takes no object", rule("priority", "between", map[string]any{}), "r1", "array or a comma-separated string"},
		{"in needs a value", rule("priority", "in", ""), "r1", "in takes at least one value"},
		{"in takes at most 1000 values", rule("priority", "in", manyValues(querybuilder.MaxInValues+1)), "r1", "at most 1000 values"},
		{"valueSource unknown", `{"rules":[{"id":"r1","field":"priority","operator":"=","valueSource":"sql","value":"1"}]}`, "r1", "valueSource"},
		{"field source unknown field", fieldRuleJSON("priority", "=", "nope"), "r1", `unknown field "nope"`},
		{"field source needs a name", `{"rules":[{"id":"r1","field":"priority","operator":"=","valueSource":"field","value":5}]}`, "r1", "value must name a field"},
		{"field source operator", fieldRuleJSON("subject", "contains", "description"), "r1", "cannot compare two fields"},
		{"field source related field", fieldRuleJSON("subject", "=", "contact.lastName"), "r1", "not related or custom fields"},
		{"field source type mismatch", fieldRuleJSON("priority", "=", "subject"), "r1", "cannot compare number field priority with string field subject"},
		{"leading combinator", `{"id":"g","rules":["and",{"id":"r1","field":"priority","operator":"=","value":1}]}`, "g", "unexpected combinator"},
		{"two combinators", `{"id":"g","rules":[{"field":"priority","operator":"=","value":1},"and","or",{"field":"priority","operator":"=","value":1}]}`, "g", "unexpected combinator"},
		{"trailing combinator", `{"id":"g","rules":[{"field":"priority","operator":"=","value":1},"and"]}`, "g", "ends with a combinator"},
		{"missing combinator", `{"id":"g","rules":[{"field":"priority","operator":"=","value":1},"and",{"field":"priority","operator":"=","value":1},{"field":"priority","operator":"=","value":1}]}`, "g", "combinator is missing"},
		{"rule named by position", `{"rules":[{"field":"priority","operator":"=","value":1},{"field":"nope","operator":"=","value":1}]}`, "query.rules[1]", "unknown field"},
		{"depth over 10", nested(querybuilder.MaxDepth + 1), "g0", "nested deeper than 10 levels"},
		{"more than 500 rules", manyRules(querybuilder.MaxRules + 1), "r500", "more than 500 rules"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := compileString(c, tc.query)
			var e *fault.Error
			if !errors.As(err, &e) || e.Code != fault.Invalid {
				t.Fatalf("got %v, want an Invalid fault.Error", err)
			}
			if _, ok := e.Fields[tc.ref]; !ok || !strings.Contains(e.Message, "rule "+tc.ref+":") {
				t.Errorf("error %q (fields %v) does not name %q", e.Message, e.FieldNames(), tc.ref)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error %q does not say %q", e.Message, tc.msg)
			}
		})
	}
}

func TestLimitsAreInclusive(t *testing.T) {
	c := testCatalogue(t, "lead")
	for name, q := range map[string]string{
		"depth 10":       nested(querybuilder.MaxDepth - 1),
		"500 rules":      manyRules(querybuilder.MaxRules),
		"1000 in values": rule("priority", "in", manyValues(querybuilder.MaxInValues)),
	} {
		if err := compileString(c, q); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func assertInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	var e *fault.Error
	if !errors.As(err, &e) || e.Code != fault.Invalid || len(e.Fields[field]) == 0 {
		t.Fatalf("want Invalid naming %s, got %v", field, err)
	}
}
