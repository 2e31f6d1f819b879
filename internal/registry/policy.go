package registry

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// ForbiddenError is what a query of rows the viewer may not read fails
// with, before any SQL is issued. internal/crm maps it to its Forbidden
// code (REST 403, GraphQL FORBIDDEN at the field's path).
type ForbiddenError struct {
	Type       string // the entity type asked for
	Permission string // the permission it needs ("" when no viewer may read it)
}

func (e *ForbiddenError) Error() string {
	if e.Permission == "" {
		return "registry: " + e.Type + " is not readable by a viewer"
	}
	return "registry: reading " + e.Type + " needs " + e.Permission
}

type uncheckedKey struct{}
type embeddedKey struct{}

// Unchecked marks ctx as the domain layer reading for its own rules, not
// on the viewer's behalf: resolving the viewer itself, checking that a
// referenced record exists, loading a definition to validate a value.
// Tenant scoping still applies (unlike tenancy.Bypass); read permissions
// do not. Never use it for data that is returned to the client.
func Unchecked(ctx context.Context) context.Context {
	return context.WithValue(ctx, uncheckedKey{}, true)
}

// Checked undoes Unchecked and Embedding: reads under the returned context
// are the viewer's own again (the answer a write returns to GraphQL, a
// query-builder catalogue).
func Checked(ctx context.Context) context.Context {
	if !isUnchecked(ctx) && ctx.Value(embeddedKey{}) == nil {
		return ctx
	}
	return context.WithValue(context.WithValue(ctx, uncheckedKey{}, false), embeddedKey{}, []string(nil))
}

func isUnchecked(ctx context.Context) bool {
	b, _ := ctx.Value(uncheckedKey{}).(bool)
	return b
}

// Embedding marks ctx as serving a REST response of e: the records e
// embeds (e.Embeds) are part of the resource and are read with the
// route's permission. e itself still needs its own.
func Embedding(ctx context.Context, e *Entity) context.Context {
	if e == nil || len(e.Embeds) == 0 {
		return ctx
	}
	prev, _ := ctx.Value(embeddedKey{}).([]string)
	return context.WithValue(ctx, embeddedKey{}, append(slices.Clip(prev), e.EmbeddedTables()...))
}

// CheckRead returns nil when ctx may read rows of table, a *ForbiddenError
// when it may not, and tenancy.ErrNoViewer without a viewer. It reads only
// the context (the viewer's permissions were loaded with it), so it costs
// no statement. A table outside the registry is readable by no viewer: a
// new entity is safe until it is registered.
func CheckRead(ctx context.Context, table string) error {
	if tenancy.IsBypassed(ctx) || isUnchecked(ctx) {
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return tenancy.ErrNoViewer
	}
	e := byTable[table]
	if e == nil {
		return &ForbiddenError{Type: table}
	}
	if e.Read != "" && v.Can(e.Read) || e.AlsoRead != "" && v.Can(e.AlsoRead) {
		return nil
	}
	if emb, _ := ctx.Value(embeddedKey{}).([]string); e.Read != "" && slices.Contains(emb, table) {
		return nil
	}
	return &ForbiddenError{Type: e.Type, Permission: e.Read}
}

// CanRead reports whether CheckRead lets ctx read rows of table.
func CanRead(ctx context.Context, table string) bool { return CheckRead(ctx, table) == nil }

// Owner returns the column and user id that restrict a query of table to
// the viewer's own rows (a USER reads only their own settings and
// third-party metadata), or ok false when no such restriction applies.
func Owner(ctx context.Context, table string) (column string, user uuid.UUID, ok bool) {
	e := byTable[table]
	if e == nil || e.Owner == "" || tenancy.IsBypassed(ctx) || isUnchecked(ctx) {
		return "", uuid.Nil, false
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.Type == viewer.TypeAdmin || v.Type == viewer.TypeManager {
		return "", uuid.Nil, false
	}
	return e.Owner, v.UserID, true
}
