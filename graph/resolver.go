// Package graph holds the GraphQL resolvers. They translate: arguments into
// ent queries (entgql collects the selected fields and relations, so a list
// is one statement per relation level) or into internal/crm service calls,
// and plain-UUID relations into per-request dataloader lookups. Business
// rules live in internal/crm, never here.
package graph

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/savedfilter"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/internal/crm"
)

// Resolver is the root resolver; one serves every request.
type Resolver struct {
	client       *ent.Client
	crm          *crm.Service
	savedFilters crm.SavedFilters
	automation   AutomationTester
}

// reload reads the record id a mutation wrote with the mutation field's
// selection (columns and relations collected by entgql), so the answer to
// a write costs what the same read would.
func reload[T ent.Noder](ctx context.Context, client *ent.Client, id uuid.UUID) (T, error) {
	var zero T
	n, err := client.Noder(ctx, id, ent.WithFixedNodeType(schema.TableOf(id)))
	if err != nil {
		return zero, err
	}
	t, ok := n.(T)
	if !ok {
		return zero, fmt.Errorf("graph: record %s is a %T, not a %T", id, n, zero)
	}
	return t, nil
}

// lookup vets a node(id) lookup and returns the table to read: the crm
// rules for lookups by id, plus the saved-filter rule (another user's
// private filter is Forbidden, as on every saved-filter route).
func (r *Resolver) lookup(ctx context.Context, id uuid.UUID) (string, error) {
	table, err := crm.CheckLookup(ctx, id)
	if err != nil {
		return "", err
	}
	if table == savedfilter.Table {
		if _, err := r.savedFilters.Get(ctx, id); err != nil {
			return "", err
		}
	}
	return table, nil
}
