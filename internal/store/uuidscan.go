package store

import (
	"database/sql"
	"fmt"
	"net/url"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
)

// withTextResults makes lib/pq ask for every column of a prepared
// statement in text form (disable_prepared_binary_result, a driver
// setting: no pooler sees it), unless the URL says otherwise. In binary
// form lib/pq turns each 16-byte UUID into a new 36-byte text slice, which
// uuid.UUID.Scan then copies into a string before parsing it: two
// allocations per UUID, about 1,100 of the lead screen's 11,000 per
// request. In text form the driver hands over its own buffer and uuidRows
// parses it in place.
func withTextResults(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // lib/pq reports the malformed URL
	}
	q := u.Query()
	if q.Get("disable_prepared_binary_result") == "" {
		q.Set("disable_prepared_binary_result", "yes")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// uuidRows is ent's rows of a read on PostgreSQL, scanning UUID columns
// (plain, and nullable ones behind ent's NullScanner) without copying
// their text. ent's schema migration (atlas) asserts its rows are
// *sql.Rows, so Migrate reads through a driver without the statement
// cache.
type uuidRows struct {
	*sql.Rows
	dest  []any      // the destinations handed to database/sql, reused per row
	nulls []nullUUID // the nullable UUID destinations, reused per row
}

var _ entsql.ColumnScanner = (*uuidRows)(nil)

func (r *uuidRows) Scan(dest ...any) error {
	// dest is ent's own slice, which it reads again to assign the row:
	// the replacements go into a copy.
	r.dest = append(r.dest[:0], dest...)
	for i, d := range dest {
		switch d := d.(type) {
		case *uuid.UUID:
			r.dest[i] = (*uuidText)(d)
		case *entsql.NullScanner:
			if u, ok := d.S.(*uuid.UUID); ok {
				if len(r.nulls) < len(dest) {
					r.nulls = make([]nullUUID, len(dest))
				}
				r.nulls[i] = nullUUID{n: d, u: u}
				r.dest[i] = &r.nulls[i]
			}
		}
	}
	return r.Rows.Scan(r.dest...)
}

// uuidText scans a UUID from its text without copying it.
type uuidText uuid.UUID

func (u *uuidText) Scan(src any) error {
	if b, ok := src.([]byte); ok && len(b) == 36 {
		v, err := uuid.ParseBytes(b)
		if err != nil {
			return fmt.Errorf("Scan: %v", err)
		}
		*u = uuidText(v)
		return nil
	}
	return (*uuid.UUID)(u).Scan(src)
}

// nullUUID is entsql.NullScanner over a *uuid.UUID, scanning like uuidText.
type nullUUID struct {
	n *entsql.NullScanner
	u *uuid.UUID
}

func (n *nullUUID) Scan(src any) error {
	n.n.Valid = src != nil
	if !n.n.Valid {
		return nil
	}
	return (*uuidText)(n.u).Scan(src)
}
