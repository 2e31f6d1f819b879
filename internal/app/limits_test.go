package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

const (
	admin   = "admin@demo-motors.test"
	manager = "manager@demo-motors.test"
	other   = "admin@northwind-auto.test"
)

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpx.WriteJSON(w, 200, map[string]string{"ok": "yes"}) })

// Per-user and per-tenant token buckets: past the burst a user gets 429
// with Retry-After and the RateLimit fields, on /graphql a GraphQL error
// with a code; the tenant's bucket is shared by its users; another
// tenant is not affected.
func TestRateLimitsPerUserAndTenant(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{UserRate: 0.01, UserBurst: 3, TenantRate: 0.01, TenantBurst: 5}},
		map[string]http.Handler{"/api/": ok, "/graphql": ok})
	for i := range 3 {
		r := s.Do(http.MethodGet, "/api/x", admin, nil)
		if r.Status != http.StatusOK || r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: %d, RateLimit-Limit %q Remaining %q", i, r.Status, r.Header.Get("RateLimit-Limit"), r.Header.Get("RateLimit-Remaining"))
		}
	}
	r := s.Do(http.MethodPost, "/graphql", admin, map[string]any{"query": "{ __typename }"})
	var gql struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	r.JSON(t, &gql)
	if r.Status != http.StatusTooManyRequests || len(gql.Errors) != 1 || gql.Errors[0].Extensions.Code != "RATE_LIMITED" {
		t.Fatalf("4th request of the user: %d %s", r.Status, r.Body)
	}
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 1 || r.Header.Get("RateLimit-Remaining") != "0" || r.Header.Get("RateLimit-Reset") == "" {
		t.Errorf("headers: %v", r.Header)
	}
	// The tenant has 2 tokens left (5 − 3): the manager gets 2, then the tenant is refused.
	for i := range 2 {
		if r := s.Do(http.MethodGet, "/api/x", manager, nil); r.Status != http.StatusOK {
			t.Fatalf("manager request %d: %d", i, r.Status)
		}
	}
	if r := s.Do(http.MethodGet, "/api/x", manager, nil); r.Status != http.StatusTooManyRequests || !strings.Contains(string(r.Body), "tenant") {
		t.Fatalf("tenant over its burst: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodGet, "/api/x", other, nil); r.Status != http.StatusOK {
		t.Fatalf("another tenant: %d", r.Status)
	}
}

// Failed authentications are limited per client address; past the limit
// even a good token from that address is refused until tokens refill.
func TestFailedAuthenticationIsLimitedPerAddress(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{AuthFailures: 3}}, map[string]http.Handler{"/api/": ok})
	bad := func() int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/x", nil)
		req.Header.Set("Authorization", "Bearer not.a.token")
		return s.Send(req).Status
	}
	for i := range 3 {
		if st := bad(); st != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, st)
		}
	}
	if st := bad(); st != http.StatusTooManyRequests {
		t.Fatalf("4th failure: %d", st)
	}
	r := s.Do(http.MethodGet, "/api/x", admin, nil)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("good token from a blocked address: %d %v", r.Status, r.Header)
	}
}

// Behind a trusted proxy, failed authentications count per client (the
// rightmost X-Forwarded-For address the proxies did not add), so one
// client's guessing does not lock out the others; without the proxy being
// trusted, X-Forwarded-For is ignored and cannot be forged to escape.
func TestFailedAuthenticationBehindTrustedProxies(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	attempt := func(s *apptest.Server, token, xff string) int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/x", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-For", xff)
		return s.Send(req).Status
	}
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8")}
	s := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{AuthFailures: 2, TrustedProxies: loopback}}, map[string]http.Handler{"/api/": ok})
	// The guesser forges a first hop; the proxies (10.0.0.1 and the
	// loopback connection) vouch for 203.0.113.7 only.
	for range 2 {
		if st := attempt(s, "not.a.token", "198.51.100.1, 203.0.113.7, 10.0.0.1"); st != http.StatusUnauthorized {
			t.Fatalf("failure: %d", st)
		}
	}
	if st := attempt(s, s.Token(admin), "203.0.113.7"); st != http.StatusTooManyRequests {
		t.Fatalf("the guesser with a good token: %d, want 429", st)
	}
	if st := attempt(s, s.Token(admin), "198.51.100.1"); st != http.StatusOK {
		t.Fatalf("another client behind the same proxy: %d, want 200", st)
	}

	untrusted := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{AuthFailures: 2}}, map[string]http.Handler{"/api/": ok})
	for i := range 3 {
		st := attempt(untrusted, "not.a.token", fmt.Sprintf("192.0.2.%d", i))
		if want := []int{401, 401, 429}[i]; st != want {
			t.Fatalf("failure %d with a forged X-Forwarded-For: %d, want %d", i, st, want)
		}
	}
}

// Past MaxInFlight requests being served, the next is shed: 503 with
// Retry-After, before authentication.
func TestInFlightCapShedsLoad(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	s := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{MaxInFlight: 2}}, map[string]http.Handler{"/api/": slow})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/x", nil)
			req.Header.Set("Authorization", "Bearer "+s.Token(admin))
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
			}
		}()
	}
	<-entered
	<-entered
	r := s.Do(http.MethodGet, "/api/x", "", nil)
	close(release)
	wg.Wait()
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("third request in flight: %d %v %s", r.Status, r.Header, r.Body)
	}
}

// slowSQL runs a statement that takes seconds, with the request's context.
func slowSQL(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000000) SELECT count(*) FROM c`
		if db.Dialect == "postgres" {
			q = `SELECT pg_sleep(10)`
		}
		start := time.Now()
		_, err := db.SQL.ExecContext(r.Context(), q)
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"err": err != nil, "ms": time.Since(start).Milliseconds()})
	})
}

// The request deadline is carried into SQL: the statement is canceled when
// it passes, on both databases, and the log says so.
func TestRequestDeadlineCancelsSQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var logs apptest.Logs
		s := apptest.StartConfig(t, db, app.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			Limits: app.Limits{RequestTimeout: 300 * time.Millisecond}}, map[string]http.Handler{"/api/": slowSQL(db)})
		start := time.Now()
		r := s.Do(http.MethodGet, "/api/x", admin, nil)
		var body struct {
			Err bool
			MS  int64
		}
		r.JSON(t, &body)
		if !body.Err || time.Since(start) > 5*time.Second {
			t.Fatalf("statement ran %d ms (err %v) under a 300 ms deadline", body.MS, body.Err)
		}
		if !strings.Contains(logs.String(), "request deadline exceeded") {
			t.Errorf("deadline not logged:\n%s", logs.String())
		}
	})
}

// A client that goes away cancels its request's SQL; the log records a
// cancellation (499), not a 200.
func TestClientDisconnectCancelsWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var logs apptest.Logs
		done := make(chan time.Duration, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			slowSQL(db).ServeHTTP(w, r)
			done <- time.Since(start)
		})
		s := apptest.StartConfig(t, db, app.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, map[string]http.Handler{"/api/": h})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/x", nil)
		req.Header.Set("Authorization", "Bearer "+s.Token(admin))
		if _, err := http.DefaultClient.Do(req); err == nil {
			t.Fatal("the client's timeout did not end its request")
		}
		select {
		case d := <-done:
			if d > 5*time.Second {
				t.Errorf("work went on for %s after the client left", d)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("work not canceled")
		}
		deadline := time.Now().Add(2 * time.Second)
		for !strings.Contains(logs.String(), "request canceled by the client") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(logs.String(), "status=499") {
			t.Errorf("cancellation not logged:\n%s", logs.String())
		}
	})
}

// API answers are neither cached nor sniffed.
func TestAPIAnswersAreNotStoredNorSniffed(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := apptest.Start(t, db, map[string]http.Handler{"/api/": ok})
	for _, r := range []*apptest.Response{s.Do(http.MethodGet, "/api/x", admin, nil), s.Do(http.MethodGet, "/api/x", "", nil), s.Do(http.MethodGet, "/healthz", "", nil)} {
		if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("status %d headers %v", r.Status, r.Header)
		}
	}
}

func TestLimitsFromEnv(t *testing.T) {
	env := map[string]string{"CONECRM_RATE_USER": "5.5", "CONECRM_RATE_TENANT": "0", "CONECRM_RATE_MAX_IN_FLIGHT": "7", "CONECRM_REQUEST_TIMEOUT": "2s",
		"CONECRM_HTTP_READ_TIMEOUT": "10s", "CONECRM_HTTP_WRITE_TIMEOUT": "3s", "CONECRM_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,::1"}
	l, err := app.LimitsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := app.DefaultLimits()
	want.UserRate, want.TenantRate, want.MaxInFlight, want.RequestTimeout = 5.5, 0, 7, 2*time.Second
	want.ReadTimeout, want.WriteTimeout = 10*time.Second, 3*time.Second
	want.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("::1/128")}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("got %+v, want %+v", l, want)
	}
	for k, v := range map[string]string{"CONECRM_RATE_USER": "-1", "CONECRM_RATE_AUTH_FAILURES": "x", "CONECRM_REQUEST_TIMEOUT": "15", "CONECRM_RATE_USER_BURST": "0",
		"CONECRM_HTTP_WRITE_TIMEOUT": "10s", "CONECRM_HTTP_IDLE_TIMEOUT": "-1s", "CONECRM_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"} {
		if _, err := app.LimitsFromEnv(func(n string) string {
			if n == k {
				return v
			}
			return ""
		}); err == nil {
			t.Errorf("%s=%s accepted", k, v)
		}
	}
}
