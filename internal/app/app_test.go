package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// probe is a stand-in transport: it echoes the request body's size, or panics.
var probe = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("panic") {
		panic("secret internal detail")
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	io.WriteString(w, strings.Repeat("x", len(b)%10))
})

func TestHealthAndReadiness(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apptest.Start(t, db, nil)
		if r := s.Do("GET", "/healthz", "", nil); r.Status != http.StatusOK {
			t.Fatalf("healthz = %d", r.Status)
		}
		if r := s.Do("GET", "/readyz", "", nil); r.Status != http.StatusOK {
			t.Fatalf("readyz with the database up = %d", r.Status)
		}
		db.SQL.Close() // the database goes away
		r := s.Do("GET", "/readyz", "", nil)
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), "unavailable") {
			t.Fatalf("readyz with the database down = %d %s", r.Status, r.Body)
		}
		if r := s.Do("GET", "/healthz", "", nil); r.Status != http.StatusOK {
			t.Fatalf("healthz must not depend on the database: %d", r.Status)
		}
	})
}

func TestPanicsAnswer500WithoutInternals(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := apptest.Start(t, db, map[string]http.Handler{"/probe": probe})
	r := s.Do("GET", "/probe?panic=1", "admin@demo-motors.test", nil)
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("status = %d", r.Status)
	}
	var body struct{ Error, RequestID string }
	r.JSON(t, &body)
	if strings.Contains(string(r.Body), "secret") || body.RequestID == "" || body.RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("body = %s", r.Body)
	}
}

func TestBodiesOverTheLimitAreRefused(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := apptest.Start(t, db, map[string]http.Handler{"/probe": probe})
	if r := s.Do("POST", "/probe", "admin@demo-motors.test", strings.Repeat("a", 1<<20)); r.Status != http.StatusOK {
		t.Fatalf("1 MiB body: %d", r.Status)
	}
	if r := s.Do("POST", "/probe", "admin@demo-motors.test", strings.Repeat("a", 1<<20+1)); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MiB + 1 body: %d", r.Status)
	}
}

func TestRequestIDIsEchoedOrMade(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := apptest.Start(t, db, nil)
	req, _ := http.NewRequest("GET", s.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "client-123")
	if r := s.Send(req); r.Header.Get("X-Request-Id") != "client-123" {
		t.Fatalf("client id not echoed: %q", r.Header.Get("X-Request-Id"))
	}
	req.Header.Set("X-Request-Id", "bad id\twith spaces")
	if id := s.Send(req).Header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Fatalf("unsafe client id kept: %q", id)
	}
}
