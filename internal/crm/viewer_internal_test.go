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

// The PostgreSQL triggers notify an UPDATE only when it changes a column
// viewerSQL reads (store.AuthColumns): every column it reads of a table,
// by its alias, must be among them.
func TestViewerCacheWatchesEveryColumnItReads(t *testing.T) {
	aliases := map[string]string{}
	for _, m := range regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_]+)\s+([a-z]+)\b`).FindAllStringSubmatch(viewerSQL, -1) {
		aliases[m[2]] = m[1]
	}
	if len(aliases) != len(store.AuthTables) {
		t.Fatalf("aliases %v in viewerSQL, want one per table of %v", aliases, store.AuthTables)
	}
	refs := regexp.MustCompile(`\b([a-z]+)\.([a-z_]+)\b`).FindAllStringSubmatch(viewerSQL, -1)
	if len(refs) < 20 {
		t.Fatalf("found only %v in viewerSQL", refs)
	}
	for _, m := range refs {
		table, ok := aliases[m[1]]
		if !ok {
			t.Errorf("viewerSQL reads %s.%s of no table", m[1], m[2])
			continue
		}
		if !slices.Contains(store.AuthColumns(table), m[2]) {
			t.Errorf("viewerSQL reads %s.%s, which the triggers do not watch (store.AuthColumns)", table, m[2])
		}
	}
}
