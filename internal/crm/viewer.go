package crm

import (
	"context"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/viewer"
)

// ResolveViewer loads the viewer of a verified token: the user must exist in
// tenant tenantID, be active and not deleted. It returns NotFound otherwise.
// The lookup runs as that tenant, so the data layer's scoping applies to it
// like to any other query.
func ResolveViewer(ctx context.Context, db *ent.Client, userID, tenantID uuid.UUID) (*viewer.Viewer, error) {
	scoped := viewer.NewContext(ctx, &viewer.Viewer{UserID: userID, TenantID: tenantID})
	u, err := db.User.Query().
		Where(user.ID(userID), user.IsActive(true)).
		WithRoles(func(q *ent.RoleQuery) { q.Select(role.FieldID).WithPermissions() }).
		// Only active groups confer their members' rights (task record rule).
		WithSecurityGroups(func(q *ent.SecurityGroupQuery) { q.Where(securitygroup.IsActive(true)) }).
		Only(scoped)
	if err != nil {
		return nil, AsError(err)
	}
	v := &viewer.Viewer{UserID: u.ID, TenantID: u.TenantID, Type: viewer.UserType(u.UserType), Permissions: map[string]bool{}}
	for _, r := range u.Edges.Roles {
		for _, p := range r.Edges.Permissions {
			v.Permissions[p.Name] = true
		}
	}
	for _, g := range u.Edges.SecurityGroups {
		v.GroupIDs = append(v.GroupIDs, g.ID)
	}
	return v, nil
}

// Require returns Forbidden unless the viewer of ctx holds permission.
func Require(ctx context.Context, permission string) error {
	if !viewer.FromContext(ctx).Can(permission) {
		return &Error{Code: Forbidden, Message: "Access denied"}
	}
	return nil
}
