package crm

import (
	"regexp"
	"slices"
	"testing"

	"github.com/conecrm/gateway/internal/store"
)

// The viewer cache trusts an entry until a table viewerSQL reads changes:
// every one of them must be watched (store.AuthTables — its writes move
// the generation, its PostgreSQL triggers notify the other instances).
func TestViewerCacheWatchesEveryTableItReads(t *testing.T) {
	tables := regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_]+)`).FindAllStringSubmatch(viewerSQL, -1)
	if len(tables) < 5 {
		t.Fatalf("found only %v in viewerSQL", tables)
	}
	for _, m := range tables {
		if !slices.Contains(store.AuthTables, m[1]) {
			t.Errorf("viewerSQL reads %s, which store.AuthTables does not watch", m[1])
		}
	}
}
