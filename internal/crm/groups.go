package crm

import (
	"context"
	"slices"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
)

// SecurityGroupInput is a security group create or update; nil fields are
// left unchanged, a list when given replaces the current one. MemberIDs is
// ordered: it is the round-robin rotation.
type SecurityGroupInput struct {
	Name, DisplayName                      *string
	RoundRobin, IsActive                   *bool
	MemberIDs, FranchiseIDs, DepartmentIDs *[]uuid.UUID
}

// CreateSecurityGroup adds a security group (needs user.manage).
func (s *Service) CreateSecurityGroup(ctx context.Context, in SecurityGroupInput) (*ent.SecurityGroup, error) {
	if err := Require(ctx, PermUserManage); err != nil {
		return nil, err
	}
	var g *ent.SecurityGroup
	err := s.inTx(ctx, func(tx *ent.Client) error {
		if err := checkGroup(ctx, tx, in, true); err != nil {
			return err
		}
		c := tx.SecurityGroup.Create().SetName(*in.Name).SetDisplayName(*in.Name).
			SetNillableRoundRobin(in.RoundRobin).SetNillableIsActive(in.IsActive)
		if in.DisplayName != nil {
			c.SetDisplayName(*in.DisplayName)
		}
		if in.MemberIDs != nil {
			members := unique(*in.MemberIDs)
			c.AddMemberIDs(members...).SetMembersOrder(idStrings(members, true))
		}
		if in.FranchiseIDs != nil {
			c.AddFranchiseIDs(unique(*in.FranchiseIDs)...)
		}
		if in.DepartmentIDs != nil {
			c.AddDepartmentIDs(unique(*in.DepartmentIDs)...)
		}
		var err error
		if g, err = c.Save(ctx); err != nil {
			return err
		}
		after, err := groupFields(ctx, tx, g.ID)
		if err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordSecurityGroup, "created", g.ID, nil, after)
	})
	if err != nil {
		return nil, err
	}
	return g.Unwrap(), nil
}

// UpdateSecurityGroup changes a group (needs user.manage): its names,
// round robin, whether it is active (only active groups confer their
// members' rights), its members in rotation order and what it serves. The
// round-robin turn is kept: the member whose turn it was still comes next,
// or the next one still in the rotation when they were removed; new members
// take their place in the order given.
func (s *Service) UpdateSecurityGroup(ctx context.Context, id uuid.UUID, in SecurityGroupInput) (*ent.SecurityGroup, error) {
	if err := Require(ctx, PermUserManage); err != nil {
		return nil, err
	}
	var g *ent.SecurityGroup
	err := s.inTx(ctx, func(tx *ent.Client) error {
		before, err := groupFields(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkGroup(ctx, tx, in, false); err != nil {
			return err
		}
		err = keepTurns(ctx, tx, []uuid.UUID{id}, func() error {
			upd := tx.SecurityGroup.UpdateOneID(id).SetNillableName(in.Name).SetNillableDisplayName(in.DisplayName).
				SetNillableIsActive(in.IsActive)
			if in.RoundRobin != nil {
				upd.SetRoundRobin(*in.RoundRobin)
			}
			if in.MemberIDs != nil {
				members := unique(*in.MemberIDs)
				upd.ClearMembers().AddMemberIDs(members...).SetMembersOrder(idStrings(members, true))
			}
			if in.FranchiseIDs != nil {
				upd.ClearFranchises().AddFranchiseIDs(unique(*in.FranchiseIDs)...)
			}
			if in.DepartmentIDs != nil {
				upd.ClearDepartments().AddDepartmentIDs(unique(*in.DepartmentIDs)...)
			}
			g, err = upd.Save(ctx)
			return err
		})
		if err != nil {
			return err
		}
		after, err := groupFields(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordSecurityGroup, "updated", id, before, after)
	})
	if err != nil {
		return nil, err
	}
	return g.Unwrap(), nil
}

// DeleteSecurityGroup deletes a group (needs user.manage) that no
// department assigns leads by and no task is assigned to; otherwise the
// delete is refused with the counts.
func (s *Service) DeleteSecurityGroup(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermUserManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		before, err := groupFields(ctx, tx, id)
		if err != nil {
			return err
		}
		depts, err := tx.Department.Query().Where(department.SecurityGroupID(id)).Count(ctx)
		if err != nil {
			return err
		}
		tasks, err := tx.Task.Query().Where(task.AssigneeID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if err := inUse("security group", usage{depts, "departments"}, usage{tasks, "tasks"}); err != nil {
			return err
		}
		if err := tx.SecurityGroup.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordSecurityGroup, "deleted", id, before, nil)
	})
}

func checkGroup(ctx context.Context, tx *ent.Client, in SecurityGroupInput, create bool) error {
	var v fault.Validation
	checkName(&v, "name", in.Name, create)
	checkName(&v, "displayName", in.DisplayName, false)
	refs := []struct {
		field, table string
		ids          *[]uuid.UUID
	}{{"memberIDs", user.Table, in.MemberIDs}, {"franchiseIDs", franchise.Table, in.FranchiseIDs}, {"departmentIDs", department.Table, in.DepartmentIDs}}
	for _, r := range refs {
		if r.ids != nil {
			if err := checkRefs(ctx, tx, &v, r.field, r.table, *r.ids); err != nil {
				return err
			}
		}
	}
	return v.Err()
}

// keepTurns runs change, which may alter the members of groups or whether
// they are active, and then moves each group's round-robin cursor so the
// rotation goes on where it was: the member who was next is still next;
// when they left, the first member after them (in the old rotation) who is
// still in it. Without this the cursor, taken modulo a different number of
// members, would skip some members and serve others twice.
func keepTurns(ctx context.Context, tx *ent.Client, groupIDs []uuid.UUID, change func() error) error {
	load := func() ([]*ent.SecurityGroup, error) {
		if len(groupIDs) == 0 {
			return nil, nil
		}
		return tx.SecurityGroup.Query().Where(securitygroup.IDIn(groupIDs...)).
			WithMembers(func(q *ent.UserQuery) { q.Where(user.IsActive(true)).Select(user.FieldID) }).All(ctx)
	}
	if err := lockGroups(ctx, tx, groupIDs); err != nil {
		return err
	}
	old, err := load()
	if err != nil {
		return err
	}
	cursors, err := turns(ctx, tx, groupIDs)
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	now, err := load()
	if err != nil {
		return err
	}
	for _, g := range now {
		i := slices.IndexFunc(old, func(o *ent.SecurityGroup) bool { return o.ID == g.ID })
		if i < 0 {
			continue
		}
		cursor := realign(rotation(old[i]), cursors[g.ID], rotation(g))
		if cursor != cursors[g.ID] {
			if err := setTurn(ctx, tx, g, cursor); err != nil {
				return err
			}
		}
	}
	return nil
}

// lockGroups takes the row locks of the groups (SELECT … FOR UPDATE on
// PostgreSQL) before their cursors are read, so that a lead created
// meanwhile, which locks its group's row before it takes its turn
// (nextRoundRobin), waits rather than have its turn overwritten. SQLite has no row locks and needs none: its
// transactions take the database's write lock when they begin.
func lockGroups(ctx context.Context, tx *ent.Client, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.SecurityGroup.Query().Where(securitygroup.IDIn(ids...)).Select(securitygroup.FieldID).
		Modify(func(s *sql.Selector) {
			if s.Dialect() == dialect.Postgres {
				s.ForUpdate()
			}
		}).Strings(ctx)
	return err
}

// realign returns the cursor into rotation next that serves, next, the
// member the cursor into rotation prev would have served, or the first one
// after them that is still in next.
func realign(prev []uuid.UUID, cursor int, next []uuid.UUID) int {
	if len(next) == 0 || len(prev) == 0 {
		return 0
	}
	turn := cursor % len(prev)
	if turn < 0 {
		turn += len(prev)
	}
	for k := range prev {
		if j := slices.Index(next, prev[(turn+k)%len(prev)]); j >= 0 {
			return j
		}
	}
	return 0
}

// groupFields is a security group as its events report it.
func groupFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	g, err := tx.SecurityGroup.Query().Where(securitygroup.ID(id)).
		WithFranchises(func(q *ent.FranchiseQuery) { q.Select(franchise.FieldID) }).
		WithDepartments(func(q *ent.DepartmentQuery) { q.Select(department.FieldID) }).Only(ctx)
	if err != nil {
		return nil, err
	}
	var fr, dp []uuid.UUID
	for _, f := range g.Edges.Franchises {
		fr = append(fr, f.ID)
	}
	for _, d := range g.Edges.Departments {
		dp = append(dp, d.ID)
	}
	return fields{"name": g.Name, "displayName": g.DisplayName, "roundRobin": g.RoundRobin, "isActive": g.IsActive,
		"memberIDs": g.MembersOrder, "franchiseIDs": idStrings(fr, false), "departmentIDs": idStrings(dp, false)}, nil
}
