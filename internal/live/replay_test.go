package live_test

import (
	"context"
	"fmt"
	neturl "net/url"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/faultnet"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func replayed(t *testing.T, outcome string) float64 {
	t.Helper()
	var m dto.Metric
	if err := metrics.LiveReplayed.WithLabelValues(outcome).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// Instance B's notification listener loses its PostgreSQL connection
// (cut by a proxy, which then refuses it for a while) while instance A
// writes: once B's listener is back, B replays the changes of the gap
// from the outbox, and its subscriber gets every change exactly once —
// those heard before the gap are not sent again.
func TestReplayAfterListenerReconnects(t *testing.T) {
	a, p, c := gapped(t, graph.SubscriptionLimits{Buffer: 64})
	published, seen := replayed(t, "published"), replayed(t, "already_seen")

	want := map[string]bool{}
	got := map[string]int{}
	receive := func(n int) {
		for range n {
			var ev recordChange
			c.event("all", 20*time.Second, &ev)
			got[ev.RecordChanged.RecordID]++
		}
	}
	for i := range 2 {
		want[a.createLead(t, admin, "demo-motors.test", fmt.Sprintf("Before the gap %d", i))] = true
	}
	receive(2)
	p.Set(faultnet.Down) // cuts B's listener; reconnecting is refused
	time.Sleep(300 * time.Millisecond)
	for i := range 5 {
		want[a.createLead(t, admin, "demo-motors.test", fmt.Sprintf("In the gap %d", i))] = true
	}
	time.Sleep(500 * time.Millisecond)
	p.Set(faultnet.Up)
	want[a.createLead(t, admin, "demo-motors.test", "After the gap")] = true
	receive(6)
	c.silent(time.Second) // no event twice
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("lead %s pushed %d times; all: %v", id, got[id], got)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("pushed %v, want %v", got, want)
	}
	if n := replayed(t, "published") - published; n < 5 {
		t.Fatalf("%v changes replayed, want the gap's 5 at least", n)
	}
	if n := replayed(t, "already_seen") - seen; n < 2 {
		t.Fatalf("%v replayed changes recognised as seen, want the 2 before the gap at least", n)
	}
}

// gapped starts instances A and B on one PostgreSQL, B's listener behind
// proxy p (B with limits), and a subscriber of B to every record change.
func gapped(t *testing.T, limits graph.SubscriptionLimits) (*instance, *faultnet.Proxy, *client) {
	t.Helper()
	db := storetest.Open(t, "postgres")
	url := storetest.DBURL(t, db)
	u, err := neturl.Parse(url)
	must(t, err)
	p, err := faultnet.Start(u.Host)
	must(t, err)
	t.Cleanup(p.Close)
	u.Host = p.Addr()
	second, err := store.Open(context.Background(), url)
	must(t, err)
	t.Cleanup(func() { _ = second.Close() })
	a := start(t, db, graph.SubscriptionLimits{})
	b := startURL(t, second, u.String(), limits) // B listens through the proxy
	c := b.dial(t)
	must(t, c.init(b.Token(admin)))
	c.subscribe("all", recordSub)
	time.Sleep(100 * time.Millisecond)
	return a, p, c
}

// More changes in the gap than CONECRM_SUBSCRIPTION_REPLAY_MAX: the newest
// are pushed, oldest first, and the older ones are not.
func TestReplayKeepsTheNewestChanges(t *testing.T) {
	a, p, c := gapped(t, graph.SubscriptionLimits{Buffer: 64, ReplayMax: 2})
	var ev recordChange
	a.createLead(t, admin, "demo-motors.test", "Before the gap")
	c.event("all", 20*time.Second, &ev)
	p.Set(faultnet.Down)
	time.Sleep(300 * time.Millisecond)
	var gap []string
	for i := range 5 {
		gap = append(gap, a.createLead(t, admin, "demo-motors.test", fmt.Sprintf("In the gap %d", i)))
	}
	time.Sleep(500 * time.Millisecond)
	p.Set(faultnet.Up)
	for _, want := range gap[3:] {
		c.event("all", 20*time.Second, &ev)
		if ev.RecordChanged.RecordID != want {
			t.Fatalf("replayed %s, want %s (the gap: %v)", ev.RecordChanged.RecordID, want, gap)
		}
	}
	c.silent(time.Second)
}
