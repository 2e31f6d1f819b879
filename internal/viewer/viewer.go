// Package viewer holds the identity a request acts as: the authenticated user,
// their tenant, user type and permissions. The data layer reads it from the
// context to scope every query to the tenant; nothing else decides tenancy.
package viewer

import (
	"context"

	"github.com/google/uuid"
)

// UserType is the spec's User.userType.
type UserType string

const (
	TypeUser    UserType = "USER"
	TypeManager UserType = "MANAGER"
	TypeAdmin   UserType = "ADMIN"
)

// Viewer is the acting identity of a request.
type Viewer struct {
	UserID      uuid.UUID
	TenantID    uuid.UUID
	Type        UserType
	Permissions map[string]bool
	// GroupIDs are the security groups the user is a member of (task record rules).
	GroupIDs []uuid.UUID
}

// Can reports whether the viewer holds a permission. ADMIN users hold all.
func (v *Viewer) Can(permission string) bool {
	if v == nil {
		return false
	}
	return v.Type == TypeAdmin || v.Permissions[permission]
}

// IsMember reports whether the viewer is the security object id or belongs to it.
func (v *Viewer) IsMember(securityObject uuid.UUID) bool {
	if v == nil {
		return false
	}
	if v.UserID == securityObject {
		return true
	}
	for _, g := range v.GroupIDs {
		if g == securityObject {
			return true
		}
	}
	return false
}

type viewerKey struct{}

// NewContext returns a context carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer of ctx, or nil when there is none.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}
