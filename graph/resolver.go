// Package graph holds the GraphQL resolvers. They translate: arguments into
// ent queries (entgql collects the selected fields and relations, so a list
// is one statement per relation level) or into internal/crm service calls,
// and plain-UUID relations into per-request dataloader lookups. Business
// rules live in internal/crm, never here.
package graph

import (
	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
)

// Resolver is the root resolver; one serves every request.
type Resolver struct {
	client *ent.Client
	crm    *crm.Service
}
