package graph_test

import (
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A document of 9,990 duplicate fields (under the token limit, no aliases,
// depth 2) is refused by counting, before validation's overlapping-fields
// rule spends quadratic time on it; fragments count where they are spread.
func TestSelectionsAreCountedBeforeValidation(t *testing.T) {
	dup := "{ viewer { user { " + strings.Repeat("id ", 9_990) + "} } }"
	spread := "query { viewer { user { ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F } } } " +
		"fragment F on User { " + strings.Repeat("id ", 120) + "}"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		for name, q := range map[string]string{"duplicates": dup, "spreads": spread} {
			start := time.Now()
			r := query(t, s, user, q, nil)
			if r.code() != "TOO_MANY_SELECTIONS" || r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: status %d %+v", name, r.Status, r.Errors)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: refusal took %s", name, d)
			}
		}
		// A document below the limit is validated and runs as usual.
		if r := query(t, s, user, "{ viewer { user { "+strings.Repeat("id ", 500)+"} } }", nil); len(r.Errors) > 0 {
			t.Fatalf("500 selections refused: %+v", r.Errors)
		}
	})
}

// Introspection counts like any field: its lists multiply their children
// by the longest such list of the schema, its aliases and depth count.
func TestIntrospectionCountsLikeAnyField(t *testing.T) {
	var aliased strings.Builder
	aliased.WriteString("{ __schema {")
	for i := range 20 {
		fmt.Fprintf(&aliased, " t%d: types { name fields { name type { name } } }", i)
	}
	aliased.WriteString(" } }")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		if r := query(t, s, admin, aliased.String(), nil); r.code() != "QUERY_TOO_COMPLEX" {
			t.Fatalf("20 aliased types lists: %+v", r.Errors)
		}
		deep := `{ __type(name: "Lead") { fields { type { fields { type { fields { type { fields { name } } } } } } } } }`
		if r := query(t, s, admin, deep, nil); len(r.Errors) == 0 {
			t.Fatal("deep introspection admitted")
		}
		// GraphiQL's own introspection query passes.
		if r := query(t, s, admin, introspectionQuery, nil); len(r.Errors) > 0 {
			t.Fatalf("GraphiQL's introspection query refused: %+v", r.Errors)
		}
	})
}

// The answer's data is capped: past MaxResponseBytes it is dropped and the
// answer is a RESPONSE_TOO_LARGE error.
func TestResponseSizeIsCapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{Limits: graph.Limits{MaxResponseBytes: 2_000}})
		r := query(t, s, admin, `{ leads(first: 100) { edges { node { id subject } } } }`, nil)
		if r.code() != "RESPONSE_TOO_LARGE" || string(r.Data) != "null" {
			t.Fatalf("status %d data %.100s errors %+v", r.Status, r.Data, r.Errors)
		}
		if r := query(t, s, admin, `{ leads(first: 1) { edges { node { id } } } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("small answer refused: %+v", r.Errors)
		}
	})
}

// worstAdmitted is the attack of the issue — 100 accounts sharing 10
// contacts, explored account → contacts → accounts → contacts — with the
// largest page the default complexity budget admits.
const worstAdmitted = `query($n: Int) { accounts(first: $n) { edges { node { name
	contacts { firstName accounts { name contacts { firstName lastName } } } } } } }`

// sharedContacts gives the demo tenant 100 accounts linked to the same 10
// contacts (each contact then has 100+ accounts, each account 10 contacts).
func sharedContacts(t testing.TB, s *apptest.Server) {
	contacts := make([]map[string]any, 10)
	for i := range contacts {
		contacts[i] = map[string]any{"firstName": fmt.Sprintf("Shared%d", i), "lastName": "Contact"}
	}
	res := s.Do(http.MethodPost, "/graphql", admin, map[string]any{
		"query":     `mutation($in: AccountInput!) { createAccount(input: $in) { contacts { id } } }`,
		"variables": map[string]any{"in": map[string]any{"name": "Shared 0", "contacts": contacts}},
	})
	var created struct {
		Data struct {
			CreateAccount struct{ Contacts []struct{ ID string } }
		}
	}
	res.JSON(t, &created)
	links := []map[string]any{}
	for _, c := range created.Data.CreateAccount.Contacts {
		links = append(links, map[string]any{"id": c.ID})
	}
	if len(links) != 10 {
		t.Fatalf("seed: %s", res.Body)
	}
	for i := 1; i < 100; i++ {
		res := s.Do(http.MethodPost, "/graphql", admin, map[string]any{
			"query":     `mutation($in: AccountInput!) { createAccount(input: $in) { id } }`,
			"variables": map[string]any{"in": map[string]any{"name": fmt.Sprintf("Shared %d", i), "contacts": links}},
		})
		if res.Status != http.StatusOK || strings.Contains(string(res.Body), `"errors"`) {
			t.Fatalf("seed: %s", res.Body)
		}
	}
}

var complexityRe = regexp.MustCompile(`complexity is (\d+)`)

// The most expensive answer the default limits admit for the issue's
// attack stays within a few MB and about a second: time, response size
// and allocation are logged (figures in docs/limits.md).
func TestWorstAdmittedQueryIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		sharedContacts(t, s)
		// The largest admitted page: first one the budget does not refuse.
		n := graph.MaxPage
		for ; n > 0; n-- {
			r := query(t, s, user, worstAdmitted, map[string]any{"n": n})
			if r.code() != "QUERY_TOO_COMPLEX" {
				if len(r.Errors) > 0 {
					t.Fatalf("first: %d: %+v", n, r.Errors)
				}
				break
			}
		}
		probe := start(t, db, graph.Config{Limits: graph.Limits{MaxComplexity: 1}})
		cost := 0
		if m := complexityRe.FindStringSubmatch(fmt.Sprint(query(t, probe, user, worstAdmitted, map[string]any{"n": n}).Errors)); m != nil {
			cost, _ = strconv.Atoi(m[1])
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		res := s.Do(http.MethodPost, "/graphql", user, map[string]any{"query": worstAdmitted, "variables": map[string]any{"n": n}})
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if res.Status != http.StatusOK || strings.Contains(string(res.Body), `"errors"`) {
			t.Fatalf("status %d: %.300s", res.Status, res.Body)
		}
		leaves := strings.Count(string(res.Body), `"name"`) + strings.Count(string(res.Body), `"firstName"`) + strings.Count(string(res.Body), `"lastName"`)
		t.Logf("worst admitted: first: %d, complexity %d, %d leaves, %d bytes, %s, %.1f MB allocated",
			n, cost, leaves, len(res.Body), elapsed.Round(time.Millisecond), float64(after.TotalAlloc-before.TotalAlloc)/1e6)
		if len(res.Body) > 4<<20 {
			t.Errorf("worst admitted answer is %d bytes", len(res.Body))
		}
		if elapsed > 5*time.Second { // ~1 s measured; slack for a loaded CI machine
			t.Errorf("worst admitted answer took %s", elapsed)
		}
	})
}

// introspectionQuery is GraphiQL's (graphql-js getIntrospectionQuery).
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`
