package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// Paging bounds of every list route (DESIGN §7).
const (
	DefaultLimit = 25
	MaxLimit     = 100
)

// pathID parses the UUID path parameter name. Anything that is not a UUID
// cannot name a record, so it is answered like an unknown id: 404.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, fault.Errorf(fault.NotFound, "Not found")
	}
	return id, nil
}

// pageParams reads the offset parameter offsetName ("offset" or "start")
// and "limit": offset ≥ 0 (default 0), limit 1…MaxLimit (default
// DefaultLimit; larger values are capped).
func pageParams(q url.Values, offsetName string) (crm.Page, error) {
	p := crm.Page{Limit: DefaultLimit}
	if v := q.Get(offsetName); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, fault.FieldError(offsetName, "must be a non-negative integer")
		}
		p.Offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fault.FieldError("limit", "must be a positive integer")
		}
		p.Limit = min(n, MaxLimit)
	}
	return p, nil
}

// sortParams reads sortField and sortDirection (ASC or DESC, any case).
// Which fields may be sorted by is the domain's decision (crm validates
// Sort.Field); an unknown direction is a 400 here.
func sortParams(q url.Values) (crm.Sort, error) {
	s := crm.Sort{Field: q.Get("sortField")}
	switch strings.ToUpper(q.Get("sortDirection")) {
	case "", "ASC":
	case "DESC":
		s.Desc = true
	default:
		return s, fault.FieldError("sortDirection", "must be ASC or DESC")
	}
	return s, nil
}

// optionalID parses an optional UUID query parameter.
func optionalID(q url.Values, name string) (*uuid.UUID, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil, fault.FieldError(name, "must be a UUID")
	}
	return &id, nil
}
