package crm

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/permission"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
)

// RoleInput is a role create or update; nil fields are left unchanged.
// Permissions, when given, replace the role's permissions; each must be a
// name of the Catalogue.
type RoleInput struct {
	Name        *string
	Permissions *[]string
}

// CreateRole adds a role to the tenant (needs user.manage).
func (s *Service) CreateRole(ctx context.Context, in RoleInput) (*ent.Role, error) {
	if err := Require(ctx, PermUserManage); err != nil {
		return nil, err
	}
	var r *ent.Role
	err := s.inTx(ctx, func(tx *ent.Client) error {
		pids, err := checkRole(ctx, tx, in, true)
		if err != nil {
			return err
		}
		if r, err = tx.Role.Create().SetName(*in.Name).AddPermissionIDs(pids...).Save(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordRole, "created", r.ID, nil, fields{"name": r.Name, "permissions": permissionNames(in)})
	})
	if err != nil {
		return nil, err
	}
	return r.Unwrap(), nil
}

// UpdateRole renames a role or sets its permissions (needs user.manage);
// default roles may be edited too. It applies from the next request of
// each holder, and is refused when the viewer would lose user.manage.
func (s *Service) UpdateRole(ctx context.Context, id uuid.UUID, in RoleInput) (*ent.Role, error) {
	if err := Require(ctx, PermUserManage); err != nil {
		return nil, err
	}
	var r *ent.Role
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.Role.Query().Where(role.ID(id)).WithPermissions().Only(ctx)
		if err != nil {
			return err
		}
		before := fields{"name": cur.Name, "permissions": namesOf(cur.Edges.Permissions)}
		pids, err := checkRole(ctx, tx, in, false)
		if err != nil {
			return err
		}
		upd := tx.Role.UpdateOneID(id)
		after := fields{"name": cur.Name, "permissions": before["permissions"]}
		if in.Name != nil {
			upd.SetName(*in.Name)
			after["name"] = *in.Name
		}
		if in.Permissions != nil {
			upd.ClearPermissions().AddPermissionIDs(pids...)
			after["permissions"] = permissionNames(in)
		}
		if r, err = upd.Save(ctx); err != nil {
			return err
		}
		if err := guardAdminAccess(ctx, tx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordRole, "updated", id, before, after)
	})
	if err != nil {
		return nil, err
	}
	return r.Unwrap(), nil
}

// DeleteRole deletes a role that is not a default one (needs user.manage).
// While users hold it the delete is refused with their count, unless
// reassignTo names another role of the tenant: its holders are then given
// that role instead, in the same transaction.
func (s *Service) DeleteRole(ctx context.Context, id uuid.UUID, reassignTo *uuid.UUID) error {
	if err := Require(ctx, PermUserManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.Role.Query().Where(role.ID(id)).WithPermissions().Only(ctx)
		if err != nil {
			return err
		}
		if cur.IsDefault {
			return fault.Errorf(fault.Conflict, "Cannot delete the default role %q (it can be edited)", cur.Name)
		}
		holders, err := tx.Role.QueryUsers(cur).IDs(ctx)
		if err != nil {
			return err
		}
		if reassignTo != nil {
			var v fault.Validation
			if *reassignTo == id {
				v.Add("reassignTo", "must be another role")
			} else if err := checkRef(ctx, tx, &v, "reassignTo", role.Table, reassignTo); err != nil {
				return err
			}
			if err := v.Err(); err != nil {
				return err
			}
			perms, err := rolePermissions(ctx, tx, []uuid.UUID{*reassignTo})
			if err != nil {
				return err
			}
			if err := noEscalation(ctx, perms, false); err != nil {
				return err
			}
		}
		if len(holders) > 0 {
			if reassignTo == nil {
				return fault.Errorf(fault.Conflict, "Cannot delete role that is held by users (%d users); give reassignTo to move them to another role", len(holders))
			}
			if err := tx.User.Update().Where(user.IDIn(holders...)).RemoveRoleIDs(id).Exec(ctx); err != nil {
				return err
			}
			// Holders of both roles already have the one they are moved to.
			err := tx.User.Update().Where(user.IDIn(holders...), user.Not(user.HasRolesWith(role.ID(*reassignTo)))).
				AddRoleIDs(*reassignTo).Exec(ctx)
			if err != nil {
				return err
			}
		}
		if err := tx.Role.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		if err := guardAdminAccess(ctx, tx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordRole, "deleted", id,
			fields{"name": cur.Name, "permissions": namesOf(cur.Edges.Permissions)}, nil)
	})
}

// checkRole validates a role input and returns the ids of its permissions.
func checkRole(ctx context.Context, tx *ent.Client, in RoleInput, create bool) ([]uuid.UUID, error) {
	var v fault.Validation
	checkName(&v, "name", in.Name, create)
	if in.Permissions == nil {
		return nil, v.Err()
	}
	for i, name := range *in.Permissions {
		if !slices.ContainsFunc(Catalogue, func(p struct{ Name, Description string }) bool { return p.Name == name }) {
			v.Add(fmt.Sprintf("permissions[%d]", i), fmt.Sprintf("unknown permission %q", name))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := noEscalation(ctx, *in.Permissions, false); err != nil {
		return nil, err
	}
	if len(*in.Permissions) == 0 {
		return nil, nil
	}
	// The catalogue's rows are made at start (EnsurePermissions).
	return tx.Permission.Query().Where(permission.NameIn(*in.Permissions...)).IDs(ctx)
}

func permissionNames(in RoleInput) []string {
	if in.Permissions == nil {
		return nil
	}
	out := slices.Clone(*in.Permissions)
	slices.Sort(out)
	return slices.Compact(out)
}

func namesOf(ps []*ent.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	slices.Sort(out)
	return out
}

// ListRoles returns the tenant's roles by name (needs user.read).
func (s *Service) ListRoles(ctx context.Context) ([]*ent.Role, error) {
	if err := RequireRead(ctx, role.Table); err != nil {
		return nil, err
	}
	// Permissions are loaded here, in full: one statement for all roles.
	roles, err := s.db.Role.Query().Order(role.ByName(), role.ByID()).
		WithPermissions(func(q *ent.PermissionQuery) { q.Order(permission.ByName()) }).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return roles, nil
}

// PermissionCatalogue returns the permission rows of the catalogue, in its
// order (needs user.read).
func (s *Service) PermissionCatalogue(ctx context.Context) ([]*ent.Permission, error) {
	if err := RequireRead(ctx, permission.Table); err != nil {
		return nil, err
	}
	rows, err := s.db.Permission.Query().All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	byName := make(map[string]*ent.Permission, len(rows))
	for _, p := range rows {
		byName[p.Name] = p
	}
	out := make([]*ent.Permission, 0, len(Catalogue))
	for _, c := range Catalogue {
		if p, ok := byName[c.Name]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}
