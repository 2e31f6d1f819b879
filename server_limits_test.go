package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/apptest"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/storetest"
	"github.com/conecrm/gateway/internal/tenancy"
)

// Production never seeds demo data (no demo ADMIN users in a new
// database), never logs a token, and keeps the data private: directory
// 0700, database file 0600.
func TestProductionStartsEmptyPrivateAndQuiet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"CONECRM_DATA_DIR": dir, "CONECRM_ADDR": addr, "CONECRM_ENV": "production",
			"CONECRM_JWT_SECRET": "0123456789abcdef0123456789abcdef"}), io.Discard, &logs)
	}()
	waitHealthy(t, "http://"+addr)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if out := logs.String(); strings.Contains(out, "token") || strings.Contains(out, "eyJ") {
		t.Errorf("production log mentions a token:\n%s", out)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "conecrm.db"): 0o600} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode().Perm(), err, want)
		}
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "conecrm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.User.Query().CountX(tenancy.Bypass(context.Background())); n != 0 {
		t.Errorf("production database was seeded: %d users", n)
	}
}

// A client that does not send its body in time gets 408 on both
// transports — not a 200, and no socket address in the message.
func TestBodyReadTimeoutIs408(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	v, err := auth.NewVerifier(auth.Config{Secret: apptest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewUnstartedServer(app.New(app.Config{Verifier: v, Logger: log}, db, routes(config{}, db, log)))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	token, err := auth.Mint(apptest.Secret, storetest.UserID(t, db, "admin@demo-motors.test"), storetest.TenantID(t, db, "demo-motors.test"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/account", "/graphql"} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na", path, token)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		if res.StatusCode != http.StatusRequestTimeout || strings.Contains(string(body), "127.0.0.1") {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
}
