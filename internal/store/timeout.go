package store

import (
	"net/url"
	"strconv"
	"time"
)

// WithStatementTimeout returns the PostgreSQL URL u with statement_timeout
// set to d (lib/pq sends unknown URL parameters as session settings),
// unless u sets one itself. It bounds a statement whose context is never
// canceled; u is returned unchanged when it cannot be parsed.
func WithStatementTimeout(u string, d time.Duration) string {
	p, err := url.Parse(u)
	if err != nil || d <= 0 {
		return u
	}
	q := p.Query()
	if q.Has("statement_timeout") {
		return u
	}
	q.Set("statement_timeout", strconv.FormatInt(d.Milliseconds(), 10))
	p.RawQuery = q.Encode()
	return p.String()
}
