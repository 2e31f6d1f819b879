package querybuilder_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// rule is one rule as JSON; value "-" leaves the value out.
func rule(field, op string, value any) string {
	r := map[string]any{"id": "r1", "field": field, "operator": op}
	if value != "-" {
		r["value"] = value
	}
	b, _ := json.Marshal(map[string]any{"combinator": "and", "rules": []any{r}})
	return string(b)
}

// fieldRuleJSON compares field with other.
func fieldRuleJSON(field, op, other string) string {
	return fmt.Sprintf(`{"rules":[{"id":"r1","field":%q,"operator":%q,"valueSource":"field","value":%q}]}`, field, op, other)
}

func keys(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Fields(s)
}

// TestOperators runs every operator on every field type against the
// fixture, on both databases; expected leads are worked out by hand from
// fixture_test.go (live leads L1…L5; L6 is deleted).
func TestOperators(t *testing.T) {
	cases := []struct {
		name, query, want string
	}{
		// string, not null (subject): case-insensitive, % and _ literal
		{"string = folds case", rule("subject", "=", "civic_lx"), "L2"},
		{"string !=", rule("subject", "!=", "civic_lx"), "L1 L3 L4 L5"},
		{"string <", rule("subject", "<", "m"), "L1 L2"},
		{"string <=", rule("subject", "<=", "MODEL 3"), "L1 L2 L4"},
		{"string >", rule("subject", ">", "outback"), "L3"},
		{"string >=", rule("subject", ">=", "Outback"), "L3 L5"},
		{"string contains", rule("subject", "contains", "50% O"), "L1"},
		{"string contains % literally", rule("subject", "contains", "%"), "L1"},
		{"string beginsWith _ literally", rule("subject", "beginsWith", "civic_"), "L2"},
		{"string doesNotContain", rule("subject", "doesNotContain", "civic"), "L3 L4 L5"},
		{"string beginsWith", rule("subject", "beginsWith", "CIVIC"), "L1 L2"},
		{"string doesNotBeginWith", rule("subject", "doesNotBeginWith", "civic"), "L3 L4 L5"},
		{"string endsWith", rule("subject", "endsWith", "OFF"), "L1"},
		{"string doesNotEndWith", rule("subject", "doesNotEndWith", "off"), "L2 L3 L4 L5"},
		{"string null", rule("subject", "null", "-"), ""},
		{"string notNull", rule("subject", "notNull", "-"), "L1 L2 L3 L4 L5"},
		{"string in comma-separated", rule("subject", "in", "civic_lx, Model 3"), "L2 L4"},
		{"string in array", rule("subject", "in", []any{"OUTBACK", "nope"}), "L5"},
		{"string notIn", rule("subject", "notIn", []any{"outback", "model 3"}), "L1 L2 L3"},
		{"string between", rule("subject", "between", []any{"c", "d"}), "L1 L2"},
		{"string notBetween", rule("subject", "notBetween", "c,d"), "L3 L4 L5"},
		// string, nullable (description: L2 NULL, L5 empty)
		{"nullable string =", rule("description", "=", "CALL BACK SOON"), "L1"},
		{"nullable string != includes no value", rule("description", "!=", "call back soon"), "L2 L3 L4 L5"},
		{"nullable string contains", rule("description", "contains", "back"), "L1 L4"},
		{"nullable string doesNotContain", rule("description", "doesNotContain", "back"), "L2 L3 L5"},
		{"nullable string < skips empty text", rule("description", "<", "c"), "L3"},
		{"null is NULL or empty", rule("description", "null", "-"), "L2 L5"},
		{"notNull", rule("description", "notNull", "-"), "L1 L3 L4"},
		// number
		{"number =", rule("priority", "=", 2), "L2 L5"},
		{"number !=", rule("priority", "!=", 2), "L1 L3 L4"},
		{"number <", rule("priority", "<", 2), "L1"},
		{"number <=", rule("priority", "<=", 2), "L1 L2 L5"},
		{"number >", rule("priority", ">", 2), "L4"},
		{"number >= from a string", rule("priority", ">=", "2"), "L2 L4 L5"},
		{"number null", rule("priority", "null", "-"), "L3"},
		{"number notNull", rule("priority", "notNull", "-"), "L1 L2 L4 L5"},
		{"number in", rule("priority", "in", "1,3"), "L1 L4"},
		{"number notIn", rule("priority", "notIn", []any{1, 3}), "L2 L3 L5"},
		{"number between is inclusive", rule("priority", "between", []any{2, 3}), "L2 L4 L5"},
		{"number notBetween", rule("priority", "notBetween", "2,3"), "L1 L3"},
		{"number between in given order", rule("priority", "between", []any{3, 2}), ""},
		{"not null number between", rule("visitCount", "between", "1, 3"), "L2 L4 L5"},
		{"not null number notBetween", rule("visitCount", "notBetween", "1, 3"), "L1 L3"},
		// boolean
		{"boolean = true", rule("isQualified", "=", true), "L1 L4"},
		{"boolean = from a string", rule("isQualified", "=", "false"), "L2 L3 L5"},
		{"boolean !=", rule("isQualified", "!=", true), "L2 L3 L5"},
		{"nullable boolean =", rule("offerMade", "=", true), "L1 L5"},
		{"nullable boolean !=", rule("offerMade", "!=", true), "L2 L3 L4"},
		{"nullable boolean = false", rule("offerMade", "=", false), "L2"},
		{"boolean null", rule("offerMade", "null", "-"), "L3 L4"},
		{"boolean notNull", rule("offerMade", "notNull", "-"), "L1 L2 L5"},
		// datetime
		{"datetime =", rule("dueDate", "=", "2026-02-10T09:00:00Z"), "L2 L5"},
		{"datetime !=", rule("dueDate", "!=", "2026-02-10T09:00:00Z"), "L1 L3 L4"},
		{"datetime <", rule("dueDate", "<", "2026-02-10T09:00:00Z"), "L1"},
		{"datetime <=", rule("dueDate", "<=", "2026-02-10T09:00:00Z"), "L1 L2 L5"},
		{"datetime > with an offset", rule("dueDate", ">", "2026-02-10T10:00:00+01:00"), "L4"},
		{"datetime >= a date", rule("dueDate", ">=", "2026-02-10"), "L2 L4 L5"},
		{"datetime null", rule("dueDate", "null", "-"), "L3"},
		{"datetime notNull", rule("dueDate", "notNull", "-"), "L1 L2 L4 L5"},
		{"datetime between", rule("dueDate", "between", []any{"2026-02-01", "2026-03-10T09:00:00Z"}), "L2 L4 L5"},
		{"datetime notBetween", rule("dueDate", "notBetween", "2026-02-01,2026-03-10T08:59:59Z"), "L1 L3 L4"},
		// enum through a relation
		{"enum path =", rule("status.kind", "=", "OPEN"), "L1 L4"},
		{"enum path !=", rule("status.kind", "!=", "OPEN"), "L2 L3 L5"},
		{"enum path in", rule("status.kind", "in", []any{"SOLD"}), "L2"},
		{"enum path notIn", rule("status.kind", "notIn", "SOLD,CLOSED"), "L1 L3 L4 L5"},
		{"enum path null", rule("status.kind", "null", "-"), "L3 L5"},
		{"enum path notNull", rule("status.kind", "notNull", "-"), "L1 L2 L4"},
		// relations: deleted and other tenants' rows never match
		{"ref by name", rule("stage", "=", "new"), "L1 L5"},
		{"ref !=", rule("stage", "!=", "New"), "L2 L3 L4"},
		{"ref contains", rule("stage", "contains", "TACT"), "L2"},
		{"ref null (deleted stage counts as none)", rule("stage", "null", "-"), "L3 L4"},
		{"ref notNull", rule("stage", "notNull", "-"), "L1 L2 L5"},
		{"path =", rule("contact.lastName", "=", "martin"), "L1"},
		{"path !=", rule("contact.lastName", "!=", "martin"), "L2 L3 L4 L5"},
		{"path beginsWith a quote", rule("contact.lastName", "beginsWith", "o'"), "L2"},
		{"path null", rule("contact.lastName", "null", "-"), "L3 L4 L5"},
		{"path notNull", rule("contact.lastName", "notNull", "-"), "L1 L2"},
		{"to-many = folds case", rule("assignees", "=", "bob@FIXTURE.test"), "L2 L4"},
		{"to-many !=", rule("assignees", "!=", "ada@fixture.test"), "L3 L4 L5"},
		{"to-many in", rule("assignees", "in", []any{"ada@fixture.test", "bob@fixture.test"}), "L1 L2 L4"},
		{"to-many notIn", rule("assignees", "notIn", "ada@fixture.test,bob@fixture.test"), "L3 L5"},
		{"to-many contains", rule("assignees", "contains", "bob"), "L2 L4"},
		{"to-many deleted user", rule("assignees", "=", "zed@fixture.test"), ""},
		{"to-many null", rule("assignees", "null", "-"), "L3 L5"},
		{"to-many notNull", rule("assignees", "notNull", "-"), "L1 L2 L4"},
		// custom number (L3 "abc" is no value; L5's value is another tenant's)
		{"custom number =", rule("custom.budget", "=", 20000), "L1"},
		{"custom number !=", rule("custom.budget", "!=", 20000), "L2 L3 L4 L5"},
		{"custom number < reads 1e3", rule("custom.budget", "<", 20000), "L4"},
		{"custom number <=", rule("custom.budget", "<=", "20000"), "L1 L4"},
		{"custom number >", rule("custom.budget", ">", 1000), "L1 L2"},
		{"custom number >= decimal", rule("custom.budget", ">=", 35000.5), "L2"},
		{"custom number null", rule("custom.budget", "null", "-"), "L3 L5"},
		{"custom number notNull", rule("custom.budget", "notNull", "-"), "L1 L2 L4"},
		{"custom number in", rule("custom.budget", "in", []any{1000, 35000.5}), "L2 L4"},
		{"custom number notIn", rule("custom.budget", "notIn", "1000"), "L1 L2 L3 L5"},
		{"custom number between", rule("custom.budget", "between", []any{1000, 20000}), "L1 L4"},
		{"custom number notBetween", rule("custom.budget", "notBetween", []any{1000, 20000}), "L2 L3 L5"},
		{"custom value of another tenant", rule("custom.budget", "=", 99999), ""},
		// custom select
		{"custom select =", rule("custom.financing", "=", "cash"), "L1"},
		{"custom select !=", rule("custom.financing", "!=", "cash"), "L2 L3 L4 L5"},
		{"custom select in", rule("custom.financing", "in", "loan,lease"), "L2 L4"},
		{"custom select notIn", rule("custom.financing", "notIn", []any{"cash"}), "L2 L3 L4 L5"},
		{"custom select null", rule("custom.financing", "null", "-"), "L3 L5"},
		{"custom select notNull", rule("custom.financing", "notNull", "-"), "L1 L2 L4"},
		// custom boolean
		{"custom boolean = true", rule("custom.tradeIn", "=", true), "L1 L4"},
		{"custom boolean = false", rule("custom.tradeIn", "=", "false"), "L2"},
		{"custom boolean !=", rule("custom.tradeIn", "!=", true), "L2 L3 L5"},
		{"custom boolean null", rule("custom.tradeIn", "null", "-"), "L3 L5"},
		{"custom boolean notNull", rule("custom.tradeIn", "notNull", "-"), "L1 L2 L4"},
		// custom date (L3 "soon" is no value)
		{"custom date =", rule("custom.visitDate", "=", "2026-03-01"), "L1"},
		{"custom date !=", rule("custom.visitDate", "!=", "2026-03-01"), "L2 L3 L4 L5"},
		{"custom date <", rule("custom.visitDate", "<", "2026-03-01"), "L4"},
		{"custom date <=", rule("custom.visitDate", "<=", "2026-03-01"), "L1 L4"},
		{"custom date >", rule("custom.visitDate", ">", "2026-03-01"), "L2"},
		{"custom date >=", rule("custom.visitDate", ">=", "2026-01-01"), "L1 L2"},
		{"custom date null", rule("custom.visitDate", "null", "-"), "L3 L5"},
		{"custom date notNull", rule("custom.visitDate", "notNull", "-"), "L1 L2 L4"},
		{"custom date in", rule("custom.visitDate", "in", []any{"2025-12-31", "2026-04-15"}), "L2 L4"},
		{"custom date notIn", rule("custom.visitDate", "notIn", "2025-12-31,2026-04-15"), "L1 L3 L5"},
		{"custom date between", rule("custom.visitDate", "between", []any{"2026-01-01", "2026-03-01"}), "L1"},
		{"custom date notBetween", rule("custom.visitDate", "notBetween", "2026-01-01,2026-03-01"), "L2 L3 L4 L5"},
		// custom datetime (stored in UTC; values are converted to UTC)
		{"custom datetime =", rule("custom.callbackAt", "=", "2026-03-01T10:00:00Z"), "L1 L4"},
		{"custom datetime = with an offset", rule("custom.callbackAt", "=", "2026-03-01T11:00:00+01:00"), "L1 L4"},
		{"custom datetime !=", rule("custom.callbackAt", "!=", "2026-03-01T10:00:00Z"), "L2 L3 L5"},
		{"custom datetime <", rule("custom.callbackAt", "<", "2026-04-15T08:30:00Z"), "L1 L4"},
		{"custom datetime <=", rule("custom.callbackAt", "<=", "2026-04-15T08:30:00Z"), "L1 L2 L4"},
		{"custom datetime >", rule("custom.callbackAt", ">", "2026-03-01T10:00:00Z"), "L2"},
		{"custom datetime >=", rule("custom.callbackAt", ">=", "2026-03-01T10:00:00Z"), "L1 L2 L4"},
		{"custom datetime null", rule("custom.callbackAt", "null", "-"), "L3 L5"},
		{"custom datetime notNull", rule("custom.callbackAt", "notNull", "-"), "L1 L2 L4"},
		{"custom datetime between", rule("custom.callbackAt", "between", []any{"2026-03-01", "2026-03-31"}), "L1 L4"},
		{"custom datetime notBetween", rule("custom.callbackAt", "notBetween", "2026-03-01,2026-03-31"), "L2 L3 L5"},
		// custom text (L2's empty text is no value)
		{"custom text =", rule("custom.notes", "=", "vip"), "L1 L4"},
		{"custom text !=", rule("custom.notes", "!=", "vip"), "L2 L3 L5"},
		{"custom text contains", rule("custom.notes", "contains", "I"), "L1 L4"},
		{"custom text doesNotBeginWith", rule("custom.notes", "doesNotBeginWith", "v"), "L2 L3 L5"},
		{"custom text in", rule("custom.notes", "in", []any{"VIP"}), "L1 L4"},
		{"custom text <", rule("custom.notes", "<", "w"), "L1 L4"},
		{"custom text null", rule("custom.notes", "null", "-"), "L2 L3 L5"},
		{"custom text notNull", rule("custom.notes", "notNull", "-"), "L1 L4"},
		// custom multiselect: "=" holds the choice, "in" holds any
		{"custom multiselect =", rule("custom.extras", "=", "mats"), "L1"},
		{"custom multiselect !=", rule("custom.extras", "!=", "mats"), "L2 L3 L4 L5"},
		{"custom multiselect in", rule("custom.extras", "in", []any{"rack", "tires"}), "L1 L2"},
		{"custom multiselect notIn", rule("custom.extras", "notIn", "rack"), "L1 L3 L4 L5"},
		{"custom multiselect null", rule("custom.extras", "null", "-"), "L3 L4 L5"},
		{"custom multiselect notNull", rule("custom.extras", "notNull", "-"), "L1 L2"},
		// valueSource field
		{"field <", fieldRuleJSON("priority", "<", "visitCount"), "L2"},
		{"field >=", fieldRuleJSON("priority", ">=", "visitCount"), "L1 L4 L5"},
		{"field != is the complement of =", fieldRuleJSON("priority", "!=", "visitCount"), "L1 L2 L3 L4"},
		{"field text", fieldRuleJSON("description", "!=", "subject"), "L1 L2 L3 L4 L5"},
		// groups
		{"or group", `{"combinator":"or","rules":[{"field":"priority","operator":"=","value":1},{"field":"stage","operator":"=","value":"contacted"}]}`, "L1 L2"},
		{"not group", `{"not":true,"rules":[{"field":"priority","operator":"=","value":2}]}`, "L1 L3 L4"},
		{"nested groups", `{"combinator":"and","rules":[{"field":"isQualified","operator":"=","value":true},{"combinator":"or","rules":[{"field":"stage","operator":"=","value":"new"},{"field":"priority","operator":">","value":2}]}]}`, "L1 L4"},
		{"a lone or-group stays in the tenant and among live rows",
			`{"rules":[{"combinator":"or","rules":[{"field":"subject","operator":"notNull"},{"field":"subject","operator":"null"}]}]}`, "L1 L2 L3 L4 L5"},
		{"empty group matches all", `{"combinator":"and","rules":[]}`, "L1 L2 L3 L4 L5"},
		{"not empty group matches none", `{"not":true,"rules":[]}`, ""},
		{"independent combinators: and before or", `{"rules":[{"field":"priority","operator":"=","value":1},"or",{"field":"priority","operator":"=","value":2},"and",{"field":"stage","operator":"=","value":"new"}]}`, "L1 L5"},
		{"query wrapper", `{"query":{"combinator":"or","rules":[{"field":"priority","operator":"=","value":3}]}}`, "L4"},
		{"disabled rule is skipped", `{"rules":[{"field":"priority","operator":"=","value":3,"disabled":true},{"field":"priority","operator":"=","value":1}]}`, "L1"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		for _, c := range cases {
			got, err := fx.leads(t, c.query)
			if err != nil {
				t.Errorf("%s: %s: %v", c.name, c.query, err)
				continue
			}
			if want := keys(c.want); !slices.Equal(got, want) {
				t.Errorf("%s: %s\n got %v\nwant %v", c.name, c.query, got, want)
			}
		}
	})
}

// TestOperatorsByID covers relations compared by id, including ids of
// deleted rows and of other tenants' rows, and the own enum of tasks.
func TestOperatorsByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		foreignStage := otherTenantStage(t, db)
		cases := []struct {
			name, entity, query, want string
		}{
			{"ref = id", "lead", rule("stage", "=", fx.ids["contacted"].String()), "L2"},
			{"ref = id of a deleted row", "lead", rule("stage", "=", fx.ids["gone"].String()), ""},
			{"ref = id of another tenant's row", "lead", rule("stage", "=", foreignStage), ""},
			{"ref in ids and names", "lead", rule("stage", "in", []any{"contacted", fx.ids["new"].String()}), "L1 L2 L5"},
			{"ref notIn", "lead", rule("stage", "notIn", []any{fx.ids["new"].String()}), "L2 L3 L4"},
			{"ref to another tenant's contact by id", "lead", rule("contact", "=", fx.ids["alien"].String()), ""},
			{"to-many = id", "lead", rule("assignees", "=", fx.ids["ada"].String()), "L1 L2"},
			{"enum =", "task", rule("type", "=", "CALL"), "T1"},
			{"enum !=", "task", rule("type", "!=", "CALL"), "T2 T3"},
			{"enum in", "task", rule("type", "in", []any{"CALL", "SMS"}), "T1 T2"},
			{"enum notIn", "task", rule("type", "notIn", "CALL"), "T2 T3"},
			{"enum null", "task", rule("type", "null", "-"), "T3"},
			{"enum notNull", "task", rule("type", "notNull", "-"), "T1 T2"},
			{"event assignee by email", "task", rule("assignee", "=", "ADA@fixture.test"), "T1 T2 T3"},
			{"event datetime", "task", rule("start", "<", "2026-05-02T00:00:00Z"), "T1"},
		}
		for _, c := range cases {
			got, err := fx.run(t, c.entity, c.query)
			if err != nil {
				t.Errorf("%s: %s: %v", c.name, c.query, err)
				continue
			}
			if want := keys(c.want); !slices.Equal(got, want) {
				t.Errorf("%s: %s\n got %v\nwant %v", c.name, c.query, got, want)
			}
		}
	})
}
