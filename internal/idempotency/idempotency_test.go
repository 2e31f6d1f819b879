package idempotency_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/idempotency"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

const (
	admin = "admin@demo-motors.test"
	other = "manager@demo-motors.test"
)

type server struct {
	*httptest.Server
	db *store.DB
	t  *testing.T
}

// start serves the real transports over db, plus extra test routes.
func start(t *testing.T, db *store.DB, cfg idempotency.Config, extra map[string]http.Handler) *server {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{Secret: apptest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := crm.NewService(db.Client)
	routes := map[string]http.Handler{
		"/api/":    rest.New(svc, log),
		"/graphql": graph.NewHandler(graph.Config{Client: db.Client, CRM: svc, Logger: log}),
	}
	for k, h := range extra {
		routes[k] = h
	}
	s := &server{Server: httptest.NewServer(app.New(app.Config{Logger: log, Verifier: v, Idempotency: cfg}, db, routes)), db: db, t: t}
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status   int
	body     string
	replayed bool
}

func (s *server) post(path, email, key, body string) answer {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(idempotency.Header, key)
	}
	tok, err := auth.Mint(apptest.Secret, storetest.UserID(s.t, s.db, email), storetest.TenantID(s.t, s.db, "demo-motors.test"), time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, string(b), res.Header.Get(idempotency.ReplayedHeader) == "true"}
}

func accounts(t *testing.T, db *store.DB, name string) int {
	t.Helper()
	n, err := db.Account.Query().Where(account.Name(name)).Count(tenancy.Bypass(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRepeatReturnsTheFirstAnswerWithoutWriting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, idempotency.Config{}, nil)
		first := s.post("/api/account", admin, "k-1", `{"name":"Idem Co"}`)
		if first.status != http.StatusOK || first.replayed {
			t.Fatalf("first: %+v", first)
		}
		again := s.post("/api/account", admin, "k-1", `{"name":"Idem Co"}`)
		if again.status != first.status || again.body != first.body || !again.replayed {
			t.Fatalf("repeat: %+v, want the first answer %+v replayed", again, first)
		}
		if n := accounts(t, db, "Idem Co"); n != 1 {
			t.Fatalf("%d accounts after a repeat, want 1", n)
		}
		// Same key, other body: 422, nothing written.
		if a := s.post("/api/account", admin, "k-1", `{"name":"Other Co"}`); a.status != http.StatusUnprocessableEntity {
			t.Fatalf("reused key: %+v", a)
		}
		// The key is the user's: another user's same key is another request.
		if a := s.post("/api/account", other, "k-1", `{"name":"Idem Co"}`); a.status != http.StatusOK || a.replayed {
			t.Fatalf("other user's key: %+v", a)
		}
		// Without a key nothing changes.
		s.post("/api/account", admin, "", `{"name":"Idem Co"}`)
		if n := accounts(t, db, "Idem Co"); n != 3 {
			t.Fatalf("%d accounts, want 3", n)
		}
		// A client error is kept too (nothing was written, the answer stands).
		bad := s.post("/api/account", admin, "k-bad", `{"name":""}`)
		if bad.status != http.StatusBadRequest {
			t.Fatalf("invalid body: %+v", bad)
		}
		if a := s.post("/api/account", admin, "k-bad", `{"name":""}`); !a.replayed || a.body != bad.body {
			t.Fatalf("repeat of a 400: %+v", a)
		}
		// A malformed key is refused.
		if a := s.post("/api/account", admin, strings.Repeat("x", 300), `{"name":"Long"}`); a.status != http.StatusBadRequest {
			t.Fatalf("long key: %+v", a)
		}
		// A second instance (no shared memory, same database) replays too.
		s2 := start(t, db, idempotency.Config{}, nil)
		if a := s2.post("/api/account", admin, "k-1", `{"name":"Idem Co"}`); !a.replayed || a.body != first.body {
			t.Fatalf("other instance: %+v", a)
		}
	})
}

func TestGraphQLMutationsTakeTheKeyFromHeaderOrExtension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, idempotency.Config{}, nil)
		op := func(name, ext string) string {
			b, _ := json.Marshal(map[string]any{
				"query":      `mutation M($n: String!) { createAccount(input: {name: $n}) { id name } }`,
				"variables":  map[string]any{"n": name},
				"extensions": map[string]any{"idempotencyKey": ext},
			})
			return string(b)
		}
		first := s.post("/graphql", admin, "", op("GQL Ext", "g-1"))
		again := s.post("/graphql", admin, "", op("GQL Ext", "g-1"))
		if first.status != http.StatusOK || !strings.Contains(first.body, `"id"`) || !again.replayed || again.body != first.body {
			t.Fatalf("extension key: first %+v, repeat %+v", first, again)
		}
		h1 := s.post("/graphql", admin, "g-2", op("GQL Header", ""))
		h2 := s.post("/graphql", admin, "g-2", op("GQL Header", ""))
		if !h2.replayed || h2.body != h1.body {
			t.Fatalf("header key: %+v then %+v", h1, h2)
		}
		if a := s.post("/graphql", admin, "g-2", op("GQL Changed", "")); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "IDEMPOTENCY_KEY_REUSED") {
			t.Fatalf("reused key: %+v", a)
		}
		if accounts(t, db, "GQL Ext") != 1 || accounts(t, db, "GQL Header") != 1 {
			t.Fatal("a repeated mutation wrote twice")
		}
		// Queries are not recorded; a failed mutation releases its key.
		q := `{"query":"{ viewer { id } }"}`
		if a, b := s.post("/graphql", admin, "g-q", q), s.post("/graphql", admin, "g-q", q); a.replayed || b.replayed {
			t.Fatal("a query answer was replayed")
		}
		bad := `{"query":"mutation { createAccount(input: {name: \"  \"}) { id } }"}`
		if a, b := s.post("/graphql", admin, "g-bad", bad), s.post("/graphql", admin, "g-bad", bad); !strings.Contains(a.body, "errors") || b.replayed {
			t.Fatalf("failed mutation: %+v then %+v", a, b)
		}
	})
}

func TestConcurrentRepeatsWriteOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, idempotency.Config{}, nil)
		var wg sync.WaitGroup
		answers := make([]answer, 8)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = s.post("/api/account", admin, "race", `{"name":"Race Co"}`)
			}()
		}
		wg.Wait()
		var body string
		for _, a := range answers {
			switch a.status {
			case http.StatusOK:
				if body != "" && a.body != body {
					t.Fatalf("two different answers for one key:\n%s\n%s", body, a.body)
				}
				body = a.body
			case http.StatusConflict:
			default:
				t.Fatalf("concurrent repeat: %+v", a)
			}
		}
		if n := accounts(t, db, "Race Co"); n != 1 {
			t.Fatalf("%d accounts from 8 concurrent repeats", n)
		}
	})
}

// A request whose claim outlived its lease is taken over by its repeat, and
// can then no longer commit: the write happens once.
func TestTakenOverRequestCannotCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		gates := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-gates[r.URL.Query().Get("who")]
			name := "Slow Co"
			if _, err := svc.CreateAccount(r.Context(), crm.AccountInput{Name: &name}); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
		s := start(t, db, idempotency.Config{Lease: 300 * time.Millisecond, Wait: 2 * time.Second},
			map[string]http.Handler{"/api/test-slow": slow})
		results := make(chan answer, 2)
		go func() { results <- s.post("/api/test-slow?who=a", admin, "slow", `{}`) }()
		time.Sleep(600 * time.Millisecond) // a's lease runs out
		// The key's request URI differs by ?who, so align the hash: b is a
		// repeat of the same request in every respect but its gate.
		if _, err := db.SQL.Exec(db.Rebind(`UPDATE idempotency_keys SET request_hash = ? WHERE idem_key = ?`), hashOf("/api/test-slow?who=b"), "slow"); err != nil {
			t.Fatal(err)
		}
		go func() { results <- s.post("/api/test-slow?who=b", admin, "slow", `{}`) }()
		time.Sleep(200 * time.Millisecond)
		close(gates["b"])
		b := <-results
		close(gates["a"])
		a := <-results
		if b.status != http.StatusCreated || a.status != http.StatusInternalServerError {
			t.Fatalf("taker %+v, taken-over %+v", b, a)
		}
		if n := accounts(t, db, "Slow Co"); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
		if r := s.post("/api/test-slow?who=b", admin, "slow", `{}`); !r.replayed || r.status != http.StatusCreated {
			t.Fatalf("repeat after both: %+v", r)
		}
	})
}

func hashOf(uri string) string {
	return idempotency.RequestHash(http.MethodPost, uri, []byte(`{}`))
}

func TestExpiredKeysAreForgotten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, idempotency.Config{TTL: time.Second}, nil)
		first := s.post("/api/account", admin, "ttl", `{"name":"TTL Co"}`)
		if _, err := db.SQL.Exec(db.Rebind(`UPDATE idempotency_keys SET created_at = created_at - 2000 WHERE idem_key = ?`), "ttl"); err != nil {
			t.Fatal(err)
		}
		again := s.post("/api/account", admin, "ttl", `{"name":"TTL Co"}`)
		if again.replayed || bytes.Equal([]byte(again.body), []byte(first.body)) {
			t.Fatalf("expired key replayed: %+v", again)
		}
		if n := accounts(t, db, "TTL Co"); n != 2 {
			t.Fatalf("%d accounts, want 2", n)
		}
	})
}

// A repeat whose own deadline passes while the first request still runs is
// told the key is in use (409), never an empty answer.
func TestRepeatPastItsDeadlineIsAConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		gate := make(chan struct{})
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("first") != "" {
				<-gate
			}
			w.WriteHeader(http.StatusCreated)
		})
		v, err := auth.NewVerifier(auth.Config{Secret: apptest.Secret})
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		h := app.New(app.Config{Logger: log, Verifier: v, Limits: app.Limits{RequestTimeout: 300 * time.Millisecond},
			Idempotency: idempotency.Config{Wait: 5 * time.Second}}, db, map[string]http.Handler{"/api/": slow})
		s := &server{Server: httptest.NewServer(h), db: db, t: t}
		t.Cleanup(s.Close)
		first := make(chan answer, 1)
		go func() { first <- s.post("/api/test-slow?first=1", admin, "deadline", `{}`) }()
		// Wait for the first request's claim (a fixed sleep lost the race
		// on a loaded machine), then make the repeat's hash match it.
		for wait := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			res, err := db.SQL.Exec(db.Rebind(`UPDATE idempotency_keys SET request_hash = ? WHERE idem_key = ?`),
				idempotency.RequestHash(http.MethodPost, "/api/test-slow", []byte(`{}`)), "deadline")
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				break
			}
			if time.Now().After(wait) {
				t.Fatal("the first request never claimed its key")
			}
		}
		start := time.Now()
		r := s.post("/api/test-slow", admin, "deadline", `{}`)
		close(gate)
		<-first
		if r.status != http.StatusConflict || time.Since(start) > 2*time.Second {
			t.Fatalf("repeat past its deadline: %+v after %s", r, time.Since(start))
		}
	})
}
