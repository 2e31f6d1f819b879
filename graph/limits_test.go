package graph_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Every protection rejects its case before execution: the request costs no
// SQL beyond authenticating the caller.
func TestProtectionsRejectBeforeAnySQL(t *testing.T) {
	deep := "{ accounts { edges { node { " + strings.Repeat("contacts { accounts { ", 5) + "name" +
		strings.Repeat(" } }", 5) + " } } } }"
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := range 31 {
		fmt.Fprintf(&aliases, " a%d: __typename", i)
	}
	aliases.WriteString(" }")
	tests := []struct {
		name   string
		query  string
		vars   map[string]any
		code   string
		status int
	}{
		{"depth above the limit", deep, nil, "QUERY_TOO_DEEP", http.StatusUnprocessableEntity},
		{"complexity above the limit", `{ accounts(first: 100) { edges { node { leads(first: 100) { edges { node {
			contact { leads(first: 100) { edges { node { subject } } } } } } } } } } }`, nil, "QUERY_TOO_COMPLEX", http.StatusUnprocessableEntity},
		{"too many aliases", aliases.String(), nil, "TOO_MANY_ALIASES", http.StatusUnprocessableEntity},
		{"first above the maximum", `{ accounts(first: 101) { totalCount } }`, nil, "PAGE_SIZE_INVALID", http.StatusUnprocessableEntity},
		{"last above the maximum in a variable", `query($n: Int) { contacts(last: $n) { totalCount } }`,
			map[string]any{"n": 500}, "PAGE_SIZE_INVALID", http.StatusUnprocessableEntity},
		{"nested first above the maximum", `{ accounts(first: 1) { edges { node { leads(first: 1000) { totalCount } } } } }`,
			nil, "PAGE_SIZE_INVALID", http.StatusUnprocessableEntity},
		{"negative first", `{ leads(first: -1) { totalCount } }`, nil, "PAGE_SIZE_INVALID", http.StatusUnprocessableEntity},
		{"too many tokens", "{ " + strings.Repeat("__typename ", 10_001) + "}", nil, "GRAPHQL_PARSE_FAILED", http.StatusUnprocessableEntity},
		{"invalid query", `{ accounts { nope } }`, nil, "GRAPHQL_VALIDATION_FAILED", http.StatusUnprocessableEntity},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		base := baseline(t, s, admin)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := query(t, s, admin, tt.query, tt.vars)
				if r.code() != tt.code || r.Status != tt.status {
					t.Fatalf("got status %d code %q (%+v), want %d %q", r.Status, r.code(), r.Errors, tt.status, tt.code)
				}
				if r.Statements != base {
					t.Errorf("rejected operation cost %d statements, authentication alone %d", r.Statements, base)
				}
			})
		}
	})
}

// The default budget admits a lead screen of 100 leads — answered whole:
// a full page, every reference the rows hold resolved, the nested lists
// filled — and a five-level account ↔ contact exploration of a few rows
// (its fifth level answered), and refuses the same exploration with
// first: 100 (a million leaves, 23 MB and 40 s before the budget was
// measured; docs/limits.md).
func TestDefaultLimitsFitTheAnswerSize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		r := query(t, s, admin, `{ leads(first: 100) { totalCount edges { node {
			subject contactID contact { firstName lastName } account { name } stageID stage { name }
			assignees { displayName } createdBy { displayName }
			tasks { title assignee { displayName isGroup ... on User { email } } }
			appointments { title assignee { displayName } } } } } }`, nil)
		var screen struct {
			Leads struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Subject            string
						ContactID, StageID *string
						Contact            *struct{ FirstName *string }
						Stage              *struct{ Name string }
						Tasks              []struct {
							Title    string
							Assignee *struct{ DisplayName string }
						}
					}
				}
			}
		}
		r.into(t, &screen)
		if n := len(screen.Leads.Edges); n == 0 || n != min(100, screen.Leads.TotalCount) {
			t.Fatalf("lead screen: %d rows of %d", n, screen.Leads.TotalCount)
		}
		tasks := 0
		for _, e := range screen.Leads.Edges {
			n := e.Node
			if n.Subject == "" || (n.ContactID != nil) != (n.Contact != nil) || (n.StageID != nil) != (n.Stage != nil) {
				t.Fatalf("lead screen row not answered whole: %+v", n)
			}
			for _, tk := range n.Tasks {
				if tk.Assignee == nil || tk.Assignee.DisplayName == "" {
					t.Fatalf("task %q without its assignee", tk.Title)
				}
				tasks++
			}
		}
		if tasks == 0 {
			t.Error("no lead of the screen has its tasks: the nested lists were not answered")
		}

		explore := func(first int) *result {
			return query(t, s, admin, fmt.Sprintf(`{ accounts(first: %d) { edges { node {
				contacts { accounts { contacts { accounts { name } } } } } } } }`, first), nil)
		}
		r = explore(3)
		var deep struct {
			Accounts struct {
				Edges []struct {
					Node struct {
						Contacts []struct {
							Accounts []struct {
								Contacts []struct {
									Accounts []struct{ Name string }
								}
							}
						}
					}
				}
			}
		}
		r.into(t, &deep)
		fifth := 0
		for _, a := range deep.Accounts.Edges {
			for _, c := range a.Node.Contacts {
				for _, a2 := range c.Accounts {
					for _, c2 := range a2.Contacts {
						for _, a3 := range c2.Accounts {
							if a3.Name != "" {
								fifth++
							}
						}
					}
				}
			}
		}
		if len(deep.Accounts.Edges) != 3 || fifth == 0 {
			t.Fatalf("five-level exploration of 3 accounts: %d accounts, %d names at the fifth level", len(deep.Accounts.Edges), fifth)
		}
		if r := explore(100); r.code() != "QUERY_TOO_COMPLEX" {
			t.Fatalf("five-level exploration of 100 accounts: %+v", r.Errors)
		}
	})
}

// Only the transports the endpoint means to offer are served.
func TestTransportRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		base := baseline(t, s, admin)
		get := func(q string) (int, int64) {
			before := s.Statements()
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape(q), nil)
			req.Header.Set("Authorization", "Bearer "+s.Token(admin))
			return s.Send(req).Status, s.Statements() - before
		}
		t.Run("GET runs a query", func(t *testing.T) {
			if st, _ := get(`{ viewer { user { email } } }`); st != http.StatusOK {
				t.Fatalf("status %d", st)
			}
		})
		t.Run("GET refuses a mutation without SQL", func(t *testing.T) {
			st, n := get(`mutation { __typename }`)
			if st != http.StatusNotAcceptable || n != base {
				t.Fatalf("status %d, %d statements (auth alone %d), want 406 and no SQL", st, n, base)
			}
		})
		t.Run("JSON array batching is refused", func(t *testing.T) {
			res := s.Do(http.MethodPost, "/graphql", admin, `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`)
			if res.Status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
		})
		t.Run("form-encoded POST is refused", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader("query=%7B__typename%7D"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+s.Token(admin))
			if res := s.Send(req); res.Status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
		})
		t.Run("no token is 401", func(t *testing.T) {
			if res := s.Do(http.MethodPost, "/graphql", "", map[string]any{"query": "{ __typename }"}); res.Status != http.StatusUnauthorized {
				t.Fatalf("status %d", res.Status)
			}
		})
	})
}

// Introspection and field suggestions are on in development and off in
// production.
func TestProductionHidesTheSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, prod := range []bool{false, true} {
			s := start(t, db, graph.Config{Production: prod})
			intro := query(t, s, admin, `{ __schema { queryType { name } } }`, nil)
			if got := len(intro.Errors) == 0; got == prod {
				t.Errorf("production=%v: introspection answered=%v (%+v)", prod, got, intro.Errors)
			}
			typo := query(t, s, admin, `{ acounts { totalCount } }`, nil)
			if len(typo.Errors) == 0 {
				t.Fatalf("production=%v: typo accepted", prod)
			}
			if got := strings.Contains(typo.Errors[0].Message, "Did you mean"); got == prod {
				t.Errorf("production=%v: suggestion shown=%v: %q", prod, got, typo.Errors[0].Message)
			}
		}
	})
}

// Automatic persisted queries: a hash alone is refused until the query has
// been sent once with it, then the hash alone runs it.
func TestPersistedQueries(t *testing.T) {
	const q = `{ accounts(first: 1) { totalCount } }`
	const hash = "c1d5f1c3a6b2c7e3" // not a sha256 of q: refused
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		sum := sha256Hex(q)
		ext := func(h string) map[string]any {
			return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": h}}
		}
		if r := post(t, s, admin, map[string]any{"extensions": ext(sum)}); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("unknown hash: %+v", r.Errors)
		}
		// A hash that is not the query's own is refused as such, before
		// anything runs (no data) and without registering it.
		if r := post(t, s, admin, map[string]any{"query": q, "extensions": ext(hash)}); len(r.Errors) != 1 ||
			r.Errors[0].Message != "provided APQ hash does not match query" || r.Data != nil && string(r.Data) != "null" {
			t.Fatalf("a query with a hash that is not its own: %+v %s", r.Errors, r.Data)
		}
		if r := post(t, s, admin, map[string]any{"extensions": ext(hash)}); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("the mismatched hash was registered: %+v", r.Errors)
		}
		if r := post(t, s, admin, map[string]any{"query": q, "extensions": ext(sum)}); len(r.Errors) > 0 {
			t.Fatalf("register: %+v", r.Errors)
		}
		r := post(t, s, admin, map[string]any{"extensions": ext(sum)})
		var data struct{ Accounts struct{ TotalCount int } }
		r.into(t, &data)
		if data.Accounts.TotalCount == 0 {
			t.Fatalf("persisted query answered %s", r.Data)
		}
	})
}
