package querybuilder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// Predicate compiles a react-querybuilder query (JSON: a rule group, or
// {"query": group}) for entity into a predicate on that entity's ent
// query, for the viewer of ctx:
//
//	p, err := querybuilder.Predicate(ctx, client, "lead", raw)
//	leads, err := client.Lead.Query().Where(predicate.Lead(p)).All(ctx)
//
// An empty query (nil, null) matches every row. Errors are *fault.Error:
// NotFound for an unknown entity, Forbidden without the entity's read
// permission, Invalid (naming the rule) for a bad query.
func Predicate(ctx context.Context, client *ent.Client, entity string, query json.RawMessage) (func(*sql.Selector), error) {
	c, err := Load(ctx, client, entity)
	if err != nil {
		return nil, err
	}
	return c.CompileJSON(query)
}

// CompileJSON parses and compiles query (see Predicate).
func (c *Catalogue) CompileJSON(query json.RawMessage) (func(*sql.Selector), error) {
	if t := bytes.TrimSpace(query); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return func(*sql.Selector) {}, nil
	}
	g, err := Parse(query)
	if err != nil {
		return nil, err
	}
	return c.Compile(g)
}

// Check reports whether query is a valid query for entity (nil when it is).
func Check(ctx context.Context, client *ent.Client, entity string, query []byte) error {
	if len(bytes.TrimSpace(query)) == 0 {
		return invalid("query", "must be a rule group object")
	}
	_, err := Predicate(ctx, client, entity, query)
	return err
}

// SavedFilters returns the saved-filter service of svc, validating values
// with this package.
func SavedFilters(svc *crm.Service) crm.SavedFilters {
	return crm.SavedFilters{DB: svc.Client(), Svc: svc, Check: Check}
}

// SavedFilterPredicate compiles the saved filter id, which must be visible
// to the viewer and be a filter of entity (GraphQL's savedFilter argument).
func SavedFilterPredicate(ctx context.Context, client *ent.Client, entity string, id uuid.UUID) (func(*sql.Selector), error) {
	f, err := crm.SavedFilters{DB: client}.Get(ctx, id) // a read: no writes, no checks
	if err != nil {
		return nil, err
	}
	if f.Module != entity {
		return nil, fault.FieldError("savedFilter", fmt.Sprintf("saved filter is for %s, not %s", f.Module, entity))
	}
	return Predicate(ctx, client, entity, json.RawMessage(f.Value))
}

// The automation graph's generic filter condition is a query of this
// language; crm checks it on save through this function.
func init() { crm.FilterCheck = Check }
