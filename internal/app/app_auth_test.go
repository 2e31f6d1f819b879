package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// whoami is a stand-in transport that answers the viewer it was given and
// counts how often it was reached.
type whoami struct{ hits atomic.Int64 }

func (h *whoami) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.hits.Add(1)
	v := viewer.FromContext(r.Context())
	if v == nil {
		http.Error(w, "no viewer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"user": v.UserID, "tenant": v.TenantID, "type": v.Type})
}

// The two transports' mount points, with a request each would serve.
var probeRequests = []authtest.Request{
	{Method: http.MethodGet, Path: "/api/account"},
	{Method: http.MethodPost, Path: "/graphql", Body: `{"query":"{ viewer { id } }"}`},
}

func probeRoutes(h http.Handler) map[string]http.Handler {
	return map[string]http.Handler{"/api/": h, "/graphql": h}
}

func identity(t *testing.T, db *store.DB, email string) authtest.Identity {
	t.Helper()
	return authtest.Identity{
		User:        storetest.UserID(t, db, email),
		Tenant:      storetest.TenantID(t, db, "demo-motors.test"),
		OtherTenant: storetest.TenantID(t, db, "northwind-auto.test"),
	}
}

// checkAccepted fails unless the valid token reaches the transport as the
// right viewer.
func checkAccepted(t *testing.T, s *authtest.Server, r authtest.Request, token string, id authtest.Identity) {
	t.Helper()
	res := s.Send(r, "Bearer "+token)
	if res.Status != http.StatusOK {
		t.Fatalf("%s %s with a valid token: %d %s", r.Method, r.Path, res.Status, res.Body)
	}
	var got struct{ User, Tenant uuid.UUID }
	res.JSON(t, &got)
	if got.User != id.User || got.Tenant != id.Tenant {
		t.Fatalf("viewer %+v, want user %s of tenant %s", got, id.User, id.Tenant)
	}
}

// Every bad token of the list, under every supported key
// configuration, is refused with 401 and the right challenge on both
// transports' mount points, never reaches a transport, and leaves a valid
// token working.
func TestBadTokensAreRefusedUnderEveryKeyConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		id := identity(t, db, "user@demo-motors.test")
		for _, scheme := range authtest.Schemes(t) {
			t.Run(scheme.Name, func(t *testing.T) {
				probe := &whoami{}
				s := authtest.Start(t, db, scheme.Config, probeRoutes(probe))
				valid := scheme.Token(t, id.User, id.Tenant)
				for _, r := range probeRequests {
					checkAccepted(t, s, r, valid, id)
				}
				before := probe.hits.Load()
				for _, c := range authtest.BadTokens(t, scheme, id) {
					t.Run(c.Name, func(t *testing.T) {
						for _, r := range probeRequests {
							if !authtest.Refused(t, s.Send(r, c.Authorization...), c.Challenge) {
								t.Errorf("%s %s was not refused properly", r.Method, r.Path)
							}
						}
					})
				}
				if n := probe.hits.Load() - before; n != 0 {
					t.Errorf("bad tokens reached the transport %d times", n)
				}
				for _, r := range probeRequests {
					checkAccepted(t, s, r, valid, id)
				}
			})
		}
	})
}

// A token stays a bearer of the user's current state: once the user is
// deactivated or deleted, or when the token names a tenant that is not the
// user's, it is refused although its signature and lifetime are fine.
func TestTokensFollowTheUsersCurrentState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scheme := authtest.Schemes(t)[0]
		probe := &whoami{}
		s := authtest.Start(t, db, scheme.Config, probeRoutes(probe))
		sys := tenancy.Bypass(context.Background())
		tests := []struct {
			name   string
			email  string
			change func(t *testing.T, id authtest.Identity) authtest.Identity
			undo   func(t *testing.T, id authtest.Identity)
		}{
			{"user deactivated after the token was issued", "sales1@demo-motors.test",
				func(t *testing.T, id authtest.Identity) authtest.Identity {
					if err := db.User.UpdateOneID(id.User).SetIsActive(false).Exec(sys); err != nil {
						t.Fatal(err)
					}
					return id
				},
				func(t *testing.T, id authtest.Identity) {
					if err := db.User.UpdateOneID(id.User).SetIsActive(true).Exec(sys); err != nil {
						t.Fatal(err)
					}
				}},
			{"user deleted after the token was issued", "sales2@demo-motors.test",
				func(t *testing.T, id authtest.Identity) authtest.Identity {
					if err := db.User.DeleteOneID(id.User).Exec(sys); err != nil {
						t.Fatal(err)
					}
					return id
				}, nil},
			{"tid is a tenant the user does not belong to", "manager@demo-motors.test",
				func(t *testing.T, id authtest.Identity) authtest.Identity {
					id.Tenant = id.OtherTenant
					return id
				}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := identity(t, db, tt.email)
				valid := scheme.Token(t, id.User, id.Tenant)
				for _, r := range probeRequests {
					checkAccepted(t, s, r, valid, id)
				}
				changed := tt.change(t, id)
				tok := scheme.Token(t, changed.User, changed.Tenant)
				for _, r := range probeRequests {
					authtest.Refused(t, s.Send(r, "Bearer "+tok), authtest.ChallengeInvalid)
				}
				if tt.undo != nil {
					tt.undo(t, id)
					for _, r := range probeRequests {
						checkAccepted(t, s, r, valid, id)
					}
				}
			})
		}
	})
}

// When the user cannot be looked up because the database is down, a valid
// token is not reported as bad (clients would drop it): 503 without a
// challenge and with the request id. A bad token is still a 401: it is
// refused before the database is asked.
func TestDatabaseOutageDuringTheUserLookupIsA503NotA401(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		scheme := authtest.Schemes(t)[0]
		probe := &whoami{}
		s := authtest.Start(t, db, scheme.Config, probeRoutes(probe))
		id := identity(t, db, "admin@demo-motors.test")
		checkAccepted(t, s, probeRequests[0], scheme.Token(t, id.User, id.Tenant), id)
		// A user not in the viewer cache yet, so the outage meets its
		// lookup (a cached viewer would pass authentication).
		other := identity(t, db, "manager@demo-motors.test")
		valid := scheme.Token(t, other.User, other.Tenant)

		db.SQL.Close() // the database goes away

		for _, r := range probeRequests {
			res := s.Send(r, "Bearer "+valid)
			if res.Status != http.StatusServiceUnavailable {
				t.Fatalf("%s %s: status %d, want 503; body %s", r.Method, r.Path, res.Status, res.Body)
			}
			if h := res.Header.Get("WWW-Authenticate"); h != "" {
				t.Errorf("WWW-Authenticate %q on an outage: the token is not at fault", h)
			}
			var body map[string]string
			if r.Path == "/graphql" { // a GraphQL response there
				var g struct {
					Errors []struct{ Extensions map[string]string }
				}
				res.JSON(t, &g)
				if len(g.Errors) == 1 {
					body = g.Errors[0].Extensions
				}
				if body["code"] != "SERVICE_UNAVAILABLE" {
					t.Errorf("body %s", res.Body)
				}
				delete(body, "code")
				body["error"] = "service unavailable"
			} else {
				res.JSON(t, &body)
			}
			if body["error"] != "service unavailable" || body["requestId"] != res.Header.Get("X-Request-Id") || len(body) != 2 {
				t.Errorf("body %s", res.Body)
			}
			authtest.Refused(t, s.Send(r, "Bearer "+valid[:len(valid)-3]), authtest.ChallengeInvalid)
		}
		if n := probe.hits.Load(); n != 1 {
			t.Errorf("transport reached %d times, want once (before the outage)", n)
		}
	})
}

// A small clock skew between the issuer and the gateway is tolerated: a
// token that expired, or becomes valid, within the leeway is accepted. The
// leeway is at most 60 s (the bad-token table refuses 61 s).
func TestClockSkewWithinTheLeewayIsTolerated(t *testing.T) {
	if auth.Leeway <= 0 || auth.Leeway > time.Minute {
		t.Fatalf("leeway %s, want (0, 60 s]", auth.Leeway)
	}
	db := storetest.Open(t, "sqlite3")
	scheme := authtest.Schemes(t)[0]
	s := authtest.Start(t, db, scheme.Config, probeRoutes(&whoami{}))
	id := identity(t, db, "user@demo-motors.test")
	now := time.Now()
	skew := auth.Leeway / 2
	for name, set := range map[string]map[string]any{
		"expired within the leeway":         {"exp": now.Add(-skew).Unix()},
		"valid from within the leeway":      {"nbf": now.Add(skew).Unix()},
		"issued within the leeway from now": {"iat": now.Add(skew).Unix()},
	} {
		t.Run(name, func(t *testing.T) {
			tok := scheme.Sign(t, authtest.With(scheme.Claims(id.User, id.Tenant), set), nil)
			checkAccepted(t, s, probeRequests[0], tok, id)
		})
	}
}
