// Package graph holds the GraphQL resolvers. They translate: arguments into
// ent queries (entgql collects the selected fields and relations, so a list
// is one statement per relation level) or into internal/crm service calls,
// and plain-UUID relations into per-request dataloader lookups. Business
// rules live in internal/crm, never here.
package graph

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/savedfilter"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/ids"
	"github.com/conecrm/gateway/internal/live"
	"github.com/conecrm/gateway/internal/registry"
)

// Resolver is the root resolver; one serves every request.
type Resolver struct {
	client       *ent.Client
	crm          *crm.Service
	savedFilters crm.SavedFilters
	automation   AutomationTester
	live         *live.Bus // nil: no subscriptions
	subLimits    SubscriptionLimits
	log          *slog.Logger
}

// reload reads the record id a mutation wrote with the mutation field's
// selection (columns and relations collected by entgql), so the answer to
// a write costs what the same read would. It reads as the viewer: the
// relations of the answer need their read permissions like any read. The
// written record itself is the write's answer even to a viewer who may
// write but not read its type: it is then read alone, and each selected
// relation is resolved by its own field under the read policy.
func reload[T ent.Noder](ctx context.Context, client *ent.Client, id uuid.UUID) (T, error) {
	var zero T
	ctx = registry.Checked(ctx)
	table := ids.TableOf(id)
	if !registry.CanRead(ctx, table) {
		// Without a field context nothing is collected (eager-loaded).
		ctx = registry.Unchecked(noFieldContext{ctx})
	}
	n, err := client.Noder(ctx, id, ent.WithFixedNodeType(table))
	if err != nil {
		return zero, err
	}
	t, ok := n.(T)
	if !ok {
		return zero, fmt.Errorf("graph: record %s is a %T, not a %T", id, n, zero)
	}
	return t, nil
}

// noFieldContext hides the GraphQL field context of the context it wraps.
type noFieldContext struct{ context.Context }

func (c noFieldContext) Value(key any) any {
	v := c.Context.Value(key)
	if _, ok := v.(*graphql.FieldContext); ok {
		return nil
	}
	return v
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
