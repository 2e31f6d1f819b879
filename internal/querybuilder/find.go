package querybuilder

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/intercept"
	"github.com/conecrm/gateway/internal/crm"
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

// Result is the page of one entity's rows Filter found: the field of that
// entity is set, loaded with what a REST response of it embeds.
type Result struct {
	Total        int
	Accounts     []*ent.Account
	Contacts     []*ent.Contact
	Leads        []*ent.Lead
	Tasks        []*ent.Task
	Appointments []*ent.Appointment
	FollowUps    []*ent.FollowUp
}

// Filter returns the viewer's rows of entity that match query (see
// Predicate), the page asked for and the total number of matches. The
// statements it runs do not depend on the page size: one count, one page,
// and one per embedded relation.
func Filter(ctx context.Context, client *ent.Client, entity string, query json.RawMessage, page Page) (*Result, error) {
	c, err := Load(ctx, client, entity)
	if err != nil {
		return nil, err
	}
	p, err := c.CompileJSON(query)
	if err != nil {
		return nil, err
	}
	order, err := c.order(page)
	if err != nil {
		return nil, err
	}
	r := &Result{}
	switch entity {
	case "account":
		r.Total, r.Accounts, err = find[*ent.Account](ctx, crm.WithAccountGraph(client.Account.Query()), p, order, page)
	case "contact":
		r.Total, r.Contacts, err = find[*ent.Contact](ctx, crm.WithContactGraph(client.Contact.Query()), p, order, page)
	case "lead":
		r.Total, r.Leads, err = find[*ent.Lead](ctx, crm.WithLeadGraph(client.Lead.Query()), p, order, page)
	case "task":
		r.Total, r.Tasks, err = find[*ent.Task](ctx, client.Task.Query(), p, order, page)
	case "appointment":
		r.Total, r.Appointments, err = find[*ent.Appointment](ctx, client.Appointment.Query(), p, order, page)
	case "followup":
		r.Total, r.FollowUps, err = find[*ent.FollowUp](ctx, client.FollowUp.Query(), p, order, page)
	default:
		return nil, fmt.Errorf("querybuilder: no finder for %s", entity)
	}
	if err != nil {
		return nil, crm.AsError(err)
	}
	return r, nil
}

// query is what Filter needs of a generated query besides intercept.Query.
type query[Q any, T any] interface {
	Clone() Q
	Count(context.Context) (int, error)
	All(context.Context) ([]T, error)
}

func find[T any, Q query[Q, T]](ctx context.Context, q Q, p func(*sql.Selector), order []func(*sql.Selector), page Page) (int, []T, error) {
	g, err := intercept.NewQuery(q)
	if err != nil {
		return 0, nil, err
	}
	g.WhereP(p)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return 0, nil, err
	}
	g.Order(order...)
	g.Offset(page.Offset)
	g.Limit(page.Limit)
	rows, err := q.All(ctx)
	return total, rows, err
}

// order is the ORDER BY of page, or an Invalid error naming sortField.
func (c *Catalogue) order(page Page) ([]func(*sql.Selector), error) {
	column, nullable := "date_created", false
	if page.SortField != "" {
		f, ok := c.Field(page.SortField)
		if !ok || !f.Sortable() {
			return nil, crm.FieldError("sortField", "must be one of "+strings.Join(c.sortable(), ", "))
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
