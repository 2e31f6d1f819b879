// Package tenancy holds the context switches the data layer honours. Tenant
// scoping itself is enforced by the ent schema's interceptors and hooks (see
// ent/schema/mixin.go); this package only says when a caller has explicitly
// asked for something else.
package tenancy

import (
	"context"
	"errors"

	"github.com/google/uuid"
)

// ErrNoViewer is returned by the data layer for a query or write made with
// neither a viewer nor an explicit bypass: scoping can never be forgotten.
var ErrNoViewer = errors.New("tenancy: no viewer in context")

type bypassKey struct{}
type deletedKey struct{}

// Bypass marks ctx as system work (migrations, seeding, token lookup) that
// is not scoped to one tenant. Writes made under it must set tenant_id.
func Bypass(ctx context.Context) context.Context {
	return context.WithValue(ctx, bypassKey{}, true)
}

// IsBypassed reports whether ctx was marked by Bypass.
func IsBypassed(ctx context.Context) bool {
	b, _ := ctx.Value(bypassKey{}).(bool)
	return b
}

// WithDeleted makes queries under ctx see soft-deleted rows too.
func WithDeleted(ctx context.Context) context.Context {
	return context.WithValue(ctx, deletedKey{}, true)
}

// IncludesDeleted reports whether ctx was marked by WithDeleted.
func IncludesDeleted(ctx context.Context) bool {
	b, _ := ctx.Value(deletedKey{}).(bool)
	return b
}

type writeTenantKey struct{}

// WithWriteTenant marks ctx as the context of a write the data layer has
// confined to tenant: an ent mutation of a tenant-owned entity under a
// viewer (ent/schema's record hook), whose rows and added edges are all
// of the viewer's tenant. The viewer cache's write detector (internal/
// store) then ends only that tenant's cached viewers.
func WithWriteTenant(ctx context.Context, tenant uuid.UUID) context.Context {
	return context.WithValue(ctx, writeTenantKey{}, tenant)
}

// WriteTenant returns the tenant WithWriteTenant confined ctx's writes to;
// false when none was, or when ctx was bypassed since (system work may
// write any tenant): such a write may have changed every tenant.
func WriteTenant(ctx context.Context) (uuid.UUID, bool) {
	if IsBypassed(ctx) {
		return uuid.Nil, false
	}
	t, ok := ctx.Value(writeTenantKey{}).(uuid.UUID)
	return t, ok
}
