package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// presents reports whether an Authorization header value presents token
// as bearer credentials (case-insensitive scheme, one or more spaces,
// surrounding white space ignored): the only values that may authenticate.
func presents(value, token string) bool {
	v := strings.TrimSpace(value)
	return len(v) > 7 && strings.EqualFold(v[:6], "bearer") && v[6] == ' ' &&
		strings.TrimLeft(v[7:], " ") == token
}

// fuzzDB is a seeded SQLite database for a fuzz process. storetest needs a
// *testing.T, which a fuzz target only has per input; this one lives as
// long as the *testing.F.
func fuzzDB(f *testing.F) *store.DB {
	f.Helper()
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
	return db
}

// FuzzAuthorizationHeader sends arbitrary Authorization header values
// through the whole HTTP stack (request id, logging, panic recovery, body
// limit, authentication, the transports' mount points) over a seeded
// database. Whatever the value, the answer is a well-formed 401 and no
// transport is reached — never a panic or a 500 — except for the one valid
// token of this process, which must be accepted.
//
//	go test ./internal/app -run '^$' -fuzz FuzzAuthorizationHeader -fuzztime 60s
//
// The handler is called in-process so that values an HTTP client would
// refuse to send (control characters, invalid UTF-8) reach the middleware
// too. Fuzz workers are separate processes, each with its own database and
// so its own user ids: the valid token is minted per process, and a seed
// that is valid in one process is just another bad token in the next.
func FuzzAuthorizationHeader(f *testing.F) {
	db := fuzzDB(f)
	uid := storetest.UserID(f, db, "user@demo-motors.test")
	tid, other := storetest.TenantID(f, db, "demo-motors.test"), storetest.TenantID(f, db, "northwind-auto.test")
	scheme := authtest.Schemes(f)[0]
	valid := scheme.Token(f, uid, tid)
	probe := &whoami{}
	h := app.New(app.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Verifier: scheme.Verifier(f)},
		db, probeRoutes(probe))

	f.Add("Bearer " + valid)
	f.Add("bearer  " + valid + " ")
	f.Add("")
	f.Add("Bearer ")
	f.Add("Bearer\t" + valid)
	f.Add("Bearer " + valid + "\x00")
	for _, c := range authtest.BadTokens(f, scheme, authtest.Identity{User: uid, Tenant: tid, OtherTenant: other}) {
		if len(c.Authorization) > 1 {
			continue // each value alone is a good token, minted a moment apart from valid
		}
		for _, a := range c.Authorization {
			f.Add(a)
		}
	}

	f.Fuzz(func(t *testing.T, value string) {
		for _, r := range probeRequests {
			var body io.Reader
			if r.Body != "" {
				body = strings.NewReader(r.Body)
			}
			req := httptest.NewRequest(r.Method, r.Path, body)
			req.Header["Authorization"] = []string{value}
			rec := httptest.NewRecorder()
			before := probe.hits.Load()
			h.ServeHTTP(rec, req)
			reached := probe.hits.Load() != before

			if presents(value, valid) {
				if rec.Code != http.StatusOK || !reached {
					t.Fatalf("valid token refused: %d %s", rec.Code, rec.Body)
				}
				continue
			}
			if rec.Code != http.StatusUnauthorized || reached {
				t.Fatalf("Authorization %q: status %d, transport reached %v; body %s", value, rec.Code, reached, rec.Body)
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
