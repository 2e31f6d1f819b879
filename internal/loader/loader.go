// Package loader holds the per-request dataloaders that resolve GraphQL
// fields backed by plain UUID columns (event assignees, custom field
// values) and computed per-row values, so a level of
// a list costs one SQL statement per field, not one per row.
//
// Loaders are made per request (Middleware) and never shared: a batch runs
// with the context of its first Load, which carries the request's viewer and
// so its tenant scope. A shared loader would run one tenant's batch with
// another tenant's viewer.
package loader

import (
	"context"
	"log/slog"
	"net/http"

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
	users             *batcher[*ent.User]
	groups            *batcher[*ent.SecurityGroup]
	customFieldValues *batcher[[]*ent.CustomFieldValue]
	delayedCounts     *batcher[int]
}

// New returns fresh loaders over client. log receives panics recovered in
// batch functions.
func New(client *ent.Client, log *slog.Logger) *Loaders {
	return &Loaders{
		users:             newBatcher(log, "users", usersBatch(client)),
		groups:            newBatcher(log, "security groups", groupsBatch(client)),
		customFieldValues: newBatcher(log, "custom field values", customFieldValuesBatch(client)),
		delayedCounts:     newBatcher(log, "delayed automations", delayedCountsBatch(client)),
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the loaders of ctx's request. It panics when there
// are none: the GraphQL handler is always wrapped by Middleware, so their
// absence is a wiring bug, and the executor turns the panic into a masked,
// logged error.
func FromContext(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loader: no loaders in context (handler not wrapped by loader.Middleware)")
	}
	return l
}

// Middleware gives every request its own loaders.
func Middleware(client *ent.Client, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), New(client, log))))
		})
	}
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
