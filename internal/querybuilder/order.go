package querybuilder

import (
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/conecrm/gateway/internal/fault"
)

// Page is a window of filtered rows and their order.
type Page struct {
	Offset, Limit int
	// SortField is a sortable catalogue field (a column of the entity
	// itself); "" sorts by dateCreated. The id breaks ties, so pages never
	// overlap; rows without a value come last either way.
	SortField string
	Desc      bool
}

// Order is the ORDER BY of page, or an Invalid error naming sortField.
func (c *Catalogue) Order(page Page) ([]func(*sql.Selector), error) {
	column, nullable := "date_created", false
	if page.SortField != "" {
		f, ok := c.Field(page.SortField)
		if !ok || !f.Sortable() {
			return nil, fault.FieldError("sortField", "must be one of "+strings.Join(c.sortable(), ", "))
		}
		column, nullable = f.src.column, f.src.nullable
	}
	var opts []sql.OrderTermOption
	if page.Desc {
		opts = append(opts, sql.OrderDesc())
	}
	by := opts
	if nullable {
		// The databases disagree on where NULLs sort; say it. Only here:
		// an explicit NULLS clause keeps SQLite from reading the order off
		// an index.
		by = append(by, sql.OrderNullsLast())
	}
	return []func(*sql.Selector){
		sql.OrderByField(column, by...).ToFunc(),
		sql.OrderByField("id", opts...).ToFunc(),
	}, nil
}

func (c *Catalogue) sortable() []string {
	var names []string
	for _, f := range c.fields {
		if f.Sortable() {
			names = append(names, f.Name)
		}
	}
	return names
}
