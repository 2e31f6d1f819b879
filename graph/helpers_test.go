package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
)

// Seeded users of the two demo tenants.
const (
	admin      = "admin@demo-motors.test"
	user       = "user@demo-motors.test"
	otherAdmin = "admin@northwind-auto.test"
)

// start serves /graphql over db with cfg (Client, CRM and Logger filled in).
func start(t *testing.T, db *store.DB, cfg graph.Config) *apptest.Server {
	t.Helper()
	if cfg.Client == nil {
		cfg.Client = db.Client
	}
	if cfg.CRM == nil {
		cfg.CRM = crm.NewService(db.Client)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return apptest.Start(t, db, map[string]http.Handler{"/graphql": graph.NewHandler(cfg)})
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// result is a decoded GraphQL response.
type result struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	// Statements is how many SQL statements the request issued.
	Statements int64
}

// code returns the extensions.code of the first error, or "".
func (r *result) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// into decodes data into v, failing on any error.
func (r *result) into(t *testing.T, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// query POSTs an operation as email.
func query(t *testing.T, s *apptest.Server, email, q string, vars map[string]any) *result {
	t.Helper()
	return post(t, s, email, map[string]any{"query": q, "variables": vars})
}

// post POSTs body (a JSON value) to /graphql as email and decodes the answer.
func post(t *testing.T, s *apptest.Server, email string, body any) *result {
	t.Helper()
	before := s.Statements()
	res := s.Do(http.MethodPost, "/graphql", email, body)
	return decode(t, res, s.Statements()-before)
}

func decode(t *testing.T, res *apptest.Response, statements int64) *result {
	t.Helper()
	r := &result{Status: res.Status, Statements: statements}
	if err := json.Unmarshal(res.Body, r); err != nil {
		t.Fatalf("status %d, body is not a GraphQL response: %s", res.Status, res.Body)
	}
	return r
}

// baseline returns the statements of a request that runs no resolver: what
// authentication alone costs.
func baseline(t *testing.T, s *apptest.Server, email string) int64 {
	t.Helper()
	// Twice: the first request of a viewer reads it (one statement), the
	// next ones find it in the viewer cache (none).
	var r *result
	for range 2 {
		r = query(t, s, email, `{ __typename }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("baseline: %+v", r.Errors)
		}
	}
	return r.Statements
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
