package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/intercept"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/viewer"
)

// Filtering: the query language is internal/querybuilder's, a compiler
// (query JSON + catalogue → predicate); the catalogue's inputs (the
// viewer's read permissions, the tenant's custom fields), the value
// options and the rows are read here, so both transports filter through
// these methods and never reach the data layer themselves.

// FilterCatalogue returns the filterable fields of entity (a registry
// Filter name) for the viewer of ctx. An unknown entity is NotFound; a
// viewer without the entity's read permission is Forbidden (one can only
// filter what one can list); fields reading records the viewer may not
// read are left out (querybuilder.New).
func (s *Service) FilterCatalogue(ctx context.Context, entity string) (*querybuilder.Catalogue, error) {
	return filterCatalogue(ctx, s.db, entity)
}

// filterCatalogue is FilterCatalogue reading through db, so that a check
// inside a write's transaction uses that transaction (on SQLite another
// connection would wait for the transaction's lock).
func filterCatalogue(ctx context.Context, db *ent.Client, entity string) (*querybuilder.Catalogue, error) {
	ctx = registry.Checked(ctx) // what the viewer may use, even when a write validates a saved filter
	e := registry.ByFilter(entity)
	if e == nil {
		return nil, fault.Errorf(fault.NotFound, "Entity %q not found", entity)
	}
	if err := RequireRead(ctx, e.Table); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, fault.Errorf(fault.Unauthenticated, "not authenticated")
	}
	readable := func(table string) error { return registry.CheckRead(ctx, table) }
	var custom []*ent.CustomField
	if readable(customfieldvalue.Table) == nil {
		var err error
		custom, err = db.CustomField.Query().
			Where(customfield.EntityEQ(customfield.Entity(e.Filter))).
			Order(ent.Asc(customfield.FieldFieldName)).
			All(registry.Unchecked(ctx)) // the definitions of values the viewer may read
		if err != nil {
			return nil, AsError(err)
		}
	}
	return querybuilder.New(entity, v.TenantID, filterFields[entity], readable, custom)
}

// MaxFilterOptions is the most value options FilterConfig reads from one
// related table (the first by label; the config says when there were
// more): a tenant's reference data is of organisational size, but a
// tenant with thousands of users would otherwise get them all, for each
// user field, in every config. Set from CONECRM_FILTER_MAX_OPTIONS at
// startup.
var MaxFilterOptions = 500

// FilterConfig returns entity's catalogue in react-querybuilder's shape,
// the relation fields with their value options: one statement per related
// table (querybuilder.OptionSources), live records of the tenant, by label,
// at most MaxFilterOptions of each.
func (s *Service) FilterConfig(ctx context.Context, entity string) (querybuilder.Config, error) {
	c, err := s.FilterCatalogue(ctx, entity)
	if err != nil {
		return querybuilder.Config{}, err
	}
	byTable := map[string]querybuilder.OptionSet{}
	for _, src := range c.OptionSources() {
		if byTable[src.Table], err = s.filterOptions(ctx, src); err != nil {
			return querybuilder.Config{}, err
		}
	}
	c.SetOptions(byTable)
	return c.Config(), nil
}

func (s *Service) filterOptions(ctx context.Context, src querybuilder.OptionSource) (querybuilder.OptionSet, error) {
	// The identifiers are the fields' declared targets (never a
	// request's); the tenant is the viewer's. One row more than the cap
	// tells whether there were more.
	rows, err := s.db.QueryContext(ctx, "SELECT id, "+src.Column+" FROM "+src.Table+
		" WHERE tenant_id = $1 AND is_deleted = false ORDER BY "+src.Column+", id LIMIT $2",
		viewer.FromContext(ctx).TenantID, MaxFilterOptions+1)
	if err != nil {
		return querybuilder.OptionSet{}, AsError(err)
	}
	defer rows.Close()
	set := querybuilder.OptionSet{Options: []querybuilder.Option{}}
	for rows.Next() {
		var id uuid.UUID
		var label sql.NullString
		if err := rows.Scan(&id, &label); err != nil {
			return querybuilder.OptionSet{}, AsError(err)
		}
		if len(set.Options) == MaxFilterOptions {
			set.Truncated = true
			break
		}
		set.Options = append(set.Options, querybuilder.Option{Name: id.String(), Label: label.String})
	}
	if err := rows.Err(); err != nil {
		return querybuilder.OptionSet{}, AsError(err)
	}
	return set, nil
}

// FilterPredicate compiles query (react-querybuilder JSON: a rule group,
// or {"query": group}) for entity into a predicate on that entity's ent
// query, for the viewer of ctx (GraphQL's filter argument, subscriptions,
// automation conditions). An empty query matches every row. Errors:
// NotFound for an unknown entity, Forbidden without its read permission,
// Invalid naming the rule.
func (s *Service) FilterPredicate(ctx context.Context, entity string, query json.RawMessage) (func(*entsql.Selector), error) {
	c, err := s.FilterCatalogue(ctx, entity)
	if err != nil {
		return nil, err
	}
	return c.CompileJSON(query)
}

// SavedFilterPredicate compiles the saved filter id, which must be visible
// to the viewer and be a filter of entity (GraphQL's savedFilter argument).
func (s *Service) SavedFilterPredicate(ctx context.Context, entity string, id uuid.UUID) (func(*entsql.Selector), error) {
	f, err := s.SavedFilters().Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if f.Module != entity {
		return nil, fault.FieldError("savedFilter", fmt.Sprintf("saved filter is for %s, not %s", f.Module, entity))
	}
	return s.FilterPredicate(ctx, entity, json.RawMessage(f.Value))
}

// checkFilter reports whether query, which must be given, is a valid query
// of entity for the viewer (a saved filter's value, an automation's filter
// condition), reading through db (see filterCatalogue).
func checkFilter(ctx context.Context, db *ent.Client, entity string, query []byte) error {
	c, err := filterCatalogue(ctx, db, entity)
	if err != nil {
		return err
	}
	return c.Check(query)
}

// FilterResult is the page of one entity's rows Filter found: Rows is a
// slice of its ent type ([]*ent.Lead for "lead"…), loaded with what its
// REST shape embeds.
type FilterResult struct {
	Total int
	Rows  any
}

// Filter returns the viewer's rows of entity that match query (see
// FilterPredicate), the page asked for and the total number of matches
// (the REST filter route). The statements it runs do not depend on the
// page size: one count, one page, and one per embedded relation.
func (s *Service) Filter(ctx context.Context, entity string, query json.RawMessage, page querybuilder.Page) (*FilterResult, error) {
	c, err := s.FilterCatalogue(ctx, entity)
	if err != nil {
		return nil, err
	}
	p, err := c.CompileJSON(query)
	if err != nil {
		return nil, err
	}
	order, err := c.Order(page)
	if err != nil {
		return nil, err
	}
	run, ok := finders[entity]
	if !ok {
		return nil, fmt.Errorf("crm: no finder for %s", entity)
	}
	total, rows, err := run(ctx, s.db, window{p, order, page})
	if err != nil {
		return nil, AsError(err)
	}
	return &FilterResult{Total: total, Rows: rows}, nil
}

// window is what Filter asks of a finder: the predicate, the order and the
// page.
type window struct {
	where func(*entsql.Selector)
	order []func(*entsql.Selector)
	page  querybuilder.Page
}

// finders read the rows of each filterable entity of the registry (by its
// Filter name), with what its REST shape embeds: the Go types of the rows
// are the one thing the registry (a leaf package) cannot hold. filterFields
// are its built-in query-builder fields, which querybuilder.New compiles
// against. Both are declared in the entity's own file (filterable), so a
// new filterable entity adds no line here nor in the query builder;
// TestEveryFilterableEntityHasAFinder and …HasFields keep them in step
// with the registry.
var (
	finders      = map[string]func(context.Context, *ent.Client, window) (int, any, error){}
	filterFields = map[string][]querybuilder.Field{}
)

// filterable declares entity's query-builder fields (built from
// querybuilder's field constructors) and its finder:
//
//	var _ = filterable("lead", leadFilterFields(),
//		finder[*ent.Lead](func(c *ent.Client) *ent.LeadQuery { … }))
func filterable(entity string, fields []querybuilder.Field, f func(context.Context, *ent.Client, window) (int, any, error)) bool {
	if finders[entity] != nil {
		panic("crm: two finders for " + entity)
	}
	finders[entity], filterFields[entity] = f, fields
	return true
}

// FilterFields returns entity's built-in query-builder fields (nil when
// it is not filterable), for building a catalogue without a database
// (the query builder's tests).
func FilterFields(entity string) []querybuilder.Field { return filterFields[entity] }

// Related tables of the filter fields and the column a rule on the
// relation itself compares (besides the id): "stage = New" compares the
// stage's name. Options: the tenant's reference data, offered as value
// options (querybuilder.Target).
var (
	stageTarget      = querybuilder.Target{Table: connectionstage.Table, Column: connectionstage.FieldName, Options: true}
	statusTarget     = querybuilder.Target{Table: status.Table, Column: status.FieldName, Options: true}
	sourceTarget     = querybuilder.Target{Table: source.Table, Column: source.FieldName, Options: true}
	franchiseTarget  = querybuilder.Target{Table: franchise.Table, Column: franchise.FieldName, Options: true}
	departmentTarget = querybuilder.Target{Table: department.Table, Column: department.FieldName, Options: true}
	userTarget       = querybuilder.Target{Table: user.Table, Column: user.FieldEmail, Options: true}
	groupTarget      = querybuilder.Target{Table: securitygroup.Table, Column: securitygroup.FieldName, Options: true}
	contactTarget    = querybuilder.Target{Table: contact.Table, Column: contact.FieldLastName}
	accountTarget    = querybuilder.Target{Table: account.Table, Column: account.FieldName}
	leadTarget       = querybuilder.Target{Table: lead.Table, Column: lead.FieldSubject}
)

// recordFields are the filter fields every record has.
func recordFields() []querybuilder.Field {
	return []querybuilder.Field{querybuilder.Instant("dateCreated", "date_created"), querybuilder.OptInstant("dateModified", "date_modified")}
}

// finder reads the page of the rows query returns (a query of the
// entity, with its REST embeds).
func finder[T any, Q filterQuery[Q, T]](query func(*ent.Client) Q) func(context.Context, *ent.Client, window) (int, any, error) {
	return func(ctx context.Context, c *ent.Client, w window) (int, any, error) {
		return find[T](ctx, query(c), w)
	}
}

// filterQuery is what Filter needs of a generated query besides
// intercept.Query.
type filterQuery[Q any, T any] interface {
	Clone() Q
	Count(context.Context) (int, error)
	All(context.Context) ([]T, error)
}

func find[T any, Q filterQuery[Q, T]](ctx context.Context, q Q, w window) (int, []T, error) {
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
