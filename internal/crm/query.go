package crm

import (
	"sort"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/conecrm/gateway/internal/fault"
)

// Page selects a window of a list: Offset rows skipped, at most Limit returned.
type Page struct {
	Offset int
	Limit  int
}

// Sort orders a list by an API field name (e.g. "dateCreated"); which names
// an entity accepts is its own whitelist (see sortable).
type Sort struct {
	Field string
	Desc  bool
}

// sortable maps the API field names an entity may be sorted by to columns.
type sortable map[string]string

// order returns the ORDER BY terms for s, or an Invalid error naming
// sortField when s.Field is not in the whitelist. The empty field sorts by
// the column def. The id is always the tie-breaker, so pages never overlap.
func (w sortable) order(s Sort, def string) ([]func(*sql.Selector), error) {
	col := def
	if s.Field != "" {
		c, ok := w[s.Field]
		if !ok {
			names := make([]string, 0, len(w))
			for n := range w {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fault.FieldError("sortField", "must be one of "+strings.Join(names, ", "))
		}
		col = c
	}
	var opts []sql.OrderTermOption
	if s.Desc {
		opts = append(opts, sql.OrderDesc())
	}
	return []func(*sql.Selector){
		sql.OrderByField(col, opts...).ToFunc(),
		sql.OrderByField("id", opts...).ToFunc(),
	}, nil
}

// orderOptions converts generic ORDER BY terms to an entity's option type.
func orderOptions[O ~func(*sql.Selector)](terms []func(*sql.Selector)) []O {
	out := make([]O, len(terms))
	for i, t := range terms {
		out[i] = O(t)
	}
	return out
}
