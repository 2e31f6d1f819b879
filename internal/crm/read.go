package crm

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/viewer"
)

// RequireRead returns Forbidden unless the viewer may read rows of table
// (the entity registry's read permission). The data layer enforces the
// same rule on every query; calling it first answers before any work.
func RequireRead(ctx context.Context, table string) error {
	if err := registry.CheckRead(ctx, table); err != nil {
		return AsError(err)
	}
	return nil
}

// CheckLookup vets a lookup of a record by id alone (GraphQL node/nodes):
// the id's type says its table, which the viewer must be allowed to read.
// An id of no known type, or of another tenant (the tenants table is not
// tenant-scoped, so that is checked here), is NotFound, exactly like an id
// that exists nowhere; rows of other tenants are hidden by the data layer.
func CheckLookup(ctx context.Context, id uuid.UUID) (table string, err error) {
	table = registry.TableOf(id)
	switch {
	case table == "":
		return "", &fault.Error{Code: fault.NotFound, Message: "not found"}
	case table == tenant.Table:
		if v := viewer.FromContext(ctx); v == nil || v.TenantID != id {
			return "", &fault.Error{Code: fault.NotFound, Message: "not found"}
		}
		return table, nil
	}
	return table, RequireRead(ctx, table)
}

// Permissions returns the names of the permissions v holds, sorted: ADMIN
// users hold the whole catalogue.
func Permissions(v *viewer.Viewer) []string {
	var names []string
	for _, p := range Catalogue {
		if v.Can(p.Name) {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}
