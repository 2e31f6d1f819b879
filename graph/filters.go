package graph

import (
	"context"
	"encoding/json"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/registry"
)

// filterPredicates compiles a root connection's filter (a react-querybuilder
// rule group) and savedFilter arguments for the entity stored in table
// (the registry gives its query-builder name). Errors name the argument:
// "filter.rules[0].value".
func (r *Resolver) filterPredicates(ctx context.Context, table string, filter map[string]any, savedFilter *uuid.UUID) ([]func(*sql.Selector), error) {
	entity := registry.ByTable(table).Filter
	var ps []func(*sql.Selector)
	if filter != nil {
		raw, err := json.Marshal(filter)
		if err != nil {
			return nil, err
		}
		p, err := r.crm.FilterPredicate(ctx, entity, raw)
		if err != nil {
			return nil, argError(err, "filter", nil)
		}
		ps = append(ps, p)
	}
	if savedFilter != nil {
		p, err := r.crm.SavedFilterPredicate(ctx, entity, *savedFilter)
		if err != nil {
			return nil, argError(err, "savedFilter", nil)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// predicates converts selector functions to an entity's predicate type.
func predicates[P ~func(*sql.Selector)](ps []func(*sql.Selector)) []P {
	out := make([]P, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// filterConfig returns the query builder's configuration of entity as a
// JSON object.
func (r *Resolver) filterConfig(ctx context.Context, entity string) (map[string]any, error) {
	c, err := r.crm.FilterConfig(ctx, entity)
	if err != nil {
		return nil, argError(err, "entity", nil)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}
