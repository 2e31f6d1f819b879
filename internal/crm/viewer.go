package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/viewer"
)

// viewerSQL reads everything a viewer is made of in one statement and one
// row, because it runs before every authenticated request that the viewer
// cache (ViewerCache) does not answer (four ent queries did it before:
// user, roles, permissions, groups): the user's type and when its access
// was last withdrawn — the row exists only for an active, live user of the
// tenant —, the permissions of its live roles and its active, live
// security groups, each list aggregated into one comma-separated text
// (string_agg, SQLite >= 3.44 and PostgreSQL alike). One row instead of one
// per permission: an ADMIN's eighty rows through database/sql cost more
// than the statement itself. An ADMIN's roles are not read at all: an
// ADMIN holds every permission (viewer.Can), so its Permissions are never
// consulted.
// The token's iat is compared with access_revoked_at in Go (viewerFacts.
// viewer), not here, so that one cached row serves every token of the user.
// It repeats by hand the data layer's scoping of those tables (tenant,
// is_deleted); permissions are global. $1 and $2 are the user and tenant
// ids; both drivers bind $N positionally. The tables it reads are
// store.AuthTables (a test checks it): a change to any of them ends every
// cached viewer.
const viewerSQL = `SELECT u.user_type, u.access_revoked_at,
  (SELECT string_agg(p.name, ',') FROM user_roles ur
    JOIN roles r ON r.id = ur.role_id
    JOIN role_permissions rp ON rp.role_id = r.id
    JOIN permissions p ON p.id = rp.permission_id
    WHERE u.user_type <> 'ADMIN' AND ur.user_id = $1 AND r.tenant_id = $2 AND NOT r.is_deleted),
  (SELECT string_agg(CAST(g.id AS TEXT), ',') FROM security_group_members m
    JOIN security_groups g ON g.id = m.security_group_id
    WHERE m.user_id = $1 AND g.tenant_id = $2 AND g.is_active AND NOT g.is_deleted)
FROM users u
WHERE u.id = $1 AND u.tenant_id = $2 AND u.is_active AND NOT u.is_deleted`

// viewerFacts is what viewerSQL read of an active, live user: everything
// a request's viewer is decided from, whatever its token.
type viewerFacts struct {
	v         viewer.Viewer // never handed out: viewer copies it
	revokedAt time.Time     // access_revoked_at; zero when never
}

// viewer checks a token issued at issuedAt against the facts — it must be
// issued after the user's access was last withdrawn (access_revoked_at, set
// by deactivation and deletion), so a reactivated user's old tokens stay
// dead, and a token without iat is then refused too — and returns a viewer
// of its own: callers may change it (an API key narrows its permissions).
func (f *viewerFacts) viewer(issuedAt time.Time) (*viewer.Viewer, error) {
	if !f.revokedAt.IsZero() && !f.revokedAt.Before(issuedAt) {
		return nil, &fault.Error{Code: fault.NotFound, Message: "not found"}
	}
	v := f.v
	return &v, nil
}

// ResolveViewer loads the viewer of a verified token: the user must exist in
// tenant tenantID, be active, not deleted, and the token must have been
// issued (issuedAt, its iat) after the user's access was last withdrawn. It
// returns NotFound otherwise.
// It costs one SQL statement; ViewerCache.Resolve usually none.
func ResolveViewer(ctx context.Context, db *ent.Client, userID, tenantID uuid.UUID, issuedAt time.Time) (*viewer.Viewer, error) {
	f, err := loadViewer(ctx, db, userID, tenantID)
	if err != nil {
		return nil, err
	}
	return f.viewer(issuedAt)
}

// viewerReads counts viewerSQL's executions: every uncached resolution and
// every miss of the viewer cache.
var viewerReads atomic.Int64

// ViewerReads returns how many times the process has read a viewer from
// the database (metric conecrm_viewer_reads_total; with requests, the
// viewer cache's miss rate).
func ViewerReads() int64 { return viewerReads.Load() }

// loadViewer runs viewerSQL: NotFound when the user is unknown in the
// tenant, inactive or deleted.
func loadViewer(ctx context.Context, db *ent.Client, userID, tenantID uuid.UUID) (*viewerFacts, error) {
	viewerReads.Add(1)
	rows, err := db.QueryContext(ctx, viewerSQL, userID, tenantID)
	if err != nil {
		return nil, AsError(err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, AsError(err)
		}
		return nil, &fault.Error{Code: fault.NotFound, Message: "not found"}
	}
	var (
		userType      string
		revoked       sql.NullTime
		perms, groups sql.NullString
	)
	if err := rows.Scan(&userType, &revoked, &perms, &groups); err != nil {
		return nil, AsError(err)
	}
	if err := rows.Close(); err != nil {
		return nil, AsError(err)
	}
	f := &viewerFacts{v: viewer.Viewer{UserID: userID, TenantID: tenantID, Type: viewer.UserType(userType), Permissions: permissionSet(perms.String)}}
	if revoked.Valid {
		f.revokedAt = revoked.Time
	}
	if groups.String != "" {
		for value := range strings.SplitSeq(groups.String, ",") {
			id, err := uuid.Parse(value)
			if err != nil {
				return nil, AsError(fmt.Errorf("viewer: security group id %q: %w", value, err))
			}
			f.v.GroupIDs = append(f.v.GroupIDs, id)
		}
	}
	return f, nil
}

// permissionSets holds the permission sets already built, by their
// aggregated text: the viewers of a tenant share a few role combinations,
// so the per-request map of eighty entries is built once. A set is never
// changed once built (nothing writes a viewer's Permissions), so sharing
// it is safe; past maxPermissionSets new texts are built per request.
var permissionSets sync.Map // string → map[string]bool

const maxPermissionSets = 1024

var permissionSetCount atomic.Int64

func permissionSet(names string) map[string]bool {
	if m, ok := permissionSets.Load(names); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	if names != "" {
		for name := range strings.SplitSeq(names, ",") {
			m[name] = true
		}
	}
	if permissionSetCount.Load() < maxPermissionSets {
		if _, loaded := permissionSets.LoadOrStore(names, m); !loaded {
			permissionSetCount.Add(1)
		}
	}
	return m
}

// Require returns Forbidden unless the viewer of ctx holds permission.
func Require(ctx context.Context, permission string) error {
	if !viewer.FromContext(ctx).Can(permission) {
		return &fault.Error{Code: fault.Forbidden, Message: "Access denied"}
	}
	return nil
}
