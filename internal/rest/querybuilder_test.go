package rest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

type filterBody struct {
	Success bool
	Total   int
	Data    []map[string]any
}

func filterPath(entity, params string) string {
	return "/api/query-builder/filter/" + entity + params
}

func TestQueryBuilderFilterRoute(t *testing.T) {
	sz := storetest.Sizes
	events := min(sz.Leads, max(sz.Tasks/3, 1)) // seed.gen: appointments and follow-ups
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		website, err := db.Source.Query().Where(source.TenantID(demo.tid), source.Name("Website")).Only(demo.ctx)
		demo.must(err)
		websiteLeads, err := db.Lead.Query().Where(lead.TenantID(demo.tid), lead.SourceID(website.ID)).Count(demo.ctx)
		demo.must(err)

		t.Run("every entity, empty query: all rows of the tenant", func(t *testing.T) {
			for entity, want := range map[string]int{
				"account": sz.Accounts, "contact": sz.Accounts * sz.ContactsPerAccount, "lead": sz.Leads,
				"task": sz.Tasks, "appointment": events, "followup": events,
			} {
				var b filterBody
				decodeOK(t, s, "POST", filterPath(entity, ""), asUser, `{"combinator":"and","rules":[]}`, 200, &b)
				if !b.Success || b.Total != want || len(b.Data) != min(want, 25) {
					t.Errorf("%s: success %v, total %d, %d rows; want %d", entity, b.Success, b.Total, len(b.Data), want)
				}
			}
		})
		t.Run("the reference's query wrapper and a relation by name", func(t *testing.T) {
			var b filterBody
			decodeOK(t, s, "POST", filterPath("lead", ""), asUser,
				`{"query":{"id":"q","combinator":"and","rules":[{"id":"r","field":"source","operator":"=","valueSource":"value","value":"website"}]}}`, 200, &b)
			if b.Total != websiteLeads || websiteLeads == 0 {
				t.Fatalf("total %d, want %d", b.Total, websiteLeads)
			}
			for _, l := range b.Data {
				if l["source"].(map[string]any)["id"] != website.ID.String() {
					t.Fatalf("lead of another source: %v", l["source"])
				}
			}
		})
		t.Run("paging and sorting", func(t *testing.T) {
			var all, page filterBody
			decodeOK(t, s, "POST", filterPath("lead", "?limit=100&sortField=subject&sortDirection=desc"), asUser, `{}`, 200, &all)
			decodeOK(t, s, "POST", filterPath("lead", "?limit=5&offset=3&sortField=subject&sortDirection=DESC"), asUser, `{}`, 200, &page)
			subjects := func(b filterBody) []string {
				var out []string
				for _, l := range b.Data {
					out = append(out, l["subject"].(string))
				}
				return out
			}
			got := subjects(all)
			if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) || len(got) != sz.Leads {
				t.Fatalf("not sorted by subject descending: %v", got)
			}
			if page.Total != sz.Leads || !slices.Equal(subjects(page), got[3:8]) {
				t.Fatalf("page %v (total %d), want %v", subjects(page), page.Total, got[3:8])
			}
			var capped filterBody
			decodeOK(t, s, "POST", filterPath("contact", "?limit=1000"), asUser, `{}`, 200, &capped)
			if len(capped.Data) != min(100, capped.Total) {
				t.Fatalf("limit not capped: %d rows of %d", len(capped.Data), capped.Total)
			}
		})
		t.Run("statements do not grow with the page size", func(t *testing.T) {
			cost := func(limit int) int64 {
				before := s.Statements()
				s.Do("POST", filterPath("lead", fmt.Sprintf("?limit=%d", limit)), asUser, `{"rules":[{"field":"assignees","operator":"notNull"}]}`)
				return s.Statements() - before
			}
			if one, many := cost(1), cost(30); one != many {
				t.Fatalf("limit 1: %d statements, limit 30: %d", one, many)
			}
		})

		otherContact := tenantData(t, db, "northwind-auto.test").contacts()[0].ID
		norole := withoutRoles(t, db)
		runRouteCases(t, s, append([]routeCase{
			{"unknown entity", "POST", filterPath("widget", ""), asUser, `{}`, 404, `"error":"Entity \"widget\" not found"`},
			{"unknown field names the rule", "POST", filterPath("lead", ""), asUser,
				`{"rules":[{"id":"r7","field":"nope","operator":"=","value":1}]}`, 400, `rule r7: unknown field \"nope\" for lead`},
			{"operator not valid for the type", "POST", filterPath("lead", ""), asUser,
				`{"rules":[{"id":"r1","field":"priority","operator":"contains","value":"1"}]}`, 400, "rule r1"},
			{"value of the wrong type", "POST", filterPath("lead", ""), asUser,
				`{"rules":[{"id":"r1","field":"priority","operator":"=","value":"high"}]}`, 400, `\"high\" is not a number`},
			{"sortField outside the catalogue", "POST", filterPath("lead", "?sortField=nope"), asUser, `{}`, 400, "sortField"},
			{"sortField of a relation", "POST", filterPath("lead", "?sortField=contact.lastName"), asUser, `{}`, 400, "sortField"},
			{"bad sortDirection", "POST", filterPath("lead", "?sortDirection=up"), asUser, `{}`, 400, "sortDirection"},
			{"bad limit", "POST", filterPath("lead", "?limit=0"), asUser, `{}`, 400, "limit"},
			{"malformed JSON", "POST", filterPath("lead", ""), asUser, `{"rules":[`, 400, "body"},
			{"no body", "POST", filterPath("lead", ""), asUser, nil, 400, "body"},
			{"another tenant's contact matches nothing", "POST", filterPath("lead", ""), asUser,
				fmt.Sprintf(`{"rules":[{"field":"contact","operator":"=","value":%q}]}`, otherContact), 200, `"total":0`},
			{"no read permission", "POST", filterPath("lead", ""), norole, `{}`, 403, "Access denied"},
		}, unauthenticated([2]string{"POST", filterPath("lead", "")})...))
	})
}

// TestQueryBuilderInjection sends SQL in every part of a rule: it is a 400
// or a literal match, and the data is untouched.
func TestQueryBuilderInjection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		before := storetest.TakeSnapshot(t, db)
		rule := func(field, op, source string, value any) map[string]any {
			return map[string]any{"rules": []any{map[string]any{"id": "x", "field": field, "operator": op, "valueSource": source, "value": value}}}
		}
		cases := []struct {
			name   string
			body   any
			status int
			want   string
		}{
			{"in the field", rule("subject; DROP TABLE leads; --", "=", "value", "x"), 400, "unknown field"},
			{"quoted field", rule(`subject" OR 1=1 --`, "=", "value", "x"), 400, "unknown field"},
			{"in the operator", rule("subject", "= 'x' OR 1=1 --", "value", "x"), 400, "unknown operator"},
			{"in valueSource", rule("subject", "=", "value) OR (1=1", "x"), 400, "valueSource"},
			{"a field value naming SQL", rule("subject", "=", "field", "subject) OR (1=1"), 400, "unknown field"},
			{"in the value", rule("subject", "=", "value", "x' OR '1'='1"), 200, `"total":0`},
			{"in a list value", rule("subject", "in", "value", []any{"x') OR ('1'='1", "y"}), 200, `"total":0`},
			{"LIKE wildcards are literal", rule("subject", "contains", "value", "%"), 200, `"total":0`},
			{"a NUL character", rule("subject", "=", "value", "a\x00b"), 400, "NUL"},
			{"year 0", rule("dueDate", "<", "value", "0000-01-01"), 200, `"total":0`},
			{"year 9999", rule("dueDate", ">", "value", "9999-12-31T23:59:59.999999999Z"), 200, `"total":0`},
			{"the largest whole number", rule("priority", ">", "value", "9223372036854775807"), 200, `"total":0`},
			{"a whole number out of range", rule("priority", ">", "value", "9223372036854775808"), 400, "whole numbers"},
			{"the largest float", rule("custom.budget", ">", "value", 1.7976931348623157e308), 200, `"total":0`},
			{"the smallest float", rule("custom.budget", "between", "value", []any{-1.7976931348623157e308, 5e-324}), 200, `"success":true`},
			{"in a custom field value", rule("custom.budget", ">", "value", "0) OR (1=1"), 400, "is not a number"},
			{"in a custom field name", rule("custom.budget' OR '1'='1", "=", "value", 1), 400, "unknown field"},
			{"in a sort field", nil, 400, "sortField"},
		}
		for _, c := range cases {
			path := filterPath("lead", "")
			body := c.body
			if body == nil {
				path, body = filterPath("lead", "?sortField=subject%3B%20DROP%20TABLE%20leads"), `{}`
			}
			res := s.Do("POST", path, asUser, body)
			if res.Status != c.status || !strings.Contains(string(res.Body), c.want) {
				t.Errorf("%s: %d %s; want %d containing %q", c.name, res.Status, res.Body, c.status, c.want)
			}
		}
		storetest.NothingWritten(t, db, before)
		// A literal apostrophe still matches: values are parameters, not text.
		var b filterBody
		decodeOK(t, s, "POST", filterPath("contact", ""), asUser,
			`{"rules":[{"field":"lastName","operator":"=","value":"o'brien"}]}`, 200, &b)
		for _, c := range b.Data {
			if c["lastName"] != "O'Brien" {
				t.Fatalf("matched %v", c["lastName"])
			}
		}
		if b.Total == 0 && slices.Contains(lastNames(t, db), "O'Brien") {
			t.Fatal("O'Brien not found")
		}
	})
}

func lastNames(t *testing.T, db *store.DB) []string {
	var names []string
	for _, c := range tenantData(t, db, "demo-motors.test").contacts() {
		names = append(names, c.LastName)
	}
	return names
}
