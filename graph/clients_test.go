package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/graph/generated"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// What code generators rely on: every custom scalar names its specification
// (@specifiedBy, also through introspection), inputs mark the fields the
// server requires as non-null, and no type is named …Connection unless it is
// a Relay connection.
func TestSchemaForCodeGenerators(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	for name, url := range map[string]string{
		"Time":   "https://www.rfc-editor.org/rfc/rfc3339",
		"UUID":   "https://www.rfc-editor.org/rfc/rfc9562",
		"Map":    "https://www.rfc-editor.org/rfc/rfc8259",
		"Cursor": "https://relay.dev/graphql/connections.htm#sec-Cursor",
	} {
		d := s.Types[name].Directives.ForName("specifiedBy")
		if d == nil || d.Arguments.ForName("url").Value.Raw != url {
			t.Errorf("scalar %s: @specifiedBy %v, want %s", name, d, url)
		}
	}
	for name, def := range s.Types {
		if def.Kind == "SCALAR" && def.BuiltIn == false && def.Directives.ForName("specifiedBy") == nil {
			t.Errorf("custom scalar %s has no @specifiedBy", name)
		}
	}
	lead := s.Types["LeadInput"]
	for _, f := range []string{"subject", "departmentID", "contactID", "sourceID", "franchiseID"} {
		if fd := lead.Fields.ForName(f); fd == nil || !fd.Type.NonNull {
			t.Errorf("LeadInput.%s is not non-null, though the server requires it", f)
		}
	}
	if fd := lead.Fields.ForName("accountID"); fd == nil || fd.Type.NonNull {
		t.Errorf("LeadInput.accountID is optional")
	}
	for name, def := range s.Types {
		if len(name) > len("Connection") && name[len(name)-len("Connection"):] == "Connection" || name == "Connection" {
			if def.Fields.ForName("edges") == nil || def.Fields.ForName("pageInfo") == nil {
				t.Errorf("%s is named like a Relay connection but has no edges/pageInfo", name)
			}
		}
	}
	if s.Types["ConnectionRecord"] == nil || s.Types["Lead"].Interfaces == nil {
		t.Fatal("the spec's Connection interface is missing (ConnectionRecord)")
	}
}

func TestIntrospectionCarriesSpecifiedByURL(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := start(t, db, graph.Config{})
	var got struct {
		Type struct{ SpecifiedByURL *string } `json:"__type"`
	}
	query(t, s, admin, `{ __type(name: "Time") { specifiedByURL } }`, nil).into(t, &got)
	if got.Type.SpecifiedByURL == nil || *got.Type.SpecifiedByURL != "https://www.rfc-editor.org/rfc/rfc3339" {
		t.Fatalf("specifiedByURL %v", got.Type.SpecifiedByURL)
	}
}

// pageInfo's cursors are there without edges, and are the cursors of the
// page's first and last edge, so a client can page by pageInfo alone.
func TestPageInfoCursorsWithoutEdges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		type page struct {
			Accounts struct {
				TotalCount int
				PageInfo   struct {
					StartCursor, EndCursor *string
					HasNextPage            bool
				}
				Edges []struct{ Cursor string }
			}
		}
		var with, without, next page
		query(t, s, admin, `{ accounts(first: 3) { pageInfo { startCursor endCursor hasNextPage } edges { cursor } } }`, nil).into(t, &with)
		query(t, s, admin, `{ accounts(first: 3) { totalCount pageInfo { startCursor endCursor hasNextPage } } }`, nil).into(t, &without)
		w, wo := with.Accounts, without.Accounts
		if len(w.Edges) != 3 || wo.PageInfo.StartCursor == nil || wo.PageInfo.EndCursor == nil ||
			*wo.PageInfo.StartCursor != w.Edges[0].Cursor || *wo.PageInfo.EndCursor != w.Edges[2].Cursor ||
			wo.PageInfo.HasNextPage != (wo.TotalCount > 3) {
			t.Fatalf("with edges %+v, without %+v", w, wo)
		}
		query(t, s, admin, `query($after: Cursor) { accounts(first: 3, after: $after) { pageInfo { startCursor } } }`,
			map[string]any{"after": *wo.PageInfo.EndCursor}).into(t, &next)
		if next.Accounts.PageInfo.StartCursor == nil || *next.Accounts.PageInfo.StartCursor == *wo.PageInfo.EndCursor {
			t.Fatalf("next page %+v", next.Accounts.PageInfo)
		}
	})
}

// @defer is served: with Accept: multipart/mixed the deferred fragment
// arrives as an incremental part after the initial payload. (gqlgen defers
// the fields that have a resolver — edges, loader fields —; a column of the
// record itself is in the initial payload.)
func TestDeferIsDeliveredIncrementally(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := start(t, db, graph.Config{})
	body := `{"query":"{ accounts(first: 1, orderBy: {field: NAME}) { edges { node { id name ... @defer(label: \"late\") { createdBy { id } } } } } }"}`
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Token(admin))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", `multipart/mixed; deferSpec=20220824, application/json`)
	res := s.Send(req)
	got := string(res.Body)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "multipart/mixed") ||
		!strings.Contains(got, `"hasNext":true`) || !strings.Contains(got, `"incremental"`) ||
		!strings.Contains(got, `"label":"late"`) || !strings.Contains(got, `"createdBy":`) || !strings.Contains(got, `"hasNext":false`) {
		t.Fatalf("%d %v\n%s", res.Status, res.Header, got)
	}
	// gqlgen leaves a null placeholder for the deferred field in the
	// initial payload; its value comes in the incremental part.
	if initial, _, _ := strings.Cut(got, `"incremental"`); strings.Contains(initial, `"createdBy":{`) || !strings.Contains(initial, `"name":`) {
		t.Fatalf("the initial payload holds the deferred field or lacks the others:\n%s", got)
	}
	// Without the multipart Accept header the same query is answered at
	// once, as plain JSON.
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Token(admin))
	req.Header.Set("Content-Type", "application/json")
	res = s.Send(req)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(res.Body), `"createdBy":`) {
		t.Fatalf("plain JSON: %d %v %s", res.Status, res.Header, res.Body)
	}
}
