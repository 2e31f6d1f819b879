package querybuilder

// An entity's built-in fields are declared by the domain layer next to
// the entity (internal/crm, with its finder) from the constructors here,
// and given to New: the compiler holds no entity's fields. Every
// identifier they name (columns, tables) comes from that Go code, never
// from a request.

// Target is a related table and the column a rule on the relation itself
// compares there besides the id: "stage = New" compares the stage's name.
type Target struct {
	Table, Column string
	// Options: the table is the tenant's reference data, kept by its
	// administrators (stages, users, groups…), whose records a relation
	// field compared by id offers as value options (OptionSources), so a
	// query-builder UI renders a dropdown. Customers and leads are not
	// offered: they are unbounded, and a UI searches them instead.
	Options bool
}

// Join is a many-to-many join table: Own holds the entity's id, Other the
// related row's id.
type Join struct{ Table, Own, Other string }

func own(t Type, name, column string, nullable bool) Field {
	return Field{Name: name, Label: labelOf(name), Type: t, src: location{kind: kindOwn, column: column, nullable: nullable, whole: t == TypeNumber}}
}

// Str … OptInstant are columns of the entity's own table, of their type;
// the Opt… ones may be NULL.
func Str(name, column string) Field        { return own(TypeString, name, column, false) }
func OptStr(name, column string) Field     { return own(TypeString, name, column, true) }
func Num(name, column string) Field        { return own(TypeNumber, name, column, false) }
func OptNum(name, column string) Field     { return own(TypeNumber, name, column, true) }
func Flag(name, column string) Field       { return own(TypeBoolean, name, column, false) }
func OptFlag(name, column string) Field    { return own(TypeBoolean, name, column, true) }
func Instant(name, column string) Field    { return own(TypeDateTime, name, column, false) }
func OptInstant(name, column string) Field { return own(TypeDateTime, name, column, true) }

// Enum is an own column holding one of values.
func Enum(name, column string, nullable bool, values ...string) Field {
	f := own(TypeEnum, name, column, nullable)
	f.Values = values
	return f
}

// Ref is a to-one relation compared by the related row's id or by its
// target's column (a name, an email…); with several targets (a task's
// assignee: a user or a group) the id may name a row of any of them.
func Ref(name, fk string, targets ...Target) Field {
	return Field{Name: name, Label: labelOf(name), Type: TypeString,
		src: location{kind: kindToOne, fk: fk, targets: targets, byID: true}}
}

// ToOne is a column of the row a foreign key names.
func ToOne(name string, t Type, fk string, tg Target, values ...string) Field {
	return Field{Name: name, Label: labelOf(name), Type: t, Values: values,
		src: location{kind: kindToOne, fk: fk, targets: []Target{tg}}}
}

// ToMany is a column of rows linked through a join table: a rule matches
// when any linked row satisfies it; byID compares the linked rows' ids
// too, as Ref does.
func ToMany(name string, j Join, tg Target, byID bool) Field {
	return Field{Name: name, Label: labelOf(name), Type: TypeString,
		src: location{kind: kindToMany, join: j, targets: []Target{tg}, byID: byID}}
}
