package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// endpoint is a request to the real routes that succeeds with a valid
// token: a REST read and write, and GraphQL queries and a mutation.
type endpoint struct {
	name string
	req  func(f *tenantFixture) authtest.Request
	ok   func(res int) bool
}

// authEndpoints returns the endpoints that have landed, asking g as a.
func authEndpoints(t *testing.T, db *store.DB, g *gateway, a actor) []endpoint {
	is := func(want ...int) func(int) bool {
		return func(got int) bool {
			for _, w := range want {
				if got == w {
					return true
				}
			}
			return false
		}
	}
	fixed := func(r authtest.Request) func(*tenantFixture) authtest.Request {
		return func(*tenantFixture) authtest.Request { return r }
	}
	eps := []endpoint{
		{"REST read", fixed(authtest.Request{Method: http.MethodGet, Path: "/api/account?limit=1"}), is(200)},
		{"REST write", fixed(authtest.Request{Method: http.MethodPost, Path: "/api/account", Body: `{"name":"Auth probe"}`}), is(200)},
	}
	eps = append(eps,
		endpoint{"GraphQL query (POST)", fixed(authtest.Request{Method: http.MethodPost, Path: "/graphql",
			Body: `{"query":"{ viewer { user { id } permissions } }"}`}), is(200)},
		endpoint{"GraphQL query (GET)", fixed(authtest.Request{Method: http.MethodGet,
			Path: "/graphql?query=" + url.QueryEscape("{ viewer { user { id } } }")}), is(200)},
	)
	if mutationLanded(g, a, "createAccount") {
		eps = append(eps, endpoint{"GraphQL mutation", fixed(authtest.Request{Method: http.MethodPost, Path: "/graphql",
			Body: `{"query":"mutation { createAccount(input: {name: \"Auth probe\"}) { id } }"}`}), is(200)})
	} else {
		t.Error("GraphQL mutations are not served")
	}
	return eps
}

// The whole bad-token list, under every supported key
// configuration (HS256, RS256 and ES256 from a PEM key or a JWKS), against
// the REST layer and the GraphQL endpoint as Routes mounts them: each is
// a 401 {"error": "..."} with the right challenge, nothing is written, and
// a valid token keeps working after all of them were tried.
func TestBadTokensAreRefusedByTheRESTAndGraphQLRoutes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		id := authtest.Identity{User: f.manager.id, Tenant: f.id, OtherTenant: storetest.TenantID(t, db, "northwind-auto.test")}
		eps := authEndpoints(t, db, startGateway(t, db), f.admin)
		for _, scheme := range authtest.Schemes(t) {
			t.Run(scheme.Name, func(t *testing.T) {
				g := startGatewayWith(t, db, scheme.Config)
				valid := scheme.Token(t, id.User, id.Tenant)
				accepted := func(when string) {
					t.Helper()
					for _, ep := range eps {
						res := g.Send(ep.req(f), "Bearer "+valid)
						if !ep.ok(res.Status) || strings.Contains(string(res.Body), `"errors"`) {
							t.Fatalf("%s with a valid token %s: %d %s", ep.name, when, res.Status, res.Body)
						}
					}
				}
				accepted("before the bad ones")
				before := storetest.TakeSnapshot(t, db)
				for _, c := range authtest.BadTokens(t, scheme, id) {
					t.Run(c.Name, func(t *testing.T) {
						for _, ep := range eps {
							if !authtest.Refused(t, g.Send(ep.req(f), c.Authorization...), c.Challenge) {
								t.Errorf("%s was not refused properly", ep.name)
							}
						}
					})
				}
				storetest.NothingWritten(t, db, before)
				accepted("after the bad ones")
			})
		}
	})
}

// Users who lose their access after their token was issued — deactivated,
// deleted — and tokens naming a tenant that is not the user's are refused
// by the real routes, REST and GraphQL.
func TestTokensOfUsersWhoLostAccessAreRefusedByTheRoutes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		g := startGateway(t, db)
		eps := authEndpoints(t, db, g, f.demo.admin)
		sys := tenancy.Bypass(context.Background())
		deactivated, deleted := f.demo.sales1, f.demo.user
		other := f.other.id
		for _, ep := range eps {
			if res := g.Send(ep.req(f.demo), "Bearer "+deactivated.token(t)); !ep.ok(res.Status) {
				t.Fatalf("%s before: %d %s", ep.name, res.Status, res.Body)
			}
		}
		tokens := map[string]string{
			"deactivated":                     deactivated.token(t),
			"deleted":                         deleted.token(t),
			"tid of another tenant":           actor{id: f.demo.manager.id, tenant: other}.token(t),
			"sub of a user of another tenant": actor{id: f.other.admin.id, tenant: f.demo.id}.token(t),
		}
		if err := db.User.UpdateOneID(deactivated.id).SetIsActive(false).Exec(sys); err != nil {
			t.Fatal(err)
		}
		if err := db.User.DeleteOneID(deleted.id).Exec(sys); err != nil {
			t.Fatal(err)
		}
		before := storetest.TakeSnapshot(t, db)
		for name, tok := range tokens {
			for _, ep := range eps {
				if !authtest.Refused(t, g.Send(ep.req(f.demo), "Bearer "+tok), authtest.ChallengeInvalid) {
					t.Errorf("%s: %s was not refused", name, ep.name)
				}
			}
		}
		storetest.NothingWritten(t, db, before)
	})
}

// Every route of the OpenAPI document (and /graphql) is authenticated:
// without a token 401 with the plain Bearer challenge, with a bad one 401
// invalid_token — before any input is looked at. Only operations the
// document declares public (security: []) are exempt.
func TestEveryRouteRequiresAToken(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite3")
	g := startGateway(t, db)
	doc, err := resttest.Document()
	if err != nil {
		t.Fatal(err)
	}
	type route struct{ method, path string }
	var rs []route
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				continue // documented as public (security: []): the OpenAPI document
			}
			p := path
			for strings.Contains(p, "{") {
				i, j := strings.Index(p, "{"), strings.Index(p, "}")
				p = p[:i] + uuid.NewString() + p[j+1:]
			}
			rs = append(rs, route{method, p})
		}
	}
	rs = append(rs, route{http.MethodPost, "/graphql"}, route{http.MethodGet, "/graphql?query={viewer{permissions}}"})
	if len(rs) < 40 {
		t.Fatalf("only %d routes in the document", len(rs))
	}
	for _, r := range rs {
		req := authtest.Request{Method: r.method, Path: r.path}
		if r.method != http.MethodGet && r.method != http.MethodDelete {
			req.Body = `{"query":"{ viewer { permissions } }"}`
		}
		if !authtest.Refused(t, g.Send(req), authtest.ChallengeMissing) {
			t.Errorf("%s %s without a token", r.method, r.path)
		}
		if !authtest.Refused(t, g.Send(req, "Bearer not.a.token"), authtest.ChallengeInvalid) {
			t.Errorf("%s %s with a bad token", r.method, r.path)
		}
	}
}

// FuzzAuthorizationHeaderOnTheRoutes is FuzzAuthorizationHeader (see
// internal/app) over the real transports of Routes: arbitrary
// Authorization header values sent to a REST read and a GraphQL query
// answer a well-formed 401, never a panic, a 500 or data — except the one
// valid token of this process.
//
//	go test . -run '^$' -fuzz FuzzAuthorizationHeaderOnTheRoutes -fuzztime 60s
func FuzzAuthorizationHeaderOnTheRoutes(f *testing.F) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	if err := seed.Fill(ctx, db.Client, seed.DemoTenants, storetest.Sizes, io.Discard); err != nil {
		f.Fatal(err)
	}
	uid := storetest.UserID(f, db, "user@demo-motors.test")
	tid, other := storetest.TenantID(f, db, "demo-motors.test"), storetest.TenantID(f, db, "northwind-auto.test")
	scheme := authtest.Schemes(f)[0]
	valid := scheme.Token(f, uid, tid)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := app.New(app.Config{Logger: log, Verifier: scheme.Verifier(f)}, db,
		routes(db, log))
	reqs := []authtest.Request{
		{Method: http.MethodGet, Path: "/api/account?limit=1"},
		{Method: http.MethodPost, Path: "/graphql", Body: `{"query":"{ viewer { user { id } } }"}`},
	}

	f.Add("Bearer " + valid)
	f.Add("")
	f.Add("Bearer " + valid + "x")
	for _, c := range authtest.BadTokens(f, scheme, authtest.Identity{User: uid, Tenant: tid, OtherTenant: other}) {
		if len(c.Authorization) == 1 {
			f.Add(c.Authorization[0])
		}
	}
	f.Fuzz(func(t *testing.T, value string) {
		v := strings.TrimSpace(value)
		isValid := len(v) > 7 && strings.EqualFold(v[:6], "bearer") && v[6] == ' ' && strings.TrimLeft(v[7:], " ") == valid
		for _, r := range reqs {
			var body io.Reader
			if r.Body != "" {
				body = strings.NewReader(r.Body)
			}
			req := httptest.NewRequest(r.Method, r.Path, body)
			req.Header.Set("Content-Type", "application/json")
			req.Header["Authorization"] = []string{value}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if isValid {
				if rec.Code != http.StatusOK || (r.Path == "/graphql" && !strings.Contains(rec.Body.String(), uid.String())) {
					t.Fatalf("valid token: %s %s → %d %s", r.Method, r.Path, rec.Code, rec.Body)
				}
				continue
			}
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("Authorization %q: %s %s → %d %s", value, r.Method, r.Path, rec.Code, rec.Body)
			}
			if c := rec.Header().Get("WWW-Authenticate"); c != authtest.ChallengeInvalid && c != authtest.ChallengeMissing {
				t.Fatalf("Authorization %q: WWW-Authenticate %q", value, c)
			}
			if err := authtest.RefusalBody(r.Path, rec.Body.Bytes()); err != nil {
				t.Fatalf("Authorization %q: %v", value, err)
			}
		}
	})
}
