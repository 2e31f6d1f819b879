package crm

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// catalogueNames returns the names of the permission catalogue, sorted.
func catalogueNames() []string {
	names := make([]string, len(Catalogue))
	for i, p := range Catalogue {
		names[i] = p.Name
	}
	slices.Sort(names)
	return names
}

// defaultsOf returns the permissions the default role name starts with
// (nil: not a default role's name).
func defaultsOf(name string) []string {
	names, ok := DefaultRoles[name]
	if ok && names == nil { // Administrator: every permission
		return catalogueNames()
	}
	return names
}

// OfferNewPermissions gives every tenant's default roles the catalogue
// permissions added since the tenant last had them offered (at creation,
// or on an earlier start): each goes, once, to the default roles whose
// defaults (DefaultRoles) include it, and the tenant records it as
// offered. So a permission a new release adds (note.read, note.write)
// reaches existing tenants as it reaches new ones, while one an
// administrator took away from a role is never given back: it was offered
// already. Each changed role emits role.updated (system work: no actor) in
// the tenant's transaction. It runs at every start and `migrate` after
// EnsurePermissions; with nothing new it costs one statement. It returns
// the number of roles changed.
//
// Tenants made before offers were recorded have no record: what any of
// their roles holds counts as offered, so only permissions none of their
// roles has (those added to the catalogue since) are offered to them.
func (s *Service) OfferNewPermissions(ctx context.Context) (int, error) {
	ctx = tenancy.Bypass(ctx)
	catalogue := catalogueNames()
	tenants, err := s.db.Tenant.Query().Select(tenant.FieldOfferedPermissions).All(ctx)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, t := range tenants {
		if t.OfferedPermissions != nil && !hasNew(catalogue, t.OfferedPermissions) {
			continue
		}
		n, err := s.offerTo(ctx, t.ID, catalogue)
		if ent.IsConstraintError(err) {
			// Another instance starting at the same time offered them
			// first: this run then finds them offered.
			n, err = s.offerTo(ctx, t.ID, catalogue)
		}
		if err != nil {
			return changed, err
		}
		changed += n
	}
	return changed, nil
}

// hasNew reports whether catalogue holds a name offered lacks.
func hasNew(catalogue, offered []string) bool {
	for _, n := range catalogue {
		if !slices.Contains(offered, n) {
			return true
		}
	}
	return false
}

// offerTo offers tenant tid the catalogue permissions it has not been
// offered yet, in one transaction.
func (s *Service) offerTo(ctx context.Context, tid uuid.UUID, catalogue []string) (int, error) {
	// The events are the tenant's, written by no user.
	sys := viewer.NewContext(ctx, &viewer.Viewer{TenantID: tid, Type: viewer.TypeAdmin})
	sys = tenancy.Bypass(sys)
	changed := 0
	err := s.inTx(sys, func(tx *ent.Client) error {
		changed = 0 // counted afresh if the transaction is run again (inTx)
		t, err := tx.Tenant.Get(sys, tid)
		if err != nil {
			return err
		}
		roles, err := tx.Role.Query().Where(role.TenantID(tid), role.IsDeleted(false)).WithPermissions().All(sys)
		if err != nil {
			return err
		}
		offered := t.OfferedPermissions
		if offered == nil {
			for _, r := range roles {
				offered = append(offered, namesOf(r.Edges.Permissions)...)
			}
		}
		var fresh []string
		for _, n := range catalogue {
			if !slices.Contains(offered, n) {
				fresh = append(fresh, n)
			}
		}
		if len(fresh) > 0 {
			perms, err := tx.Permission.Query().All(sys)
			if err != nil {
				return err
			}
			permID := map[string]uuid.UUID{}
			for _, p := range perms {
				permID[p.Name] = p.ID
			}
			for _, r := range roles {
				if !r.IsDefault {
					continue
				}
				held := namesOf(r.Edges.Permissions)
				var add []uuid.UUID
				after := slices.Clone(held)
				for _, n := range fresh {
					if slices.Contains(defaultsOf(r.Name), n) && !slices.Contains(held, n) {
						add = append(add, permID[n])
						after = append(after, n)
					}
				}
				if len(add) == 0 {
					continue
				}
				if err := tx.Role.UpdateOneID(r.ID).AddPermissionIDs(add...).Exec(sys); err != nil {
					return err
				}
				slices.Sort(after)
				if err := s.emitChange(sys, tx, RecordRole, "updated", r.ID,
					fields{"name": r.Name, "permissions": held}, fields{"name": r.Name, "permissions": after}); err != nil {
					return err
				}
				changed++
			}
		}
		return tx.Tenant.UpdateOneID(tid).SetOfferedPermissions(catalogue).Exec(sys)
	})
	return changed, err
}
