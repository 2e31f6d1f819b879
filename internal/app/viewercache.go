package app

import (
	"fmt"
	"strconv"
)

// DefaultViewerCache is how many viewers an instance keeps by default
// (crm.ViewerCache): a few hundred bytes each, so a few MB for the active
// users of a large deployment.
const DefaultViewerCache = 10_000

// ViewerCacheFromEnv reads CONECRM_VIEWER_CACHE, the most viewers an
// instance keeps, as Config.ViewerCache: DefaultViewerCache when unset, off
// (negative) for 0.
func ViewerCacheFromEnv(getenv func(string) string) (int, error) {
	v := getenv("CONECRM_VIEWER_CACHE")
	if v == "" {
		return DefaultViewerCache, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("CONECRM_VIEWER_CACHE must be an integer ≥ 0 (viewers kept; 0 turns the cache off), not %q", v)
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}
