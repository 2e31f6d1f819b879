package app

import (
	"fmt"
	"strconv"
)

// DefaultGCPercent is the Go collector's target heap growth (GOGC) the
// server runs with: a collection starts when the heap has grown 70 % over
// the data that survived the last one, instead of Go's 100 %. Under 32
// clients of the recursive account ↔ contact query on SQLite that keeps
// the process's peak resident memory about 15 MB lower (about 135 instead
// of 145–158 MB, against issue 18's 150 MB), for a collector that runs
// about 1.4 times as often (docs/benchmarks.md, session 5). A soft memory
// limit (GOMEMLIMIT) was measured too: it saves as much at 32 clients, but
// a fixed default limit makes the collector run flat out once a larger
// deployment's live data exceeds it.
const DefaultGCPercent = 70

// GCPercentFromEnv returns the collector's target to apply
// (CONECRM_GC_PERCENT, DefaultGCPercent when unset), or 0 when GOGC is set:
// the runtime has applied the operator's own setting, which wins.
func GCPercentFromEnv(getenv func(string) string) (int, error) {
	if getenv("GOGC") != "" {
		return 0, nil
	}
	s := getenv("CONECRM_GC_PERCENT")
	if s == "" {
		return DefaultGCPercent, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 || n > 1000 {
		return 0, fmt.Errorf("CONECRM_GC_PERCENT must be an integer from 10 to 1000, not %q", s)
	}
	return n, nil
}
