package app

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentKeepsTheGoalAtTheFloorWhileLiveDataIsSmall(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name              string
		floor, live, root uint64
		want              int
	}{
		{"live above the floor: the target", 48 * mib, 60 * mib, mib, 70},
		{"live at the floor", 48 * mib, 48 * mib, mib, 70},
		{"goal of the target above the floor", 48 * mib, 40 * mib, mib, 70},
		// (48 − 10) × 100 / 11 = 345.5 → 350: goal 10 + 11 × 3.5 = 48.5 MiB
		{"small live data: the floor", 48 * mib, 10 * mib, mib, 350},
		// the runtime's least goal, 4 MiB × GOGC / 100, stays at the floor
		{"almost nothing live", 48 * mib, 0, 64 << 10, 1200},
		{"a small floor", 8 * mib, 0, 64 << 10, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := gcPercentFor(70, c.floor, c.live, c.root); got != c.want {
				t.Errorf("gcPercentFor(70, %d, %d, %d) = %d, want %d", c.floor, c.live, c.root, got, c.want)
			}
		})
	}
}

// heapGoal is the runtime's current heap goal.
func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// gcPercentNow is the runtime's current GC percent.
func gcPercentNow() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// The tuner in a live process: with little live data the goal is the
// floor (where GOGC 70 alone gives a few MiB); with live data past the
// floor the collector is back at the plain target; a policy without a
// floor stops the tuner.
func TestGCTunerKeepsTheHeapGoalAtTheFloor(t *testing.T) {
	was := debug.SetGCPercent(100)
	defer func() {
		ApplyGC(GCPolicy{Percent: was})
		debug.SetGCPercent(was)
	}()
	const floor = 96 // MiB: above anything this test binary keeps live by itself
	ApplyGC(GCPolicy{Percent: 70, MinHeapMiB: floor})
	// waitFor collects until the tuner (run after each collection, on
	// the runtime's cleanup goroutine) has made ok true.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if ok() {
				return
			}
		}
		t.Fatalf("%s: heap goal %d MiB, GC percent %d", what, heapGoal()>>20, gcPercentNow())
	}
	waitFor("small live data", func() bool {
		g := heapGoal()
		return g >= floor<<20 && g < (floor+16)<<20
	})

	// 128 MiB live: the goal is the target's, 1.7 × live, again.
	live := make([][]byte, 128)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	waitFor("large live data", func() bool {
		return gcPercentNow() == 70 && heapGoal() > 200<<20
	})
	runtime.KeepAlive(live)
	live = nil

	// No floor: a plain GOGC, the tuner stops.
	ApplyGC(GCPolicy{Percent: 70})
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if p := gcPercentNow(); p != 70 {
		t.Errorf("without a floor the GC percent is %d, want 70", p)
	}
	if g := heapGoal(); g >= floor<<20 {
		t.Errorf("without a floor the heap goal is %d MiB", g>>20)
	}
}

// A policy applied again takes effect even when the tuner's last percent
// equals the one it computes now (the percent was reset in between).
func TestGCPolicyAppliedAgainTunesAgain(t *testing.T) {
	was := debug.SetGCPercent(100)
	defer func() {
		ApplyGC(GCPolicy{Percent: was})
		debug.SetGCPercent(was)
	}()
	for range 2 {
		ApplyGC(GCPolicy{Percent: 70, MinHeapMiB: 96})
		if p := gcPercentNow(); p <= 70 {
			t.Fatalf("GC percent %d right after the policy, want above 70 (little is live)", p)
		}
		ApplyGC(GCPolicy{Percent: 100})
	}
}

// An operator's soft memory limit still caps the heap: the runtime
// collects at the lower of the floor's goal and the limit's.
func TestGCMemoryLimitCapsTheFloor(t *testing.T) {
	was := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(40 << 20)
	defer func() {
		ApplyGC(GCPolicy{Percent: was})
		debug.SetGCPercent(was)
		debug.SetMemoryLimit(limit)
	}()
	ApplyGC(GCPolicy{Percent: 70, MinHeapMiB: 96})
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if p := gcPercentNow(); p <= 70 {
		t.Fatalf("GC percent %d: the tuner did not raise it", p)
	}
	if g := heapGoal(); g > 40<<20 {
		t.Errorf("heap goal %d MiB over the 40 MiB memory limit", g>>20)
	}
}
