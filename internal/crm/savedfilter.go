package crm

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/predicate"
	"github.com/conecrm/gateway/ent/savedfilter"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/viewer"
)

// SavedFilters is the saved-filter service: named query-builder queries
// over one module (entity).
//
// Visibility: a user sees their own filters and the shared (not private)
// filters of their tenant. Only the owner may change or delete a filter.
// Another user's private filter answers Forbidden on every route, reads
// included, as the spec documents 403 for GET /api/saved-filter/{id}:
// within a tenant the ids are not secret, and the list never shows those
// filters. Another tenant's filter is NotFound, like an unknown id.
type SavedFilters struct{ svc *Service }

// SavedFilters returns the saved-filter service.
func (s *Service) SavedFilters() SavedFilters { return SavedFilters{s} }

// SavedFilterInput is a create or a partial update; nil fields are not
// given. Owner, tenant and audit fields are never taken from the client.
type SavedFilterInput struct {
	Name    *string
	Module  *string
	Value   *string
	Private *bool
}

// VisibleSavedFilters selects the filters the viewer of ctx may see: their
// own and the tenant's shared ones (GraphQL's savedFilters list uses it too).
func VisibleSavedFilters(ctx context.Context) predicate.SavedFilter {
	v := viewer.FromContext(ctx)
	if v == nil {
		return savedfilter.Private(false)
	}
	return savedfilter.Or(savedfilter.OwnerID(v.UserID), savedfilter.Private(false))
}

// List returns the viewer's own filters and the tenant's shared ones, by name.
func (s SavedFilters) List(ctx context.Context) ([]*ent.SavedFilter, error) {
	if err := Require(ctx, PermSavedFilterRead); err != nil {
		return nil, err
	}
	fs, err := s.svc.db.SavedFilter.Query().
		Where(VisibleSavedFilters(ctx)).
		Order(ent.Asc(savedfilter.FieldName), ent.Asc(savedfilter.FieldID)).
		All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return fs, nil
}

// Get returns a filter the viewer may see.
func (s SavedFilters) Get(ctx context.Context, id uuid.UUID) (*ent.SavedFilter, error) {
	if err := Require(ctx, PermSavedFilterRead); err != nil {
		return nil, err
	}
	f, err := s.svc.db.SavedFilter.Get(ctx, id)
	if err != nil {
		return nil, AsError(err)
	}
	if f.Private && f.OwnerID != viewer.FromContext(ctx).UserID {
		return nil, fault.Errorf(fault.Forbidden, "Access denied")
	}
	return f, nil
}

// Create saves a new filter owned by the viewer; it is private unless
// in.Private says otherwise.
func (s SavedFilters) Create(ctx context.Context, in SavedFilterInput) (*ent.SavedFilter, error) {
	if err := Require(ctx, PermSavedFilterWrite); err != nil {
		return nil, err
	}
	var val fault.Validation
	for _, req := range []struct {
		name string
		v    *string
	}{{"name", in.Name}, {"module", in.Module}, {"value", in.Value}} {
		if req.v == nil || strings.TrimSpace(*req.v) == "" {
			val.Add(req.name, "This value should not be blank.")
		}
	}
	if in.Name != nil && strings.ContainsRune(*in.Name, 0) {
		val.Add("name", "must not contain NUL characters")
	}
	if err := val.Err(); err != nil {
		return nil, err
	}
	if err := s.check(ctx, s.svc.db, *in.Module, *in.Value); err != nil {
		return nil, err
	}
	var out *ent.SavedFilter
	err := s.svc.inTx(ctx, func(tx *ent.Client) error {
		c := tx.SavedFilter.Create().
			SetName(strings.TrimSpace(*in.Name)).SetModule(*in.Module).SetValue(*in.Value).
			SetOwnerID(viewer.FromContext(ctx).UserID).SetPrivate(true)
		if in.Private != nil {
			c.SetPrivate(*in.Private)
		}
		f, err := c.Save(ctx)
		if err != nil {
			return err
		}
		out = f
		return s.svc.emitChange(ctx, tx, RecordSavedFilter, "created", f.ID, nil, savedFilterState(f))
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// savedFilterState is a saved filter's API fields as its events report them.
func savedFilterState(f *ent.SavedFilter) fields {
	return fields{"name": f.Name, "module": f.Module, "value": f.Value, "private": f.Private, "owner": f.OwnerID}
}

// Update changes the given fields of the viewer's own filter; a changed
// module or value must still make a valid query.
func (s SavedFilters) Update(ctx context.Context, id uuid.UUID, in SavedFilterInput) (*ent.SavedFilter, error) {
	var out *ent.SavedFilter
	err := s.svc.inTx(ctx, func(tx *ent.Client) error {
		f, err := s.owned(ctx, tx, id)
		if err != nil {
			return err
		}
		u := tx.SavedFilter.UpdateOne(f)
		if in.Name != nil {
			switch {
			case strings.TrimSpace(*in.Name) == "":
				return fault.FieldError("name", "This value should not be blank.")
			case strings.ContainsRune(*in.Name, 0):
				return fault.FieldError("name", "must not contain NUL characters")
			}
			u.SetName(strings.TrimSpace(*in.Name))
		}
		module, value := f.Module, f.Value
		if in.Module != nil {
			module = *in.Module
			u.SetModule(module)
		}
		if in.Value != nil {
			value = *in.Value
			u.SetValue(value)
		}
		if in.Module != nil || in.Value != nil {
			if err := s.check(ctx, tx, module, value); err != nil {
				return err
			}
		}
		if in.Private != nil {
			u.SetPrivate(*in.Private)
		}
		if out, err = u.Save(ctx); err != nil {
			return err
		}
		return s.svc.emitChange(ctx, tx, RecordSavedFilter, "updated", id, savedFilterState(f), savedFilterState(out))
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// Delete deletes the viewer's own filter.
func (s SavedFilters) Delete(ctx context.Context, id uuid.UUID) error {
	return s.svc.inTx(ctx, func(tx *ent.Client) error {
		f, err := s.owned(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.SavedFilter.DeleteOne(f).Exec(ctx); err != nil {
			return err
		}
		return s.svc.emitChange(ctx, tx, RecordSavedFilter, "deleted", id, savedFilterState(f), nil)
	})
}

// owned reads filter id in the write's transaction when the viewer may
// write it: they own it.
func (s SavedFilters) owned(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.SavedFilter, error) {
	if err := Require(ctx, PermSavedFilterWrite); err != nil {
		return nil, err
	}
	f, err := tx.SavedFilter.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if f.OwnerID != viewer.FromContext(ctx).UserID {
		return nil, fault.Errorf(fault.Forbidden, "Access denied")
	}
	return f, nil
}

// check validates value for module and reports problems on the input
// fields: an unknown module on "module", a bad query on "value".
func (s SavedFilters) check(ctx context.Context, db *ent.Client, module, value string) error {
	err := checkFilter(ctx, db, module, []byte(value))
	var e *fault.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case fault.NotFound:
		return fault.FieldError("module", "unknown module "+strconv.Quote(module))
	case fault.Invalid:
		return fault.FieldError("value", e.Message)
	}
	return err
}
