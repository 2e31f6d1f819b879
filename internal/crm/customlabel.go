package crm

import (
	"context"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customlabel"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/viewer"
)

// errLabelValue is the spec's documented 400 of the custom label writes.
var errLabelValue = &fault.Error{Code: fault.Invalid, Message: "value is required", Fields: map[string][]string{"value": {"is required"}}}

// CustomLabels returns the tenant's live custom labels in creation order.
func (s *Service) CustomLabels(ctx context.Context) ([]*ent.CustomLabel, error) {
	if err := Require(ctx, PermCustomLabelRead); err != nil {
		return nil, err
	}
	labels, err := s.db.CustomLabel.Query().Order(customlabel.ByDateCreated(), customlabel.ByID()).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return labels, nil
}

// CreateCustomLabel stores value, which must be a JSON object (decoded:
// a map[string]any); anything else, null included, is the documented
// "value is required".
func (s *Service) CreateCustomLabel(ctx context.Context, value any) (*ent.CustomLabel, error) {
	if err := Require(ctx, PermCustomLabelManage); err != nil {
		return nil, err
	}
	obj, ok := value.(map[string]any)
	if !ok || obj == nil {
		return nil, errLabelValue
	}
	var out *ent.CustomLabel
	err := s.inTx(ctx, func(tx *ent.Client) error {
		l, err := tx.CustomLabel.Create().SetValue(obj).Save(ctx)
		if err != nil {
			return err
		}
		out = l
		return s.emitChange(ctx, tx, RecordCustomLabel, "created", l.ID, nil, fields{"value": l.Value})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// UpdateCustomLabel replaces a label's value (a JSON object, as on create).
func (s *Service) UpdateCustomLabel(ctx context.Context, id uuid.UUID, value any) (*ent.CustomLabel, error) {
	if err := Require(ctx, PermCustomLabelManage); err != nil {
		return nil, err
	}
	obj, ok := value.(map[string]any)
	if !ok || obj == nil {
		return nil, errLabelValue
	}
	var out *ent.CustomLabel
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.CustomLabel.Get(ctx, id)
		if err != nil {
			return err
		}
		if out, err = tx.CustomLabel.UpdateOneID(id).SetValue(obj).Save(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordCustomLabel, "updated", id, fields{"value": cur.Value}, fields{"value": out.Value})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// DeleteCustomLabel soft-deletes a label.
func (s *Service) DeleteCustomLabel(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermCustomLabelManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.CustomLabel.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.CustomLabel.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordCustomLabel, "deleted", id, fields{"value": cur.Value}, nil)
	})
}

// ViewerTenant returns the viewer's tenant (custom labels embed it).
func (s *Service) ViewerTenant(ctx context.Context) (*ent.Tenant, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, fault.Errorf(fault.Unauthenticated, "not authenticated")
	}
	t, err := s.db.Tenant.Query().Where(tenant.ID(v.TenantID)).Only(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return t, nil
}
