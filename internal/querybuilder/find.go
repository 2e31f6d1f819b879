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
	run, ok := finders[entity]
	if !ok {
		return nil, fmt.Errorf("querybuilder: no finder for %s", entity)
	}
	r := &Result{}
	err = run(ctx, client, window{p, order, page}, r)
	if err != nil {
		return nil, crm.AsError(err)
	}
	return r, nil
}

// window is what Filter asks of a finder: the predicate, the order and the
// page.
type window struct {
	where func(*sql.Selector)
	order []func(*sql.Selector)
	page  Page
}

// finders fill Result for each filterable entity of the registry (by its
// Filter name), loading what its REST shape embeds: the Go types of the
// rows are the one thing the registry (a leaf package) cannot hold.
// TestEveryFilterableEntityHasFields keeps them in step with the registry.
var finders = map[string]func(context.Context, *ent.Client, window, *Result) error{
	"account": func(ctx context.Context, c *ent.Client, w window, r *Result) (err error) {
		r.Total, r.Accounts, err = find[*ent.Account](ctx, crm.WithAccountGraph(c.Account.Query()), w)
		return err
	},
	"contact": func(ctx context.Context, c *ent.Client, w window, r *Result) (err error) {
		r.Total, r.Contacts, err = find[*ent.Contact](ctx, crm.WithContactGraph(c.Contact.Query()), w)
		return err
	},
	"lead": func(ctx context.Context, c *ent.Client, w window, r *Result) (err error) {
		r.Total, r.Leads, err = find[*ent.Lead](ctx, crm.WithLeadGraph(c.Lead.Query()), w)
		return err
	},
	"task": func(ctx context.Context, c *ent.Client, w window, r *Result) (err error) {
		r.Total, r.Tasks, err = find[*ent.Task](ctx, c.Task.Query(), w)
		return err
	},
	"appointment": func(ctx context.Context, c *ent.Client, w window, r *Result) (err error) {
		r.Total, r.Appointments, err = find[*ent.Appointment](ctx, c.Appointment.Query(), w)
		return err
	},
	"followup": func(ctx context.Context, c *ent.Client, w window, r *Result) (err error) {
		r.Total, r.FollowUps, err = find[*ent.FollowUp](ctx, c.FollowUp.Query(), w)
		return err
	},
}

// query is what Filter needs of a generated query besides intercept.Query.
type query[Q any, T any] interface {
	Clone() Q
	Count(context.Context) (int, error)
	All(context.Context) ([]T, error)
}

func find[T any, Q query[Q, T]](ctx context.Context, q Q, w window) (int, []T, error) {
	g, err := intercept.NewQuery(q)
	if err != nil {
		return 0, nil, err
	}
	g.WhereP(w.where)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return 0, nil, err
	}
	g.Order(w.order...)
	g.Offset(w.page.Offset)
	g.Limit(w.page.Limit)
	rows, err := q.All(ctx)
	return total, rows, err
}

// order is the ORDER BY of page, or an Invalid error naming sortField.
func (c *Catalogue) order(page Page) ([]func(*sql.Selector), error) {
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
