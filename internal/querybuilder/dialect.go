package querybuilder

import (
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// This file is the one place that knows how SQLite and PostgreSQL differ
// for the query builder: case folding, LIKE escaping and reading the text
// values of custom fields as typed values. Everything here writes constant
// SQL; values always go through b.Arg.

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

// likePattern escapes s so it matches literally, then adds the wildcards.
func likePattern(op Operator, s string) string {
	s = strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_").Replace(s)
	switch op {
	case OpBeginsWith:
		return s + "%"
	case OpEndsWith:
		return "%" + s
	}
	return "%" + s + "%"
}

// Custom field values are stored as text. A value that does not have its
// field type's form reads as NULL (no value) instead of failing the query:
// PostgreSQL would raise an error on a bad cast, SQLite would read a prefix.

// customNumber reads a decimal number (-12, 3.5) of at most 40 characters:
// the text is checked first, so the cast never fails, and both databases
// accept exactly the same texts.
func customNumber(x operand) operand {
	return func(b *sql.Builder) {
		b.WriteString("CASE WHEN length(")
		x(b)
		b.WriteString(") <= 40 AND ")
		if b.Dialect() == dialect.Postgres {
			x(b)
			b.WriteString(" ~ '^-?[0-9]+([.][0-9]+)?$'")
		} else {
			// The same shape in GLOB: an optional '-', then digits and at
			// most one '.', which is neither first nor last.
			b.WriteString("(")
			x(b)
			b.WriteString(" GLOB '[0-9]*' OR ")
			x(b)
			b.WriteString(" GLOB '-[0-9]*') AND NOT substr(")
			x(b)
			b.WriteString(", 2) GLOB '*[^0-9.]*' AND NOT ")
			x(b)
			b.WriteString(" GLOB '*.*.*' AND NOT ")
			x(b)
			b.WriteString(" GLOB '*.'")
		}
		b.WriteString(" THEN CAST(")
		x(b)
		b.WriteString(" AS NUMERIC) END")
	}
}

// customDate reads a date "YYYY-MM-DD" as that text (which orders like the
// date); compared values are written the same way.
func customDate(x operand) operand {
	return customText(x, `'^[0-9]{4}-[0-9]{2}-[0-9]{2}'`, `'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'`, 10)
}

// customDateTime reads an RFC 3339 date-time, stored in UTC, as its first
// 19 characters with a 'T' separator ("2026-11-02T09:00:00").
func customDateTime(x operand) operand {
	return customText(x,
		`'^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}'`,
		`'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]:[0-9][0-9]*'`, 19)
}

func customText(x operand, regex, glob string, n int) operand {
	return func(b *sql.Builder) {
		b.WriteString("CASE WHEN ")
		x(b)
		if b.Dialect() == dialect.Postgres {
			b.WriteString(" ~ " + regex)
		} else {
			b.WriteString(" GLOB " + glob)
		}
		b.WriteString(" THEN replace(substr(")
		x(b)
		b.WriteString(", 1, " + strconv.Itoa(n) + "), ' ', 'T') END")
	}
}

// customBool reads true/1 as true and false/0 as false.
func customBool(x operand) operand {
	return func(b *sql.Builder) {
		b.WriteString("CASE WHEN lower(")
		x(b)
		b.WriteString(") IN ('true', '1') THEN TRUE WHEN lower(")
		x(b)
		b.WriteString(") IN ('false', '0') THEN FALSE END")
	}
}
