package app

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
)

// DefaultGCPercent is the Go collector's target heap growth (GOGC) the
// server runs with once its live data is large: a collection starts when
// the heap has grown 70 % over the data that survived the last one,
// instead of Go's 100 %. Under 32 clients of the recursive account ↔
// contact query on SQLite that keeps the process's peak resident memory
// about 15 MB lower (about 135 instead of 145–158 MB, against issue 18's
// 150 MB), for a collector that runs about 1.4 times as often
// (docs/benchmarks.md, session 5).
const DefaultGCPercent = 70

// DefaultGCMinHeapMiB is the heap goal the collector is never given less
// than (CONECRM_GC_MIN_HEAP, MiB). While live data is small — 9–17 MB
// after a collection under 32 clients of any bench shape, 6 MB of it the
// binary's static data — GOGC 70 alone collects every 7–10 MB of garbage:
// on the single-node request at 8 clients the collector and its
// allocation assists were ~30 % of the process's CPU. The floor makes
// those collections rarer; large live data is collected as before
// (its goal is above the floor anyway). What it costs is memory, up to
// the floor: 32 MiB measured 15–25 MB more peak RSS under 32 clients
// (≤ 143 MB on every shape, against issue 18's 150), 48 MiB up to 162 MB
// (docs/benchmarks.md, session 8).
const DefaultGCMinHeapMiB = 32

// GCPolicy is the collector's policy: the heap growth target and the
// least heap goal (0: none).
type GCPolicy struct {
	Percent    int    // GOGC while the goal it gives is above MinHeap; 0: leave the runtime's (an explicit GOGC)
	MinHeapMiB uint64 // the least heap goal in MiB; 0: a plain GOGC
}

// GCPolicyFromEnv returns the collector's policy: CONECRM_GC_PERCENT
// (DefaultGCPercent when unset) and CONECRM_GC_MIN_HEAP (MiB,
// DefaultGCMinHeapMiB when unset, 0 = no floor). An explicit GOGC wins
// over both (the runtime has applied the operator's own setting: the zero
// policy); GOMEMLIMIT keeps capping the heap whatever the floor, since the
// runtime collects at the lower of the two goals.
func GCPolicyFromEnv(getenv func(string) string) (GCPolicy, error) {
	if getenv("GOGC") != "" {
		return GCPolicy{}, nil
	}
	p := GCPolicy{Percent: DefaultGCPercent, MinHeapMiB: DefaultGCMinHeapMiB}
	if s := getenv("CONECRM_GC_PERCENT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 || n > 1000 {
			return GCPolicy{}, fmt.Errorf("CONECRM_GC_PERCENT must be an integer from 10 to 1000, not %q", s)
		}
		p.Percent = n
	}
	if s := getenv("CONECRM_GC_MIN_HEAP"); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n > 1<<20 {
			return GCPolicy{}, fmt.Errorf("CONECRM_GC_MIN_HEAP must be a number of MiB from 0 (no floor) to 1048576, not %q", s)
		}
		p.MinHeapMiB = n
	}
	return p, nil
}

// ApplyGC puts policy into effect for the process: a plain GOGC when it
// has no floor, else a tuner that after every collection sets the GC
// percent so the next heap goal is the larger of what Percent gives and
// the floor. Applying another policy replaces the previous one; the zero
// policy changes nothing.
//
// Hand-written rather than taken from a library: the tuners published
// (bytedance/gopkg's gctuner and its copies) read the heap through
// runtime.ReadMemStats, which stops the world, and take its in-use spans
// (garbage not yet swept included) for live data; the runtime's metrics
// give the marked live heap and the goal's other inputs without a pause,
// and the whole policy is the one formula in gcTuner.percent.
func ApplyGC(policy GCPolicy) {
	if policy.Percent <= 0 {
		return
	}
	tuner.mu.Lock()
	defer tuner.mu.Unlock()
	tuner.percent, tuner.floor = policy.Percent, policy.MinHeapMiB<<20
	debug.SetGCPercent(policy.Percent)
	tuner.set = policy.Percent
	if tuner.floor == 0 {
		return
	}
	tuner.tuneLocked()
	if !tuner.armed {
		tuner.armed = true
		armGCTuner()
	}
}

// tuner is the process's one collector tuner (the GC percent is global).
var tuner = &gcTuner{samples: []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/gc/scan/stack:bytes"},
	{Name: "/gc/scan/globals:bytes"},
}}

type gcTuner struct {
	mu      sync.Mutex
	percent int    // the target while the floor is below its goal
	floor   uint64 // the least heap goal in bytes; 0: tuning stopped
	set     int    // the GC percent last set
	armed   bool
	samples []metrics.Sample
}

// armGCTuner runs the tuner after the next collection: the sentinel is
// unreachable at once, so its cleanup runs (on the runtime's cleanup
// goroutine) after the cycle that frees it, and arms the next one.
func armGCTuner() {
	s := new(gcSentinel)
	runtime.AddCleanup(s, func(t *gcTuner) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.floor == 0 {
			t.armed = false
			return
		}
		t.tuneLocked()
		armGCTuner()
	}, tuner)
}

// gcSentinel is large enough not to share a tiny-allocator block with
// other objects, which would keep it reachable.
type gcSentinel struct{ _ [32]byte }

func (t *gcTuner) tuneLocked() {
	metrics.Read(t.samples)
	live, stacks, globals := t.samples[0].Value.Uint64(), t.samples[1].Value.Uint64(), t.samples[2].Value.Uint64()
	p := gcPercentFor(t.percent, t.floor, live, stacks+globals)
	if p != t.set {
		debug.SetGCPercent(p)
		t.set = p
	}
}

// runtimeHeapMinimum is the runtime's least heap goal at GOGC 100 (4 MiB,
// runtime/mgcpacer.go's defaultHeapMinimum); it scales with the percent,
// so a percent above floor × 100 / 4 MiB would raise the goal of an almost
// empty heap past the floor.
const runtimeHeapMinimum = 4 << 20

// gcPercentFor is the policy: the runtime's next heap goal is
// live + (live + roots) × GOGC / 100 (roots: goroutine stacks and
// globals, which the collector scans too), so the percent that makes it
// the floor is (floor − live) × 100 / (live + roots); never below the
// target, so large live data is collected exactly as with a plain GOGC,
// and never above floor × 100 / 4 MiB, where the runtime's own least
// goal (4 MiB × GOGC / 100) would pass the floor. Rounded to a multiple of
// 10 % above the target, so a live heap that wobbles by a few KB does not
// reset the percent after every collection.
func gcPercentFor(target int, floor, live, roots uint64) int {
	if live >= floor {
		return target
	}
	scan := max(live+roots, 1)
	p := math.Ceil(float64(floor-live) * 100 / float64(scan))
	if p <= float64(target) {
		return target
	}
	limit := int(floor * 100 / runtimeHeapMinimum)
	return max(target, min(int(math.Ceil(p/10))*10, limit))
}
