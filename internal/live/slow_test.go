package live_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// dialSmall opens a websocket whose socket has a small receive buffer, so
// that a client that stops reading backs the server up after a few
// events instead of after megabytes of kernel buffers.
func (in *instance) dialSmall(t *testing.T) *client {
	t.Helper()
	d := smallDialer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: d.DialContext}},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(8 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &client{t: t, conn: conn}
}

// smallDialer dials sockets with a 4 KiB receive buffer.
func smallDialer() *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
}

func closes(t *testing.T, code int) float64 {
	t.Helper()
	var m dto.Metric
	if err := metrics.SubscriptionCloses.WithLabelValues(strconv.Itoa(code)).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A subscriber that stops reading while changes are pushed is dropped with
// 4008 over the real transport: the server queues at most
// CONECRM_SUBSCRIPTION_BUFFER changes for it (here 2) beyond what the
// socket holds, instead of buffering without bound. A client that reads
// again within the close handshake's 5 s gets the events sent before the
// drop, then the close code; one that never reads again is let go of (its
// connection, goroutines and per-user slot freed) all the same.
func TestSlowConsumerClosedOverTheWire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		in := start(t, db, graph.SubscriptionLimits{Buffer: 2, PerUser: 2})
		open := openSubscriptions(t)
		tok := in.Token(admin)
		// Each change is pushed to 10 subscriptions of each connection, each
		// event carrying the lead's description (255 characters) 29 times:
		// ~75 KiB per change, so a few changes fill the socket buffers.
		var sel strings.Builder
		for i := range 29 {
			sel.WriteString(" d" + strconv.Itoa(i) + ": description")
		}
		sub := `subscription { leadChanged(filter: {combinator: "and", rules: [{field: "subject", operator: "beginsWith", value: "Slow"}]}) { leadId lead {` +
			sel.String() + ` } } }`
		slow, gone := in.dialSmall(t), in.dialSmall(t)
		for _, c := range []*client{slow, gone} {
			must(t, c.init(tok))
			for i := range 10 {
				c.subscribe("big"+strconv.Itoa(i), sub)
			}
		}
		time.Sleep(100 * time.Millisecond) // the subscriptions are registered
		body := newLead(t, db, "demo-motors.test", "Slow 0")
		body["description"] = strings.Repeat("x", 255)
		before := closes(t, graph.CloseSlowConsumer)
		writes := 0
		for closes(t, graph.CloseSlowConsumer) < before+2 {
			if writes == 1000 {
				t.Fatalf("no slow consumer dropped after %d changes", writes)
			}
			body["subject"] = "Slow " + strconv.Itoa(writes)
			if res := in.Do(http.MethodPost, "/api/lead", admin, body); res.Status != 200 {
				t.Fatalf("create lead: %d %s", res.Status, res.Body)
			}
			writes++
		}
		// Both were dropped; the slow one reads again at once.
		got := 0
		for {
			m, err := slow.next(10 * time.Second)
			if err != nil {
				var ce websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != graph.CloseSlowConsumer {
					t.Fatalf("after %d events: %v, want close %d", got, err, graph.CloseSlowConsumer)
				}
				break
			}
			if m.Type == "next" {
				got++
			}
		}
		if got >= 10*writes {
			t.Fatalf("received all %d events: nothing was dropped", got)
		}
		t.Logf("%d changes pushed; the slow consumer received %d, then close %d", writes, got, graph.CloseSlowConsumer)
		// The server let go of both connections (the one that never read
		// again after the close handshake's timeout).
		deadline := time.Now().Add(15 * time.Second)
		for openSubscriptions(t) != open {
			if time.Now().After(deadline) {
				t.Fatalf("subscriptions gauge %v, want %v: a dropped connection is still held", openSubscriptions(t), open)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
