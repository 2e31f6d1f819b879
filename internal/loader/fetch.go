package loader

import (
	"context"
	"slices"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/delayedautomation"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/user"
)

// The GraphQL types each entity satisfies: fragments on any of them in a
// field's selection are part of what CollectFields reads.
var (
	userTypes  = []string{"User", "Node", "SecurityObject"}
	groupTypes = []string{"SecurityGroup", "Node", "SecurityObject"}
	cfvTypes   = []string{"CustomFieldValue", "Node"}
)

func usersBatch(ctx context.Context, client *ent.Client, ids []uuid.UUID) (map[uuid.UUID]*ent.User, error) {
	q, err := client.User.Query().Where(user.IDIn(ids...)).CollectFields(ctx, userTypes...)
	if err != nil {
		return nil, err
	}
	rows, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	return byID(rows, func(u *ent.User) uuid.UUID { return u.ID }), nil
}

func groupsBatch(ctx context.Context, client *ent.Client, ids []uuid.UUID) (map[uuid.UUID]*ent.SecurityGroup, error) {
	q, err := client.SecurityGroup.Query().Where(securitygroup.IDIn(ids...)).CollectFields(ctx, groupTypes...)
	if err != nil {
		return nil, err
	}
	rows, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	return byID(rows, func(g *ent.SecurityGroup) uuid.UUID { return g.ID }), nil
}

func customFieldValuesBatch(ctx context.Context, client *ent.Client, ids []uuid.UUID) (map[uuid.UUID][]*ent.CustomFieldValue, error) {
	q, err := client.CustomFieldValue.Query().
		Where(customfieldvalue.RecordIDIn(ids...)).
		Order(ent.Asc(customfieldvalue.FieldID)).
		CollectFields(ctx, cfvTypes...)
	if err != nil {
		return nil, err
	}
	// record_id groups the rows, so it is read whatever the selection.
	q.Modify(func(s *sql.Selector) {
		c := s.C(customfieldvalue.FieldRecordID)
		if !slices.Contains(s.SelectedColumns(), c) {
			s.AppendSelect(c)
		}
	})
	rows, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[uuid.UUID][]*ent.CustomFieldValue, len(ids))
	for _, v := range rows {
		m[v.RecordID] = append(m[v.RecordID], v)
	}
	return m, nil
}

func delayedCountsBatch(ctx context.Context, client *ent.Client, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	var rows []struct {
		AutomationID uuid.UUID `json:"automation_id"`
		Count        int       `json:"count"`
	}
	err := client.DelayedAutomation.Query().
		Where(delayedautomation.AutomationIDIn(ids...), delayedautomation.DoneAtIsNil()).
		GroupBy(delayedautomation.FieldAutomationID).
		Aggregate(ent.Count()).
		Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	m := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		m[r.AutomationID] = r.Count
	}
	return m, nil
}

// byID indexes rows by the id that id returns.
func byID[T any](rows []T, id func(T) uuid.UUID) map[uuid.UUID]T {
	m := make(map[uuid.UUID]T, len(rows))
	for _, r := range rows {
		m[id(r)] = r
	}
	return m
}
