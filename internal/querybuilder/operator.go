package querybuilder

// Type is a field's value type in the catalogue.
type Type string

const (
	TypeString   Type = "string"
	TypeNumber   Type = "number"
	TypeBoolean  Type = "boolean"
	TypeDate     Type = "date"     // a calendar day, "YYYY-MM-DD"
	TypeDateTime Type = "datetime" // an instant, RFC 3339
	TypeEnum     Type = "enum"     // one of Field.Values
)

// Operator is one of react-querybuilder's operators.
type Operator string

const (
	OpEqual            Operator = "="
	OpNotEqual         Operator = "!="
	OpLess             Operator = "<"
	OpLessOrEqual      Operator = "<="
	OpGreater          Operator = ">"
	OpGreaterOrEqual   Operator = ">="
	OpContains         Operator = "contains"
	OpDoesNotContain   Operator = "doesNotContain"
	OpBeginsWith       Operator = "beginsWith"
	OpDoesNotBeginWith Operator = "doesNotBeginWith"
	OpEndsWith         Operator = "endsWith"
	OpDoesNotEndWith   Operator = "doesNotEndWith"
	OpNull             Operator = "null"
	OpNotNull          Operator = "notNull"
	OpIn               Operator = "in"
	OpNotIn            Operator = "notIn"
	OpBetween          Operator = "between"
	OpNotBetween       Operator = "notBetween"
)

// Operators lists every operator in react-querybuilder's order.
var Operators = []Operator{
	OpEqual, OpNotEqual, OpLess, OpLessOrEqual, OpGreater, OpGreaterOrEqual,
	OpContains, OpBeginsWith, OpEndsWith, OpDoesNotContain, OpDoesNotBeginWith, OpDoesNotEndWith,
	OpNull, OpNotNull, OpIn, OpNotIn, OpBetween, OpNotBetween,
}

// labels are react-querybuilder's default operator labels.
var labels = map[Operator]string{
	OpEqual: "=", OpNotEqual: "!=", OpLess: "<", OpLessOrEqual: "<=", OpGreater: ">", OpGreaterOrEqual: ">=",
	OpContains: "contains", OpBeginsWith: "begins with", OpEndsWith: "ends with",
	OpDoesNotContain: "does not contain", OpDoesNotBeginWith: "does not begin with", OpDoesNotEndWith: "does not end with",
	OpNull: "is null", OpNotNull: "is not null", OpIn: "in", OpNotIn: "not in",
	OpBetween: "between", OpNotBetween: "not between",
}

// Label returns the operator's human-readable label.
func (o Operator) Label() string { return labels[o] }

// negations maps each negative operator to the positive one it complements.
// Every rule compiles to a two-valued predicate (a missing value never
// satisfies a positive operator), so a negative operator matches exactly the
// rows its positive twin does not: "!=" includes rows without a value, and
// "null" is the complement of "notNull".
var negations = map[Operator]Operator{
	OpNotEqual:         OpEqual,
	OpDoesNotContain:   OpContains,
	OpDoesNotBeginWith: OpBeginsWith,
	OpDoesNotEndWith:   OpEndsWith,
	OpNull:             OpNotNull,
	OpNotIn:            OpIn,
	OpNotBetween:       OpBetween,
}

// positive returns the positive operator o is expressed with and whether
// the result is negated.
func positive(o Operator) (Operator, bool) {
	if p, ok := negations[o]; ok {
		return p, true
	}
	return o, false
}

// operatorsByType says which operators each type accepts.
var operatorsByType = map[Type][]Operator{
	TypeString: Operators,
	TypeNumber: {OpEqual, OpNotEqual, OpLess, OpLessOrEqual, OpGreater, OpGreaterOrEqual,
		OpNull, OpNotNull, OpIn, OpNotIn, OpBetween, OpNotBetween},
	TypeBoolean: {OpEqual, OpNotEqual, OpNull, OpNotNull},
	TypeDate: {OpEqual, OpNotEqual, OpLess, OpLessOrEqual, OpGreater, OpGreaterOrEqual,
		OpNull, OpNotNull, OpIn, OpNotIn, OpBetween, OpNotBetween},
	TypeDateTime: {OpEqual, OpNotEqual, OpLess, OpLessOrEqual, OpGreater, OpGreaterOrEqual,
		OpNull, OpNotNull, OpBetween, OpNotBetween},
	TypeEnum: {OpEqual, OpNotEqual, OpNull, OpNotNull, OpIn, OpNotIn},
}

// fieldOperators are the operators that may compare two fields
// (valueSource "field").
var fieldOperators = map[Operator]bool{
	OpEqual: true, OpNotEqual: true, OpLess: true, OpLessOrEqual: true, OpGreater: true, OpGreaterOrEqual: true,
}

func accepts(t Type, o Operator) bool {
	for _, x := range operatorsByType[t] {
		if x == o {
			return true
		}
	}
	return false
}

func known(o Operator) bool {
	_, ok := labels[o]
	return ok
}
