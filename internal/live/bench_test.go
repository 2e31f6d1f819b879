package live_test

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// CONECRM_LIVE_BENCH=1000 go test -run TestIdleSubscriberMemory -v ./internal/live
// opens that many websocket connections, each with one recordChanged
// subscription, and reports the heap and goroutines per connection. Client
// and server share the process, so the figures include the client side of
// each connection (an upper bound for the server's).
func TestIdleSubscriberMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CONECRM_LIVE_BENCH"))
	if n <= 0 {
		t.Skip("set CONECRM_LIVE_BENCH=<subscribers> to measure")
	}
	db := storetest.Open(t, "sqlite")
	in := start(t, db, graph.SubscriptionLimits{PerUser: n + 1})
	tok := in.Token(admin)
	measure := func() (uint64, int) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse, runtime.NumGoroutine()
	}
	heap0, g0 := measure()
	clients := make([]*client, n)
	for i := range clients {
		c := in.dial(t)
		must(t, c.init(tok))
		c.subscribe("all", recordSub)
		clients[i] = c
	}
	time.Sleep(time.Second)
	heap1, g1 := measure()
	per := float64(heap1-heap0) / float64(n)
	t.Logf("%d idle subscribers: %.1f KiB heap+stack and %.1f goroutines per connection (client side included)",
		n, per/1024, float64(g1-g0)/float64(n))
	in.createLead(t, admin, "demo-motors.test", "Fan-out probe")
	start := time.Now()
	var ev recordChange
	for _, c := range clients {
		c.event("all", 30*time.Second, &ev)
	}
	t.Logf("one change reached all %d subscribers in %s", n, time.Since(start).Round(time.Millisecond))
}
