package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/internal/fault"
)

// CustomFieldValueInput is one custom field value a client sends with a
// record (the spec's customFieldValues[]: {field: {id}, value}).
type CustomFieldValueInput struct {
	FieldID uuid.UUID
	Value   string
}

// CheckedCustomFieldValue is a value that passed CheckCustomFieldValues,
// ready to be stored as a custom_field_values row.
type CheckedCustomFieldValue struct {
	Field *ent.CustomField
	Value string
}

// CheckCustomFieldValues checks values against the live custom fields of
// entity (account, contact, lead…) in the viewer's tenant, in one query:
// every field must exist for that entity, appear once, and each value must
// fit its field's type (see checkValue). An empty value is accepted for any
// type and means "no value". The error is Invalid and names the offending
// input as customFieldValues[i].field or customFieldValues[i].value.
//
// client may be a transaction's client; nothing is written.
func CheckCustomFieldValues(ctx context.Context, client *ent.Client, entity string, values []CustomFieldValueInput) ([]CheckedCustomFieldValue, error) {
	if len(values) == 0 {
		return nil, nil
	}
	fieldIDs := make([]uuid.UUID, 0, len(values))
	for _, v := range values {
		fieldIDs = append(fieldIDs, v.FieldID)
	}
	fields, err := client.CustomField.Query().
		Where(customfield.IDIn(fieldIDs...), customfield.EntityEQ(customfield.Entity(entity))).
		All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	byID := make(map[uuid.UUID]*ent.CustomField, len(fields))
	for _, f := range fields {
		byID[f.ID] = f
	}
	var (
		v       fault.Validation
		checked = make([]CheckedCustomFieldValue, 0, len(values))
		seen    = make(map[uuid.UUID]bool, len(values))
	)
	for i, in := range values {
		path := fmt.Sprintf("customFieldValues[%d]", i)
		f := byID[in.FieldID]
		switch {
		case f == nil:
			v.Add(path+".field", fmt.Sprintf("unknown %s custom field", entity))
			continue
		case seen[f.ID]:
			v.Add(path+".field", fmt.Sprintf("custom field %q is given more than once", f.FieldName))
			continue
		}
		seen[f.ID] = true
		if in.Value != "" {
			if msg := checkValue(f, in.Value); msg != "" {
				v.Add(path+".value", fmt.Sprintf("custom field %q: %s", f.FieldName, msg))
				continue
			}
		}
		checked = append(checked, CheckedCustomFieldValue{Field: f, Value: in.Value})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return checked, nil
}

// checkValue returns why value does not fit field f's type, or "".
// Values are strings on the wire; their formats per type:
//   - number: a finite decimal number, within options.min/max when set
//   - date: YYYY-MM-DD; datetime: RFC 3339
//   - boolean: "true" or "false"
//   - select: one of options.choices
//   - multiselect: a JSON array of distinct options.choices
func checkValue(f *ent.CustomField, value string) string {
	// The options were validated when the field was written; a row written
	// some other way with broken options accepts no typed value.
	opts, err := parseCustomFieldOptions(f.FieldType, f.Options)
	if err != nil {
		return "the field's options are invalid"
	}
	switch f.FieldType {
	case customfield.FieldTypeNumber:
		n, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return "must be a number"
		}
		if opts.Min != nil && n < *opts.Min {
			return fmt.Sprintf("must be at least %v", *opts.Min)
		}
		if opts.Max != nil && n > *opts.Max {
			return fmt.Sprintf("must be at most %v", *opts.Max)
		}
	case customfield.FieldTypeDate:
		if _, err := time.Parse(time.DateOnly, value); err != nil {
			return "must be a date (YYYY-MM-DD)"
		}
	case customfield.FieldTypeDatetime:
		if _, err := time.Parse(time.RFC3339, value); err != nil {
			return "must be an RFC 3339 date-time"
		}
	case customfield.FieldTypeBoolean:
		if value != "true" && value != "false" {
			return `must be "true" or "false"`
		}
	case customfield.FieldTypeSelect:
		if !slices.Contains(opts.Choices, value) {
			return "must be one of the field's choices"
		}
	case customfield.FieldTypeMultiselect:
		var picked []string
		if err := json.Unmarshal([]byte(value), &picked); err != nil {
			return "must be a JSON array of the field's choices"
		}
		seen := map[string]bool{}
		for _, p := range picked {
			if !slices.Contains(opts.Choices, p) || seen[p] {
				return "must be a JSON array of distinct choices of the field"
			}
			seen[p] = true
		}
	}
	return ""
}

// customFieldOptions are the options a custom field's type uses; other keys
// of the options object are kept for the front end but not interpreted.
type customFieldOptions struct {
	Choices []string // select, multiselect: the allowed values
	Min     *float64 // number: inclusive bounds
	Max     *float64
}

// parseCustomFieldOptions decodes raw (a JSON object) for a field of type t.
// Its errors are messages about the options field.
func parseCustomFieldOptions(t customfield.FieldType, raw string) (customFieldOptions, error) {
	var (
		opts customFieldOptions
		obj  map[string]json.RawMessage
	)
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return opts, fmt.Errorf("must be a JSON encoded object")
	}
	if c, ok := obj["choices"]; ok {
		if err := json.Unmarshal(c, &opts.Choices); err != nil {
			return opts, fmt.Errorf("choices must be an array of strings")
		}
		seen := map[string]bool{}
		for _, choice := range opts.Choices {
			if strings.TrimSpace(choice) == "" || seen[choice] {
				return opts, fmt.Errorf("choices must be distinct, non-blank strings")
			}
			seen[choice] = true
		}
	}
	if (t == customfield.FieldTypeSelect || t == customfield.FieldTypeMultiselect) && len(opts.Choices) == 0 {
		return opts, fmt.Errorf("choices (a non-empty array of strings) is required for a %s field", t)
	}
	for key, dst := range map[string]**float64{"min": &opts.Min, "max": &opts.Max} {
		if b, ok := obj[key]; ok && string(b) != "null" {
			if err := json.Unmarshal(b, dst); err != nil {
				return opts, fmt.Errorf("%s must be a number", key)
			}
		}
	}
	if opts.Min != nil && opts.Max != nil && *opts.Min > *opts.Max {
		return opts, fmt.Errorf("min must not be greater than max")
	}
	return opts, nil
}
