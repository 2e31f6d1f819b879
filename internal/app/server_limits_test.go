package app_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A client that does not send its body in time gets 408 on both
// transports — not a 200, and no socket address in the message.
func TestBodyReadTimeoutIs408(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	v, err := auth.NewVerifier(auth.Config{Secret: apptest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewUnstartedServer(app.New(app.Config{Verifier: v, Logger: log}, db, routes(db, log)))
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
