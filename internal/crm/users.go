package crm

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/permission"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/viewer"
)

// UserInput is a user create or update; nil fields are left unchanged (on
// create: defaults). Email is set on create only. On update, an empty
// string clears an optional text field and a list, when given, replaces
// the current one.
type UserInput struct {
	Email, Username, Firstname, Lastname, DisplayName *string
	MobilePhone, RoundRobinStatus                     *string
	UserType                                          *string // USER, MANAGER or ADMIN
	// RoleIDs defaults on create to the default role of the user type.
	RoleIDs, FranchiseIDs, DepartmentIDs *[]uuid.UUID
}

// CreateUser adds a user to the viewer's tenant (needs user.manage). The
// email is required and names one live user of the tenant.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*ent.User, error) {
	if err := Require(ctx, PermUserManage); err != nil {
		return nil, err
	}
	var u *ent.User
	err := s.inTx(ctx, func(tx *ent.Client) error {
		email, err := s.checkUser(ctx, tx, nil, in)
		if err != nil {
			return err
		}
		typ := user.UserTypeUSER
		if in.UserType != nil {
			typ = user.UserType(*in.UserType)
		}
		c := tx.User.Create().SetEmail(email).SetUserType(typ).
			SetNillableFirstname(blankNil(in.Firstname)).SetNillableLastname(blankNil(in.Lastname)).
			SetNillableMobilePhone(blankNil(in.MobilePhone)).SetNillableRoundRobinStatus(blankNil(in.RoundRobinStatus))
		c.SetUsername(email)
		if in.Username != nil {
			c.SetUsername(strings.TrimSpace(*in.Username))
		}
		c.SetDisplayName(displayName(deref(in.Firstname), deref(in.Lastname), email))
		if in.DisplayName != nil {
			c.SetDisplayName(strings.TrimSpace(*in.DisplayName))
		}
		if in.RoleIDs != nil {
			c.AddRoleIDs(unique(*in.RoleIDs)...)
		} else {
			id, err := tx.Role.Query().Where(role.IsDefault(true), role.Name(RoleForUserType[string(typ)])).FirstID(ctx)
			if err != nil && !ent.IsNotFound(err) {
				return err
			}
			if err == nil {
				c.AddRoleIDs(id)
			}
		}
		if in.FranchiseIDs != nil {
			c.AddFranchiseIDs(unique(*in.FranchiseIDs)...)
		}
		if in.DepartmentIDs != nil {
			c.AddDepartmentIDs(unique(*in.DepartmentIDs)...)
		}
		if u, err = c.Save(ctx); err != nil {
			return err
		}
		if err := tx.UserSettings.Create().SetUserID(u.ID).Exec(ctx); err != nil {
			return err
		}
		after, err := userFields(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordUser, "created", u.ID, nil, after)
	})
	if err != nil {
		return nil, err
	}
	return u.Unwrap(), nil
}

// UpdateUser changes a user (needs user.manage). Nobody may take away
// their own last access to user management, and the tenant keeps at least
// one active ADMIN.
func (s *Service) UpdateUser(ctx context.Context, id uuid.UUID, in UserInput) (*ent.User, error) {
	if err := Require(ctx, PermUserManage); err != nil {
		return nil, err
	}
	var u *ent.User
	err := s.inTx(ctx, func(tx *ent.Client) error {
		before, err := userFields(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mayChange(ctx, &ent.User{UserType: user.UserType(before["userType"].(string))}); err != nil {
			return err
		}
		if in.Email != nil {
			return fault.FieldError("email", "cannot be changed")
		}
		if _, err := s.checkUser(ctx, tx, &id, in); err != nil {
			return err
		}
		upd := tx.User.UpdateOneID(id)
		for _, f := range []struct {
			value *string
			set   func(string) *ent.UserUpdateOne
			clear func() *ent.UserUpdateOne
		}{
			{in.Username, upd.SetUsername, nil},
			{in.DisplayName, upd.SetDisplayName, nil},
			{in.Firstname, upd.SetFirstname, upd.ClearFirstname},
			{in.Lastname, upd.SetLastname, upd.ClearLastname},
			{in.MobilePhone, upd.SetMobilePhone, upd.ClearMobilePhone},
			{in.RoundRobinStatus, upd.SetRoundRobinStatus, upd.ClearRoundRobinStatus},
		} {
			switch {
			case f.value == nil:
			case strings.TrimSpace(*f.value) == "" && f.clear != nil:
				f.clear()
			default:
				f.set(strings.TrimSpace(*f.value))
			}
		}
		if in.UserType != nil {
			upd.SetUserType(user.UserType(*in.UserType))
		}
		if in.RoleIDs != nil {
			upd.ClearRoles().AddRoleIDs(unique(*in.RoleIDs)...)
		}
		if in.FranchiseIDs != nil {
			upd.ClearFranchises().AddFranchiseIDs(unique(*in.FranchiseIDs)...)
		}
		if in.DepartmentIDs != nil {
			upd.ClearDepartments().AddDepartmentIDs(unique(*in.DepartmentIDs)...)
		}
		if u, err = upd.Save(ctx); err != nil {
			return err
		}
		if err := guardAdminAccess(ctx, tx); err != nil {
			return err
		}
		after, err := userFields(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordUser, "updated", id, before, after)
	})
	if err != nil {
		return nil, err
	}
	return u.Unwrap(), nil
}

// DeactivateUser cuts a user's access at once (needs user.manage): the
// authentication of every request refuses an inactive user, and the moment
// is recorded so that tokens issued before it stay refused after a
// reactivation. The user leaves the round-robin rotations they are in.
func (s *Service) DeactivateUser(ctx context.Context, id uuid.UUID) (*ent.User, error) {
	return s.setUserActive(ctx, id, false)
}

// ReactivateUser lets a deactivated user sign in again with a new token
// (needs user.manage); they rejoin their round-robin rotations.
func (s *Service) ReactivateUser(ctx context.Context, id uuid.UUID) (*ent.User, error) {
	return s.setUserActive(ctx, id, true)
}

func (s *Service) setUserActive(ctx context.Context, id uuid.UUID, active bool) (*ent.User, error) {
	if err := Require(ctx, PermUserManage); err != nil {
		return nil, err
	}
	var u *ent.User
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.User.Get(ctx, id)
		if err != nil {
			return err
		}
		u = cur
		if err := mayChange(ctx, cur); err != nil {
			return err
		}
		if cur.IsActive == active {
			return nil
		}
		groups, err := tx.User.QuerySecurityGroups(cur).IDs(ctx)
		if err != nil {
			return err
		}
		err = keepTurns(ctx, tx, groups, func() error {
			upd := tx.User.UpdateOneID(id).SetIsActive(active)
			if !active {
				upd.SetAccessRevokedAt(time.Now().UTC())
			}
			u, err = upd.Save(ctx)
			return err
		})
		if err != nil {
			return err
		}
		if err := guardAdminAccess(ctx, tx); err != nil {
			return err
		}
		verb := "reactivated"
		if !active {
			verb = "deactivated"
		}
		return s.emitChange(ctx, tx, RecordUser, verb, id, fields{"isActive": !active}, fields{"isActive": active})
	})
	if err != nil {
		return nil, err
	}
	return u.Unwrap(), nil
}

// DeleteUser soft-deletes a user (needs user.manage): their tokens stop
// working at once and they leave every round-robin rotation. The email
// becomes free for a new user.
func (s *Service) DeleteUser(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermUserManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		before, err := userFields(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mayChange(ctx, &ent.User{UserType: user.UserType(before["userType"].(string))}); err != nil {
			return err
		}
		groups, err := tx.User.Query().Where(user.ID(id)).QuerySecurityGroups().IDs(ctx)
		if err != nil {
			return err
		}
		err = keepTurns(ctx, tx, groups, func() error {
			if err := tx.User.UpdateOneID(id).SetAccessRevokedAt(time.Now().UTC()).Exec(ctx); err != nil {
				return err
			}
			return tx.User.DeleteOneID(id).Exec(ctx)
		})
		if err != nil {
			return err
		}
		if err := guardAdminAccess(ctx, tx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordUser, "deleted", id, before, nil)
	})
}

// checkUser validates a user input (id nil: a creation) and returns the
// normalised email of a creation.
func (s *Service) checkUser(ctx context.Context, tx *ent.Client, id *uuid.UUID, in UserInput) (string, error) {
	var v fault.Validation
	var email string
	if id == nil {
		switch {
		case in.Email == nil || strings.TrimSpace(*in.Email) == "":
			v.Add("email", "is required")
		default:
			email = strings.ToLower(strings.TrimSpace(*in.Email))
			if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > maxNameLength {
				v.Add("email", "must be an email address")
			} else if taken, err := tx.User.Query().Where(user.Email(email)).Exist(ctx); err != nil {
				return "", err
			} else if taken {
				v.Add("email", "is already used by another user of the tenant")
			}
		}
	}
	for _, f := range []struct {
		name  string
		value *string
	}{{"username", in.Username}, {"displayName", in.DisplayName}} {
		if f.value != nil {
			checkName(&v, f.name, f.value, false)
		}
	}
	for _, f := range []struct {
		name  string
		value *string
	}{{"firstname", in.Firstname}, {"lastname", in.Lastname}, {"mobilePhone", in.MobilePhone}, {"roundRobinStatus", in.RoundRobinStatus}} {
		checkLen(&v, f.name, f.value)
	}
	if in.UserType != nil && user.UserTypeValidator(user.UserType(*in.UserType)) != nil {
		v.Add("userType", "must be USER, MANAGER or ADMIN")
	}
	refs := []struct {
		field, table string
		ids          *[]uuid.UUID
	}{{"roleIDs", role.Table, in.RoleIDs}, {"franchiseIDs", franchise.Table, in.FranchiseIDs}, {"departmentIDs", department.Table, in.DepartmentIDs}}
	for _, r := range refs {
		if r.ids != nil {
			if err := checkRefs(ctx, tx, &v, r.field, r.table, *r.ids); err != nil {
				return "", err
			}
		}
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	var granted []string
	if in.RoleIDs != nil {
		var err error
		if granted, err = rolePermissions(ctx, tx, *in.RoleIDs); err != nil {
			return "", err
		}
	}
	return email, noEscalation(ctx, granted, in.UserType != nil && *in.UserType == string(user.UserTypeADMIN))
}

// guardAdminAccess runs after a write to users or roles, inside its
// transaction, and refuses it (Conflict, rolled back) when the viewer would
// no longer hold user.manage — nobody locks themselves out of user
// management — or when no active ADMIN user would be left in the tenant.
func guardAdminAccess(ctx context.Context, tx *ent.Client) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil
	}
	self, err := tx.User.Query().Where(user.ID(v.UserID), user.IsActive(true)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	keeps := self != nil && self.UserType == user.UserTypeADMIN
	if self != nil && !keeps {
		keeps, err = tx.User.QueryRoles(self).QueryPermissions().Where(permission.Name(PermUserManage)).Exist(ctx)
		if err != nil {
			return err
		}
	}
	if !keeps {
		return fault.Errorf(fault.Conflict, "You cannot remove your own last administrator access (%s)", PermUserManage)
	}
	admins, err := tx.User.Query().Where(user.UserTypeEQ(user.UserTypeADMIN), user.IsActive(true)).Exist(ctx)
	if err != nil {
		return err
	}
	if !admins {
		return fault.Errorf(fault.Conflict, "The tenant must keep at least one active ADMIN user")
	}
	return nil
}

// userFields is a user as its events report it.
func userFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	u, err := tx.User.Query().Where(user.ID(id)).
		WithRoles(func(q *ent.RoleQuery) { q.Select(role.FieldID) }).
		WithFranchises(func(q *ent.FranchiseQuery) { q.Select(franchise.FieldID) }).
		WithDepartments(func(q *ent.DepartmentQuery) { q.Select(department.FieldID) }).Only(ctx)
	if err != nil {
		return nil, err
	}
	ids := func(n int, at func(int) uuid.UUID) []string {
		out := make([]uuid.UUID, n)
		for i := range out {
			out[i] = at(i)
		}
		return idStrings(out, false)
	}
	return fields{
		"email": u.Email, "username": u.Username, "firstname": u.Firstname, "lastname": u.Lastname,
		"displayName": u.DisplayName, "mobilePhone": u.MobilePhone, "roundRobinStatus": u.RoundRobinStatus,
		"userType": string(u.UserType), "isActive": u.IsActive,
		"roleIDs":       ids(len(u.Edges.Roles), func(i int) uuid.UUID { return u.Edges.Roles[i].ID }),
		"franchiseIDs":  ids(len(u.Edges.Franchises), func(i int) uuid.UUID { return u.Edges.Franchises[i].ID }),
		"departmentIDs": ids(len(u.Edges.Departments), func(i int) uuid.UUID { return u.Edges.Departments[i].ID }),
	}, nil
}

// blankNil returns nil for a missing or blank text, else the trimmed text.
func blankNil(s *string) *string {
	if s == nil {
		return nil
	}
	return nonEmpty(*s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// noEscalation refuses (Forbidden) a grant by a viewer who is not an ADMIN
// of what they do not hold themselves: ADMIN user type, or a permission
// (through a role's list or by giving a role). Without it user.manage would
// be a way to any permission, starting with one's own.
func noEscalation(ctx context.Context, perms []string, toAdmin bool) error {
	v := viewer.FromContext(ctx)
	if v == nil || v.Type == viewer.TypeAdmin {
		return nil
	}
	if toAdmin {
		return fault.Errorf(fault.Forbidden, "Only ADMIN users may make or change ADMIN users")
	}
	for _, p := range perms {
		if !v.Permissions[p] {
			return fault.Errorf(fault.Forbidden, "You cannot grant the permission %q, which you do not hold", p)
		}
	}
	return nil
}

// rolePermissions returns the names of the permissions the roles hold.
func rolePermissions(ctx context.Context, tx *ent.Client, roles []uuid.UUID) ([]string, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	return tx.Permission.Query().Where(permission.HasRolesWith(role.IDIn(roles...))).Select(permission.FieldName).Strings(ctx)
}

// mayChange refuses (Forbidden) a change of an ADMIN user by a viewer who
// is not an ADMIN.
func mayChange(ctx context.Context, target *ent.User) error {
	if target.UserType == user.UserTypeADMIN {
		return noEscalation(ctx, nil, true)
	}
	return nil
}
