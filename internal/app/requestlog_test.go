package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Every request is logged once, with its id, route, status, duration and
// the SQL statements it ran (the viewer's one here: its first request), as
// typed JSON fields.
func TestEveryRequestIsLoggedWithItsStatements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { requestLogged(t, db) })
}

func requestLogged(t *testing.T, db *store.DB) {
	var logs apptest.Logs
	s := apptest.StartConfig(t, db, app.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
		map[string]http.Handler{"/api/": ok})
	r := s.Do(http.MethodGet, "/api/x", admin, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d", r.Status)
	}
	var line map[string]any
	var keys []string
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, `"path":"/api/x"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
			keys = jsonKeys(t, l)
		}
	}
	// The line's fields, in this order (slog's own first): what log
	// pipelines parse.
	if want := "time level msg request_id method path status duration_ms sql_statements"; strings.Join(keys, " ") != want {
		t.Errorf("request line's fields %q, want %q", keys, want)
	}
	if line == nil {
		t.Fatalf("no request line:\n%s", logs.String())
	}
	if line["msg"] != "request" || line["method"] != "GET" || line["status"] != float64(200) ||
		line["sql_statements"] != float64(1) || line["request_id"] != r.Header.Get("X-Request-Id") || line["request_id"] == "" {
		t.Errorf("request line %v (X-Request-Id %q)", line, r.Header.Get("X-Request-Id"))
	}
	if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms %v", line["duration_ms"])
	}
}

// jsonKeys returns the keys of the flat JSON object line, in order.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		if _, err := dec.Token(); err != nil { // the value: every field is a scalar
			t.Fatal(err)
		}
	}
	return keys
}
