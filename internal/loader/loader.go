// Package loader holds the per-request dataloaders that resolve GraphQL
// fields backed by plain UUID columns (event assignees, custom field
// values) and computed per-row values, so a level of
// a list costs one SQL statement per field, not one per row.
//
// Loaders are made per GraphQL operation (graph.NewHandler) and never
// shared: a batch runs with the context of its first Load, which carries
// the request's viewer and so its tenant scope. A shared loader would run one tenant's batch with
// another tenant's viewer.
package loader

import (
	"context"
	"log/slog"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/delayedautomation"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/registry"
)

// Loaders are the dataloaders of one request.
type Loaders struct {
	users             batcher[*ent.User]
	groups            batcher[*ent.SecurityGroup]
	customFieldValues batcher[[]*ent.CustomFieldValue]
	delayedCounts     batcher[int]
}

// New returns fresh loaders over client, in one allocation (every GraphQL
// request makes them, few use them). log receives panics recovered in
// batch functions.
func New(client *ent.Client, log *slog.Logger) *Loaders {
	l := &Loaders{}
	l.users.init(log, "users", client, usersBatch)
	l.groups.init(log, "security groups", client, groupsBatch)
	l.customFieldValues.init(log, "custom field values", client, customFieldValuesBatch)
	l.delayedCounts.init(log, "delayed automations", client, delayedCountsBatch)
	return l
}

type ctxKey struct{}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the loaders of ctx's operation. It panics when there
// are none: graph.NewHandler gives every operation its loaders, so their
// absence is a wiring bug, and the executor turns the panic into a masked,
// logged error.
func FromContext(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loader: no loaders in context (an operation outside graph.NewHandler's executor)")
	}
	return l
}

// SecurityObject returns the user or security group with id (its type is
// encoded in the id), or nil when it names no visible one.
func (l *Loaders) SecurityObject(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
	// Users and groups share their read permission (user.read).
	if err := registry.CheckRead(ctx, user.Table); err != nil {
		return nil, err
	}
	switch registry.TableOf(id) {
	case user.Table:
		if u, err := l.users.load(ctx, id); u != nil || err != nil {
			return u, err
		}
	case securitygroup.Table:
		if g, err := l.groups.load(ctx, id); g != nil || err != nil {
			return g, err
		}
	}
	return nil, nil
}

// CustomFieldValues returns the custom field values of the record id.
func (l *Loaders) CustomFieldValues(ctx context.Context, recordID uuid.UUID) ([]*ent.CustomFieldValue, error) {
	if err := registry.CheckRead(ctx, customfieldvalue.Table); err != nil {
		return nil, err
	}
	v, err := l.customFieldValues.load(ctx, recordID)
	if v == nil && err == nil {
		v = []*ent.CustomFieldValue{}
	}
	return v, err
}

// DelayedAutomationsCount returns how many runs of the automation id wait
// for their delay to pass.
func (l *Loaders) DelayedAutomationsCount(ctx context.Context, automationID uuid.UUID) (int, error) {
	if err := registry.CheckRead(ctx, delayedautomation.Table); err != nil {
		return 0, err
	}
	return l.delayedCounts.load(ctx, automationID)
}
