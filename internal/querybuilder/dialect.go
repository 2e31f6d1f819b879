package querybuilder

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"modernc.org/sqlite"
)

// This file is the one place that knows how SQLite and PostgreSQL differ
// for the query builder: case folding, LIKE escaping and reading the text
// values of custom fields as typed values. Everything here writes constant
// SQL; values (and the forms' patterns) always go through b.Arg.

// operand writes the SQL expression a comparison reads.
type operand func(b *sql.Builder)

func column(ref string) operand { return func(b *sql.Builder) { b.Ident(ref) } }

// fold writes x case-folded. Text comparisons fold both sides in SQL with
// lower(), so a value in the stored case always matches and both sides are
// folded by the same rules: ASCII on SQLite, the database's LC_CTYPE on
// PostgreSQL (ASCII under the C locale).
func fold(b *sql.Builder, x operand) {
	b.WriteString("lower(")
	x(b)
	b.WriteString(")")
}

func foldArg(b *sql.Builder, v any) {
	b.WriteString("lower(").Arg(v).WriteString(")")
}

// likeEscape is the escape character of LIKE patterns, given explicitly
// because SQLite has no default one.
const likeEscape = `\`

// like writes a case-insensitive LIKE of x against pattern, whose '%' and
// '_' already stand for themselves (see likePattern).
func like(b *sql.Builder, x operand, pattern string) {
	fold(b, x)
	b.WriteString(" LIKE ")
	foldArg(b, pattern)
	b.WriteString(" ESCAPE ").Arg(likeEscape)
}

// escapeLike makes s match literally in a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_").Replace(s)
}

// likePattern is the LIKE pattern of a contains, beginsWith or endsWith
// rule: s matches literally.
func likePattern(op Operator, s string) string {
	s = escapeLike(s)
	switch op {
	case OpBeginsWith:
		return s + "%"
	case OpEndsWith:
		return "%" + s
	}
	return "%" + s + "%"
}

// Custom field values are stored as text (see crm.CheckCustomFieldValues
// for their formats). A value that does not have its type's form reads as
// NULL, no value, instead of failing the query: PostgreSQL would raise an
// error on a bad cast and SQLite would read a prefix. The forms are regular
// expressions matched by PostgreSQL's ~ and, on SQLite, by qb_regexp, a Go
// function registered with the driver, so both databases accept exactly
// the same texts.
const (
	// numberForm is a finite decimal number as strconv.ParseFloat reads it
	// (hexadecimal aside), with an exponent PostgreSQL's NUMERIC can hold.
	numberForm = `^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$`
	dateForm   = `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	// dateTimeForm is an RFC 3339 date-time; it is compared on its first 19
	// characters, so values are expected in UTC, as the API writes them.
	dateTimeForm = `^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}`
	// maxNumberText bounds the text cast to a number.
	maxNumberText = 40
)

// sqliteRegexp is the SQLite function matching text against a form.
const sqliteRegexp = "qb_regexp"

func init() {
	var forms sync.Map // pattern → *regexp.Regexp; the patterns are the constants above
	sqlite.MustRegisterDeterministicScalarFunction(sqliteRegexp, 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		pattern, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s: pattern must be text", sqliteRegexp)
		}
		var text string
		switch v := args[1].(type) {
		case nil:
			return nil, nil
		case string:
			text = v
		case []byte:
			text = string(v)
		default:
			return false, nil
		}
		re, ok := forms.Load(pattern)
		if !ok {
			compiled, err := regexp.Compile(pattern)
			if err != nil {
				return nil, err
			}
			re, _ = forms.LoadOrStore(pattern, compiled)
		}
		return re.(*regexp.Regexp).MatchString(text), nil
	})
}

// matches writes "x matches form".
func matches(b *sql.Builder, x operand, form string) {
	if b.Dialect() == dialect.Postgres {
		x(b)
		b.WriteString(" ~ ").Arg(form)
		return
	}
	b.WriteString(sqliteRegexp + "(").Arg(form).WriteString(", ")
	x(b)
	b.WriteString(")")
}

// customNumber reads a number.
func customNumber(x operand) operand {
	return func(b *sql.Builder) {
		b.WriteString("CASE WHEN length(")
		x(b)
		b.WriteString(") <= " + strconv.Itoa(maxNumberText) + " AND ")
		matches(b, x, numberForm)
		b.WriteString(" THEN CAST(")
		x(b)
		b.WriteString(" AS NUMERIC) END")
	}
}

// customDate reads a date as its text "YYYY-MM-DD", which orders like the
// date; compared values are formatted the same way (see customArgs).
func customDate(x operand) operand {
	return func(b *sql.Builder) {
		b.WriteString("CASE WHEN ")
		matches(b, x, dateForm)
		b.WriteString(" THEN ")
		x(b)
		b.WriteString(" END")
	}
}

// customDateTime reads a date-time as "YYYY-MM-DDTHH:MM:SS".
func customDateTime(x operand) operand {
	return func(b *sql.Builder) {
		b.WriteString("CASE WHEN ")
		matches(b, x, dateTimeForm)
		b.WriteString(" THEN upper(replace(substr(")
		x(b)
		b.WriteString(", 1, 19), ' ', 'T')) END")
	}
}

// customBool reads "true"/"1" as true and "false"/"0" as false.
func customBool(x operand) operand {
	return func(b *sql.Builder) {
		b.WriteString("CASE WHEN lower(")
		x(b)
		b.WriteString(") IN ('true', '1') THEN TRUE WHEN lower(")
		x(b)
		b.WriteString(") IN ('false', '0') THEN FALSE END")
	}
}

// choicePattern is the LIKE pattern matching a multiselect value (a JSON
// array of choices) that holds choice.
func choicePattern(choice string) string {
	quoted, _ := json.Marshal(choice)
	return "%" + escapeLike(string(quoted)) + "%"
}
