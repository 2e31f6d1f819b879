// Package graph holds the GraphQL resolvers. They translate: arguments into
// ent queries (entgql collects the selected fields and relations, so a list
// is one statement per relation level) or into internal/crm service calls,
// and plain-UUID relations into per-request dataloader lookups. Business
// rules live in internal/crm, never here.
package graph

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/savedfilter"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/live"
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
