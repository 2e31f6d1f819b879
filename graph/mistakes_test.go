package graph_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Values the executor cannot read — malformed ID, UUID, Time, Map and
// cursor, a cursor of another ordering or connection, a saved-filter id
// that is not a UUID — are the client's mistake: BAD_USER_INPUT naming
// the argument's path, never an internal error, never logged as one.
func TestMalformedValuesAreBadUserInput(t *testing.T) {
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		field string
	}{
		{"ID in node", `{ node(id: "abc") { id } }`, nil, "id"},
		{"ID in a list", `{ nodes(ids: ["` + "0190a000-0000-7000-8000-000000000000" + `", "x"]) { id } }`, nil, "ids[1]"},
		{"ID in a where input", `{ leads(where: {idIn: ["nope"]}) { totalCount } }`, nil, "where.idIn[0]"},
		{"UUID", `{ appointments(where: {assigneeID: "nope"}) { totalCount } }`, nil, "where.assigneeID"},
		{"Time", `{ leads(where: {dateCreatedGT: "yesterday"}) { totalCount } }`, nil, "where.dateCreatedGT"},
		{"Time in a variable", `query($t: Time) { leads(where: {dateCreatedGT: $t}) { totalCount } }`, map[string]any{"t": "2024-13-45"}, "where.dateCreatedGT"},
		{"Map", `query($f: Map) { leads(filter: $f) { totalCount } }`, map[string]any{"f": 5}, "filter"},
		{"cursor", `{ leads(after: "garbage") { totalCount } }`, nil, "after"},
		{"saved filter id", `{ leads(savedFilter: "not-a-uuid") { totalCount } }`, nil, "savedFilter"},
	}
	// Text with a NUL matches nothing anywhere: it is refused on both
	// databases (SQLite used to match every lead).
	nul := `{ leads(where: {subjectContains: "\u0000"}) { totalCount } }`
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var logs apptest.Logs
		s := start(t, db, graph.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := query(t, s, user, tt.query, tt.vars)
				if r.code() != "BAD_USER_INPUT" {
					t.Fatalf("status %d: %+v", r.Status, r.Errors)
				}
				fields, _ := r.Errors[0].Extensions["fields"].(map[string]any)
				if _, ok := fields[tt.field]; !ok {
					t.Errorf("fields %v do not name %q", fields, tt.field)
				}
			})
		}
		t.Run("NUL in text", func(t *testing.T) {
			if r := query(t, s, user, nul, nil); r.code() != "BAD_USER_INPUT" {
				t.Fatalf("%+v %s", r.Errors, r.Data)
			}
		})
		t.Run("foreign cursors", func(t *testing.T) {
			var page struct {
				Accounts struct{ Edges []struct{ Cursor string } }
				Leads    struct{ Edges []struct{ Cursor string } }
			}
			query(t, s, admin, `{ accounts(first: 1) { edges { cursor } } leads(first: 1, orderBy: [{field: SUBJECT}]) { edges { cursor } } }`, nil).into(t, &page)
			if len(page.Accounts.Edges) == 0 || len(page.Leads.Edges) == 0 {
				t.Fatal("no cursors")
			}
			for _, c := range []string{page.Leads.Edges[0].Cursor, page.Accounts.Edges[0].Cursor} {
				for _, q := range []string{
					`query($c: Cursor) { leads(first: 1, after: $c, orderBy: [{field: DUE_DATE}]) { totalCount edges { node { id } } } }`,
					`query($c: Cursor) { leads(first: 1, after: $c) { totalCount edges { node { id } } } }`,
					`query($c: Cursor) { leads(last: 1, before: $c, orderBy: [{field: DATE_MODIFIED}]) { edges { node { id } } } }`,
					// Nested connections are eager-loaded by their parent,
					// whose resolver meets the cursor's error.
					`query($c: Cursor) { accounts(first: 2) { edges { node { leads(first: 1, after: $c, orderBy: [{field: DUE_DATE}]) { totalCount } } } } }`,
					`query($c: Cursor) { accounts(first: 2) { edges { node { name leads(last: 1, before: $c, orderBy: [{field: DATE_CREATED}]) { edges { node { id } } } } } } }`,
				} {
					// SQLite compares a foreign value as is and answers a page.
					r := query(t, s, admin, q, map[string]any{"c": c})
					if len(r.Errors) == 0 {
						continue
					}
					if r.code() != "BAD_USER_INPUT" {
						t.Errorf("%s: %+v", q, r.Errors)
					} else if fields, _ := r.Errors[0].Extensions["fields"].(map[string]any); len(fields) != 1 {
						t.Errorf("%s: fields %v do not name the cursor", q, fields)
					}
				}
			}
		})
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("client mistakes were logged as errors:\n%s", logs.String())
		}
	})
}

// In production, no validation message suggests names: not of fields,
// arguments, enum values nor input fields.
func TestProductionSuggestsNothing(t *testing.T) {
	typos := []string{
		`{ acounts { totalCount } }`,
		`{ leads(frist: 1) { totalCount } }`,
		`{ leads(orderBy: [{field: SUBJET}]) { totalCount } }`,
		`{ leads(where: {subjectContain: "x"}) { totalCount } }`,
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, prod := range []bool{false, true} {
			s := start(t, db, graph.Config{Production: prod})
			for _, q := range typos {
				r := query(t, s, admin, q, nil)
				if len(r.Errors) == 0 || r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("%s accepted", q)
				}
				if got := strings.Contains(r.Errors[0].Message, "Did you mean"); got == prod {
					t.Errorf("production=%v: %s: suggestion shown=%v: %q", prod, q, got, r.Errors[0].Message)
				}
			}
		}
	})
}
