package crm

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/internal/fault"
)

// CustomFieldEntities are the entities custom fields can be defined on.
var CustomFieldEntities = []string{
	string(customfield.EntityAccount), string(customfield.EntityContact), string(customfield.EntityLead),
	string(customfield.EntityTask), string(customfield.EntityAppointment), string(customfield.EntityFollowup),
}

// CustomFieldTypes are the types a custom field can have.
var CustomFieldTypes = []string{
	string(customfield.FieldTypeText), string(customfield.FieldTypeTextarea), string(customfield.FieldTypeNumber),
	string(customfield.FieldTypeDate), string(customfield.FieldTypeDatetime), string(customfield.FieldTypeBoolean),
	string(customfield.FieldTypeSelect), string(customfield.FieldTypeMultiselect),
}

// CustomFieldInput is a custom field create or update; nil means "not
// given" (on update: keep the stored value).
type CustomFieldInput struct {
	Entity    *string
	FieldName *string
	FieldType *string
	Options   *string // a JSON encoded object
}

// ListCustomFields returns the live custom fields of the tenant in creation
// order, only those of entity when it is not "". An unknown entity is
// Invalid (not an empty list), so a typo in a client shows.
func (s *Service) ListCustomFields(ctx context.Context, entity string) ([]*ent.CustomField, error) {
	if err := Require(ctx, PermCustomFieldRead); err != nil {
		return nil, err
	}
	q := s.db.CustomField.Query().Order(customfield.ByDateCreated(), customfield.ByID())
	if entity != "" {
		if customfield.EntityValidator(customfield.Entity(entity)) != nil {
			return nil, fault.FieldError("entity", "must be one of "+strings.Join(CustomFieldEntities, ", "))
		}
		q.Where(customfield.EntityEQ(customfield.Entity(entity)))
	}
	fields, err := q.All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return fields, nil
}

// CreateCustomField defines a new field: entity, fieldName and fieldType
// are required; options defaults to "{}".
func (s *Service) CreateCustomField(ctx context.Context, in CustomFieldInput) (*ent.CustomField, error) {
	if err := Require(ctx, PermCustomFieldManage); err != nil {
		return nil, err
	}
	var v fault.Validation
	for field, val := range map[string]*string{"entity": in.Entity, "fieldName": in.FieldName, "fieldType": in.FieldType} {
		if val == nil || strings.TrimSpace(*val) == "" {
			v.Add(field, "is required")
		}
	}
	if in.Options == nil {
		in.Options = new("{}")
	}
	checkCustomFieldInput(&v, in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var created *ent.CustomField
	err := s.inTx(ctx, func(tx *ent.Client) error {
		if err := checkFieldNameFree(ctx, tx, *in.Entity, *in.FieldName, uuid.Nil); err != nil {
			return err
		}
		var err error
		created, err = tx.CustomField.Create().
			SetEntity(customfield.Entity(*in.Entity)).
			SetFieldName(*in.FieldName).
			SetFieldType(customfield.FieldType(*in.FieldType)).
			SetOptions(*in.Options).
			Save(ctx)
		if err != nil {
			return fieldNameTaken(err)
		}
		return s.emitChange(ctx, tx, RecordCustomField, "created", created.ID, nil, customFieldState(created))
	})
	if err != nil {
		return nil, err
	}
	return created.Unwrap(), nil
}

// customFieldState is a custom field's API fields as its events report them.
func customFieldState(f *ent.CustomField) fields {
	return fields{"entity": string(f.Entity), "fieldName": f.FieldName, "fieldType": string(f.FieldType), "options": f.Options}
}

// UpdateCustomField changes a field's name and options. Its entity and type
// are fixed once created, because the stored values were checked against
// them: sending the current ones is accepted, different ones are Invalid.
func (s *Service) UpdateCustomField(ctx context.Context, id uuid.UUID, in CustomFieldInput) (*ent.CustomField, error) {
	if err := Require(ctx, PermCustomFieldManage); err != nil {
		return nil, err
	}
	var updated *ent.CustomField
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.CustomField.Get(ctx, id)
		if err != nil {
			return err
		}
		var v fault.Validation
		if in.Entity != nil && *in.Entity != string(cur.Entity) {
			v.Add("entity", "cannot be changed once the field exists")
		}
		if in.FieldType != nil && *in.FieldType != string(cur.FieldType) {
			v.Add("fieldType", "cannot be changed once the field exists")
		}
		if in.FieldName != nil && strings.TrimSpace(*in.FieldName) == "" {
			v.Add("fieldName", "must not be blank")
		}
		// Options are checked against the stored type, so a select field
		// cannot lose its choices.
		merged := CustomFieldInput{
			Entity: new(string(cur.Entity)), FieldType: new(string(cur.FieldType)),
			FieldName: in.FieldName, Options: in.Options,
		}
		if !v.Has("entity") && !v.Has("fieldType") {
			checkCustomFieldInput(&v, merged)
		}
		if err := v.Err(); err != nil {
			return err
		}
		upd := tx.CustomField.UpdateOne(cur)
		if in.FieldName != nil && *in.FieldName != cur.FieldName {
			if err := checkFieldNameFree(ctx, tx, string(cur.Entity), *in.FieldName, cur.ID); err != nil {
				return err
			}
			upd.SetFieldName(*in.FieldName)
		}
		if in.Options != nil {
			upd.SetOptions(*in.Options)
		}
		if updated, err = upd.Save(ctx); err != nil {
			return fieldNameTaken(err)
		}
		return s.emitChange(ctx, tx, RecordCustomField, "updated", id, customFieldState(cur), customFieldState(updated))
	})
	if err != nil {
		return nil, err
	}
	return updated.Unwrap(), nil
}

// DeleteCustomField soft-deletes a field and all its values at once, so no
// record keeps a value of a field that no longer exists.
func (s *Service) DeleteCustomField(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermCustomFieldManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.CustomField.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.CustomField.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.CustomFieldValue.Delete().Where(customfieldvalue.FieldIDEQ(id)).Exec(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordCustomField, "deleted", id, customFieldState(cur), nil)
	})
}

// checkCustomFieldInput adds the errors of the given (non-nil) values of in.
func checkCustomFieldInput(v *fault.Validation, in CustomFieldInput) {
	if in.Entity != nil && !v.Has("entity") && customfield.EntityValidator(customfield.Entity(*in.Entity)) != nil {
		v.Add("entity", "must be one of "+strings.Join(CustomFieldEntities, ", "))
	}
	if in.FieldName != nil && len(*in.FieldName) > 255 {
		v.Add("fieldName", "must be at most 255 characters")
	}
	typeOK := in.FieldType != nil && customfield.FieldTypeValidator(customfield.FieldType(*in.FieldType)) == nil
	if in.FieldType != nil && !v.Has("fieldType") && !typeOK {
		v.Add("fieldType", "must be one of "+strings.Join(CustomFieldTypes, ", "))
	}
	if in.Options != nil && typeOK {
		if _, err := parseCustomFieldOptions(customfield.FieldType(*in.FieldType), *in.Options); err != nil {
			v.Add("options", err.Error())
		}
	}
}

// checkFieldNameFree returns Invalid when another live field of entity
// already has name. The partial unique index enforces the same rule; this
// check gives the client a clear message instead of a constraint error.
func checkFieldNameFree(ctx context.Context, tx *ent.Client, entity, name string, self uuid.UUID) error {
	taken, err := tx.CustomField.Query().
		Where(customfield.EntityEQ(customfield.Entity(entity)), customfield.FieldName(name), customfield.IDNEQ(self)).
		Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return fault.FieldError("fieldName", fmt.Sprintf("a %s custom field named %q already exists", entity, name))
	}
	return nil
}

// fieldNameTaken turns the unique index's violation (a concurrent create of
// the same name) into the same Invalid error checkFieldNameFree returns.
func fieldNameTaken(err error) error {
	if ent.IsConstraintError(err) {
		return fault.FieldError("fieldName", "a custom field with this name already exists")
	}
	return err
}
