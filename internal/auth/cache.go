package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenCache keeps the claims of tokens that passed verification, by a
// hash of the token's exact text, so a client's every request does not pay again for
// the signature (an RSA or ECDSA check costs far more than the request's
// one statement) and the second decoding of the payload. It is sound
// because nothing that verification checked can change for the same bytes
// while the process runs — the keys, issuer and audience are fixed at
// start; nbf and iat were in the past and stay there — except expiry,
// which every hit checks again. Whether the token's user may still use it
// is not decided here: the viewer (access_revoked_at, active, deleted) is
// checked on every request after this.
type tokenCache struct {
	max int
	now func() time.Time

	mu sync.RWMutex
	// By the token's SHA-256: an entry's size does not grow with the
	// token's (up to MaxTokenLen).
	entries map[[sha256.Size]byte]Claims
}

func newTokenCache(max int, now func() time.Time) *tokenCache {
	if max < 0 {
		return nil
	}
	if max == 0 {
		max = DefaultCache
	}
	return &tokenCache{max: max, now: now, entries: make(map[[sha256.Size]byte]Claims)}
}

// get returns the claims of raw if it was verified and has not expired
// since (with the parser's Leeway); an expired token is dropped and
// verified again, which refuses it.
func (c *tokenCache) get(raw string) (Claims, bool) {
	if c == nil {
		return Claims{}, false
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.RLock()
	claims, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok {
		return Claims{}, false
	}
	if !c.now().Before(claims.ExpiresAt.Add(Leeway)) {
		c.mu.Lock()
		delete(c.entries, key)
		c.mu.Unlock()
		return Claims{}, false
	}
	return claims, true
}

// put keeps the claims of a verified token; a full cache first drops an
// arbitrary entry (only tokens with a valid signature get here, so its
// turnover is bounded by the tokens legitimately in use).
func (c *tokenCache) put(raw string, claims Claims) {
	if c == nil || claims.ExpiresAt.IsZero() {
		return
	}
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = claims
}

// len is the number of tokens kept.
func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
