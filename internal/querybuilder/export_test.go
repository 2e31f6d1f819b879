package querybuilder

// The tests are package querybuilder_test: they use the databases of
// internal/testing/storetest, which imports this package (through the
// demo data's crm). These are the internals they check.

var (
	NumberForm, DateForm, DateTimeForm = numberForm, dateForm, dateTimeForm
	MaxNumberText                      = maxNumberText
	Positive                           = positive
	Values                             = values
	CustomArgs                         = customArgs
	LabelOf                            = labelOf
)

// FieldsOf returns entity's built-in fields; nil when it has none.
func FieldsOf(entity string) []Field {
	if f := fieldsOf[entity]; f != nil {
		return f()
	}
	return nil
}

// EntitiesWithFields is the number of entities with built-in fields.
func EntitiesWithFields() int { return len(fieldsOf) }

// IsCustom reports whether f is a custom field.
func (f Field) IsCustom() bool { return f.src.kind == kindCustom }

// ByID reports whether f compares a relation's id as well as its name.
func (f Field) ByID() bool { return f.src.byID }
