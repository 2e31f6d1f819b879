package querybuilder

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
)

// Field is one filterable field of an entity.
type Field struct {
	// Name is what rules use: "lastName", "contact.lastName", "stage",
	// "custom.budget".
	Name  string
	Label string
	Type  Type
	// Values are the values an enum allows (a select custom field's choices).
	Values []string
	src    location
}

// Operators returns the operators valid for the field.
func (f Field) Operators() []Operator { return operatorsByType[f.Type] }

// Sortable reports whether rows can be ordered by the field: a column of
// the entity's own table.
func (f Field) Sortable() bool { return f.src.kind == kindOwn }

// kind says where a field's value lives.
type kind uint8

const (
	kindOwn    kind = iota // a column of the entity's table
	kindToOne              // a column of the row a foreign key of the entity names
	kindToMany             // a column of rows linked through a join table
	kindCustom             // the tenant's custom field value of the record
)

// location is where a field is read; every identifier in it comes from
// the constructors' Go callers (fields.go), never from a request.
type location struct {
	kind     kind
	column   string   // own column (kindOwn)
	nullable bool     // the own column may be NULL
	whole    bool     // a number column holding whole numbers
	fk       string   // kindToOne: the entity's column holding the related id
	join     Join     // kindToMany: the join table
	targets  []Target // kindToOne, kindToMany: related table(s) and compared column
	// byID: "=", "!=", "in" and "notIn" compare a value that is a UUID with
	// the related row's id and any other with the target column, so
	// "stage = <id>" and "stage = New" both work.
	byID     bool
	customID uuid.UUID // kindCustom: the custom field
	multi    bool      // a multiselect custom field: its value is a JSON array of choices
}

// Catalogue is the filterable fields of one entity for one tenant: the
// built-in fields and the tenant's custom fields (custom.<fieldName>).
type Catalogue struct {
	Entity string
	fields []Field
	byName map[string]int
	table  string
	tenant uuid.UUID
	// denied are the built-in fields left out for want of a read
	// permission (field → permission); customDenied is the permission
	// custom fields need when the viewer lacks it.
	denied       map[string]string
	customDenied string
	// options are the relation fields' value options, once SetOptions
	// has given them (field name → options).
	options map[string]OptionSet
}

// Fields returns the catalogue's fields, built-in first, then custom fields
// by name.
func (c *Catalogue) Fields() []Field { return c.fields }

// Field returns the field with name.
func (c *Catalogue) Field(name string) (Field, bool) {
	i, ok := c.byName[name]
	if !ok {
		return Field{}, false
	}
	return c.fields[i], true
}

// Entities returns the names of the entities that have a catalogue, in the
// registry's order.
func Entities() []string {
	var names []string
	for _, e := range registry.Filterable() {
		names = append(names, e.Filter)
	}
	return names
}

// New returns the catalogue of entity (a registry Filter name) for a
// viewer of tenant. The domain layer gives what the catalogue holds and
// decides what the viewer may use (crm.Service.FilterCatalogue): fields
// are the entity's built-in fields (declared next to the entity, from
// the constructors of fields.go); readable returns nil for a table the
// viewer may read, else the refusal naming its permission (a
// *registry.ForbiddenError). The catalogue holds only the fields the viewer
// may use: a relation path (contact.lastName, assignees…) needs the read
// permission of the records it reads, custom fields that of custom field
// values; a rule on another field is a bad request naming the rule and the
// permission. custom are the tenant's custom fields of the entity, ignored
// when custom field values are not readable. An entity the registry does
// not list as filterable, or without fields, is NotFound.
func New(entity string, tenant uuid.UUID, fields []Field, readable func(table string) error, custom []*ent.CustomField) (*Catalogue, error) {
	e := registry.ByFilter(entity)
	if e == nil || len(fields) == 0 {
		return nil, fault.Errorf(fault.NotFound, "Entity %q not found", entity)
	}
	denial := func(table string) *registry.ForbiddenError {
		var fe *registry.ForbiddenError
		if errors.As(readable(table), &fe) {
			return fe
		}
		return nil
	}
	c := &Catalogue{Entity: e.Filter, table: e.Table, tenant: tenant, byName: map[string]int{}, denied: map[string]string{}}
	for _, f := range fields {
		if fe := f.readable(denial); fe != nil {
			c.denied[f.Name] = fe.Permission
			continue
		}
		c.fields = append(c.fields, f)
	}
	if fe := denial(customfieldvalue.Table); fe == nil {
		for _, cf := range custom {
			c.fields = append(c.fields, customField(cf))
		}
	} else {
		c.customDenied = fe.Permission
	}
	for i, f := range c.fields {
		c.byName[f.Name] = i
	}
	return c, nil
}

// Reads returns the tables other than the entity's own that a rule on f
// reads: related records, or custom field values.
func (f Field) Reads() []string {
	var tables []string
	for _, t := range f.src.targets {
		tables = append(tables, t.Table)
	}
	if f.src.kind == kindCustom {
		tables = append(tables, customfieldvalue.Table)
	}
	return tables
}

// readable returns nil when denial refuses none of the tables a rule on f
// reads, else the first refusal.
func (f Field) readable(denial func(table string) *registry.ForbiddenError) *registry.ForbiddenError {
	for _, t := range f.Reads() {
		if fe := denial(t); fe != nil {
			return fe
		}
	}
	return nil
}

// customField types a tenant's custom field: select and multiselect are
// enums of their choices; text and textarea are strings.
func customField(cf *ent.CustomField) Field {
	f := Field{
		Name:  "custom." + cf.FieldName,
		Label: labelOf(cf.FieldName),
		src:   location{kind: kindCustom, customID: cf.ID},
	}
	switch cf.FieldType {
	case customfield.FieldTypeNumber:
		f.Type = TypeNumber
	case customfield.FieldTypeDate:
		f.Type = TypeDate
	case customfield.FieldTypeDatetime:
		f.Type = TypeDateTime
	case customfield.FieldTypeBoolean:
		f.Type = TypeBoolean
	case customfield.FieldTypeSelect:
		f.Type, f.Values = TypeEnum, choices(cf.Options)
	case customfield.FieldTypeMultiselect:
		// An enum whose "=" means "holds the choice" and "in" "holds any".
		f.Type, f.Values, f.src.multi = TypeEnum, choices(cf.Options), true
	default:
		f.Type = TypeString
	}
	return f
}

// choices reads the choices of a select field's options,
// {"choices": ["a", "b"]} (see crm.parseCustomFieldOptions). Malformed
// options leave it without choices, so no value is allowed, rather than
// failing every query of the entity.
func choices(options string) []string {
	var o struct {
		Choices []string `json:"choices"`
	}
	if json.Unmarshal([]byte(options), &o) != nil || o.Choices == nil {
		return []string{}
	}
	return o.Choices
}

// labelOf turns a field name into a label: "contact.lastName" → "Contact
// last name".
func labelOf(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r == '.' || r == '_':
			b.WriteRune(' ')
		case unicode.IsUpper(r) && i > 0:
			b.WriteRune(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	rs := []rune(strings.Join(strings.Fields(b.String()), " "))
	if len(rs) > 0 {
		rs[0] = unicode.ToUpper(rs[0])
	}
	return string(rs)
}
