package crm

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/viewer"
)

// viewerSQL reads everything a viewer is made of in one statement, because
// it runs before every authenticated request (four ent queries did it
// before: user, roles, permissions, groups). Row kinds: 'u' the user's type
// (present only for an active, live user of the tenant), 'p' a permission
// of one of its live roles, 'g' an active, live security group it belongs
// to. It repeats by hand the data layer's scoping of those tables (tenant,
// is_deleted); permissions are global. $1 and $2 are the user and tenant
// ids, $3 the token's iat (see ResolveViewer); both drivers bind $N
// positionally.
const viewerSQL = `SELECT 'u', u.user_type FROM users u
WHERE u.id = $1 AND u.tenant_id = $2 AND u.is_active AND NOT u.is_deleted
  AND (u.access_revoked_at IS NULL OR u.access_revoked_at < $3)
UNION ALL
SELECT 'p', p.name FROM user_roles ur
JOIN roles r ON r.id = ur.role_id
JOIN role_permissions rp ON rp.role_id = r.id
JOIN permissions p ON p.id = rp.permission_id
WHERE ur.user_id = $1 AND r.tenant_id = $2 AND NOT r.is_deleted
UNION ALL
SELECT 'g', CAST(g.id AS TEXT) FROM security_group_members m
JOIN security_groups g ON g.id = m.security_group_id
WHERE m.user_id = $1 AND g.tenant_id = $2 AND g.is_active AND NOT g.is_deleted`

// ResolveViewer loads the viewer of a verified token: the user must exist in
// tenant tenantID, be active, not deleted, and the token must have been
// issued (issuedAt, its iat) after the user's access was last withdrawn
// (access_revoked_at, set by deactivation and deletion), so a reactivated
// user's old tokens stay dead; a token without iat is then refused too. It
// returns NotFound otherwise.
// It costs one SQL statement.
func ResolveViewer(ctx context.Context, db *ent.Client, userID, tenantID uuid.UUID, issuedAt time.Time) (*viewer.Viewer, error) {
	// UTC: SQLite compares the stored text, written in UTC.
	rows, err := db.QueryContext(ctx, viewerSQL, userID, tenantID, issuedAt.UTC())
	if err != nil {
		return nil, AsError(err)
	}
	defer rows.Close()
	v := &viewer.Viewer{UserID: userID, TenantID: tenantID, Permissions: map[string]bool{}}
	found := false
	for rows.Next() {
		var kind, value string
		if err := rows.Scan(&kind, &value); err != nil {
			return nil, AsError(err)
		}
		switch kind {
		case "u":
			found = true
			v.Type = viewer.UserType(value)
		case "p":
			v.Permissions[value] = true
		case "g":
			id, err := uuid.Parse(value)
			if err != nil {
				return nil, AsError(fmt.Errorf("viewer: security group id %q: %w", value, err))
			}
			v.GroupIDs = append(v.GroupIDs, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, AsError(err)
	}
	if !found {
		return nil, &fault.Error{Code: fault.NotFound, Message: "not found"}
	}
	return v, nil
}

// Require returns Forbidden unless the viewer of ctx holds permission.
func Require(ctx context.Context, permission string) error {
	if !viewer.FromContext(ctx).Can(permission) {
		return &fault.Error{Code: fault.Forbidden, Message: "Access denied"}
	}
	return nil
}
