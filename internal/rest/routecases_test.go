package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/rest/resttest"
)

// Seeded users the route tests act as: demo-motors.test is the caller's
// tenant, northwind-auto.test the other one.
const (
	asAdmin   = "admin@demo-motors.test"
	asManager = "manager@demo-motors.test"
	asUser    = "user@demo-motors.test" // a USER: read permissions only on configuration
	asOther   = "admin@northwind-auto.test"
	noToken   = ""
)

// routeCase is one request and the status (and body fragment) it must get;
// resttest validates the response against the OpenAPI document as well.
type routeCase struct {
	name   string
	method string
	path   string
	as     string // user email; noToken sends no Authorization header
	body   any    // string/[]byte sent as is, anything else as JSON
	status int
	want   string // a substring the body must contain, "" for any
}

// runRouteCases runs cases in order, one subtest each (later cases may rely
// on the writes of earlier ones).
func runRouteCases(t *testing.T, s *resttest.Server, cases []routeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := s.Do(c.method, c.path, c.as, c.body)
			if res.Status != c.status || !strings.Contains(string(res.Body), c.want) {
				t.Fatalf("%s %s as %q → %d %s; want %d containing %q", c.method, c.path, c.as, res.Status, res.Body, c.status, c.want)
			}
		})
	}
}

// decodeOK sends a request that must answer want and decodes its body into v.
func decodeOK(t *testing.T, s *resttest.Server, method, path, as string, body any, want int, v any) {
	t.Helper()
	res := s.Do(method, path, as, body)
	if res.Status != want {
		t.Fatalf("%s %s → %d %s; want %d", method, path, res.Status, res.Body, want)
	}
	res.JSON(t, v)
}

// unauthenticated returns a case per route checking that no token is a 401.
func unauthenticated(routes ...[2]string) []routeCase {
	cases := make([]routeCase, 0, len(routes))
	for _, r := range routes {
		cases = append(cases, routeCase{"no token: " + r[0] + " " + r[1], r[0], r[1], noToken, nil, http.StatusUnauthorized, ""})
	}
	return cases
}
