package crm

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/viewer"
)

// Generation is the source of truth for ViewerCache: store.AuthWatch. A
// tenant's generation moves whenever what viewerSQL reads of that tenant
// may have changed; ok is false while changes could go unnoticed (the
// cache is then not used at all).
type Generation interface {
	Generation(tenant uuid.UUID) (gen uint64, ok bool)
}

// ViewerCache keeps what viewerSQL read per (user, tenant), so an
// authenticated request usually costs no statement. It keeps facts, not
// decisions: every request still checks its token's iat against the user's
// access_revoked_at (viewerFacts.viewer), so one entry serves every token
// of the user. There is no time to live: an entry is trusted only while
// its tenant's generation it was read at is the current one — any write to
// those tables by this process moves it after its commit and before its
// request answers, another process's (PostgreSQL) when its notification
// arrives (store.AuthWatch) — so a deactivation, a role or group change is
// seen by the very next request; a write known to be of another tenant
// keeps it. Only active users are kept; the others cost their statement
// each time.
type ViewerCache struct {
	gen Generation
	max int

	mu      sync.RWMutex
	entries map[viewerKey]*viewerEntry
}

type viewerKey struct{ user, tenant uuid.UUID }

type viewerEntry struct {
	gen   uint64
	facts *viewerFacts
}

// NewViewerCache returns a cache of at most max viewers over gen.
func NewViewerCache(gen Generation, max int) *ViewerCache {
	return &ViewerCache{gen: gen, max: max, entries: map[viewerKey]*viewerEntry{}}
}

// Resolve is ResolveViewer, answered from the cache when it may be.
func (c *ViewerCache) Resolve(ctx context.Context, db *ent.Client, userID, tenantID uuid.UUID, issuedAt time.Time) (*viewer.Viewer, error) {
	// Read before the database: if a change commits while viewerSQL runs,
	// the generation has moved by the time anyone looks the entry up.
	gen, ok := c.gen.Generation(tenantID)
	key := viewerKey{userID, tenantID}
	if ok {
		c.mu.RLock()
		e := c.entries[key]
		c.mu.RUnlock()
		if e != nil && e.gen == gen {
			return e.facts.viewer(issuedAt)
		}
	}
	f, err := loadViewer(ctx, db, userID, tenantID)
	if err != nil {
		return nil, err
	}
	if ok {
		c.put(key, &viewerEntry{gen: gen, facts: f})
	}
	return f.viewer(issuedAt)
}

// put stores e unless a read of a later generation is kept already. A full
// cache first drops the entries of past generations (all of them are
// useless), else arbitrary ones.
func (c *ViewerCache) put(key viewerKey, e *viewerEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.entries[key]
	if ok && old.gen > e.gen {
		return
	}
	if !ok && len(c.entries) >= c.max {
		for k, old := range c.entries {
			if gen, live := c.gen.Generation(k.tenant); !live || old.gen != gen {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = e
}

// Len returns the number of viewers kept (current or not).
func (c *ViewerCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
