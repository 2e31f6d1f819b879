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

// IsCustom reports whether f is a custom field.
func (f Field) IsCustom() bool { return f.src.kind == kindCustom }

// ByID reports whether f compares a relation's id as well as its name.
func (f Field) ByID() bool { return f.src.byID }
