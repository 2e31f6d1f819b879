package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestFirstStartSeedsTheDemoDataAndLogsAToken(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"CONECRM_DATA_DIR": dir, "CONECRM_ADDR": addr, "CONECRM_METRICS_ADDR": "127.0.0.1:0"}), io.Discard, &logs)
	}()
	waitHealthy(t, "http://"+addr)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "demo token for admin@demo-motors.test") || !strings.Contains(out, "/playground#token=ey") {
		t.Fatalf("startup log lacks the token or the signed-in playground URL:\n%s", out)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "jwt-secret"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "jwt-secret")); st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, want 0600", st.Mode().Perm())
	}
	// The token subcommand mints with the same kept secret.
	var tok bytes.Buffer
	if err := run(context.Background(), []string{"token", "--email", "user@northwind-auto.test", "--ttl", "1h"},
		env(map[string]string{"CONECRM_DATA_DIR": dir}), &tok, io.Discard); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Secret: bytes.TrimSpace(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), strings.TrimSpace(tok.String())); err != nil {
		t.Fatalf("printed token does not verify: %v", err)
	}
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not become healthy")
}

func TestProductionRefusesToStartWithoutKeyMaterial(t *testing.T) {
	err := run(context.Background(), []string{"serve"},
		env(map[string]string{"CONECRM_ENV": "production", "CONECRM_DATA_DIR": t.TempDir()}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "production needs key material") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadConfigurationIsRejected(t *testing.T) {
	for name, e := range map[string]map[string]string{
		"unknown env":  {"CONECRM_ENV": "staging"},
		"short secret": {"CONECRM_JWT_SECRET": "too-short"},
	} {
		t.Run(name, func(t *testing.T) {
			e["CONECRM_DATA_DIR"] = t.TempDir()
			if err := run(context.Background(), []string{"migrate"}, env(e), io.Discard, io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}

func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveUntilDone(ctx, ln, h, app.DefaultLimits(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel() // SIGTERM arrives while the request is in flight
	select {
	case err := <-done:
		t.Fatalf("server stopped before the in-flight request finished: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/new"); err == nil {
		t.Fatal("a new request was accepted during shutdown")
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: body %q err %v", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
