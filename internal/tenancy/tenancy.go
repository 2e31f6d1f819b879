// Package tenancy holds the context switches the data layer honours. Tenant
// scoping itself is enforced by the ent schema's interceptors and hooks (see
// ent/schema/mixin.go); this package only says when a caller has explicitly
// asked for something else.
package tenancy

import (
	"context"
	"errors"
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
