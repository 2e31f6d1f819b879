package querybuilder

import (
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customfieldvalue"
)

// pred builds a rule's or group's predicate for the selector of the
// entity's query (its table or alias).
type pred func(s *sql.Selector) *sql.Predicate

// cond is a validated comparison: a positive operator (see positive) and
// its typed values.
type cond struct {
	op    Operator
	typ   Type
	args  []any
	multi bool // the operand is a multiselect value: a JSON array of choices
}

// Compile validates g against the catalogue and returns its predicate, to
// be applied to a query of the catalogue's entity, e.g.
// client.Lead.Query().Where(predicate.Lead(p)). The query must be scoped to
// the viewer's tenant already (ent's interceptor does it); the subqueries
// the predicate adds over other tables are restricted here to the
// catalogue's tenant and to live rows. Errors are *fault.Error (Invalid)
// naming the rule.
func (c *Catalogue) Compile(g *Group) (func(*sql.Selector), error) {
	p, err := c.group(g)
	if err != nil {
		return nil, err
	}
	return func(s *sql.Selector) { s.Where(p(s)) }, nil
}

// Predicates are combined with explicit parentheses, never with sql.And
// and sql.Or: those leave a nested group bare when its parent has a single
// member, and "tenant AND a OR b" would then escape the tenant scope the
// query is restricted to.

// combine joins ps, each parenthesised already, with op.
func combine(op string, ps []*sql.Predicate) *sql.Predicate {
	return wrap(func(b *sql.Builder) {
		for i, p := range ps {
			if i > 0 {
				b.WriteString(" " + op + " ")
			}
			b.Join(p)
		}
	})
}

func not(p *sql.Predicate) *sql.Predicate {
	return wrap(func(b *sql.Builder) { b.WriteString("NOT ").Join(p) })
}

func (c *Catalogue) group(g *Group) (pred, error) {
	parts := make([]pred, 0, len(g.Rules))
	for _, n := range g.Rules {
		var (
			p   pred
			err error
		)
		switch n := n.(type) {
		case *Rule:
			p, err = c.rule(n)
		case *Group:
			p, err = c.group(n)
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	or, negated := g.Combinator == "or", g.Not
	return func(s *sql.Selector) *sql.Predicate {
		var p *sql.Predicate
		if len(parts) == 0 {
			// An empty group matches everything, as in react-querybuilder.
			p = wrap(func(b *sql.Builder) { b.WriteString("1 = 1") })
		} else {
			ps := make([]*sql.Predicate, len(parts))
			for i, part := range parts {
				ps[i] = part(s)
			}
			op := "AND"
			if or {
				op = "OR"
			}
			p = combine(op, ps)
		}
		if negated {
			p = not(p)
		}
		return p
	}, nil
}

func (c *Catalogue) rule(r *Rule) (pred, error) {
	f, ok := c.Field(r.Field)
	if !ok {
		return nil, c.unknown(r.ref, r.Field)
	}
	if !accepts(f.Type, r.Operator) {
		return nil, invalid(r.ref, fmt.Sprintf("operator %q is not valid for %s field %s", r.Operator, f.Type, f.Name))
	}
	if r.ValueSource == "field" {
		return c.fieldRule(r, f)
	}
	op, negated := positive(r.Operator)
	args, msg := values(f, op, r.Value)
	if msg != "" {
		return nil, invalid(r.ref, f.Name+": "+msg)
	}
	k := cond{op: op, typ: f.Type, args: args, multi: f.src.multi}
	if f.src.kind == kindCustom {
		k.args = customArgs(f.Type, args)
	}
	var p pred
	switch f.src.kind {
	case kindOwn:
		p = func(s *sql.Selector) *sql.Predicate {
			return wrap(func(b *sql.Builder) { k.write(b, column(s.C(f.src.column)), f.src.nullable) })
		}
	case kindToOne:
		p = func(s *sql.Selector) *sql.Predicate { return c.toOne(s, f, k) }
	case kindToMany:
		p = func(s *sql.Selector) *sql.Predicate { return c.toMany(s, f, k) }
	case kindCustom:
		p = func(s *sql.Selector) *sql.Predicate { return c.custom(s, f, k) }
	}
	if !negated {
		return p, nil
	}
	return func(s *sql.Selector) *sql.Predicate { return not(p(s)) }, nil
}

// fieldRule compares two columns of the entity's own table.
func (c *Catalogue) fieldRule(r *Rule, f Field) (pred, error) {
	name, _ := r.Value.(string)
	g, ok := c.Field(name)
	switch {
	case !fieldOperators[r.Operator]:
		return nil, invalid(r.ref, fmt.Sprintf("operator %q cannot compare two fields", r.Operator))
	case name == "":
		return nil, invalid(r.ref, "value must name a field when valueSource is \"field\"")
	case !ok:
		return nil, c.unknown(r.ref, name)
	case f.src.kind != kindOwn || g.src.kind != kindOwn:
		return nil, invalid(r.ref, "valueSource \"field\" compares two fields of the "+c.Entity+" itself, not related or custom fields")
	case !comparable(f.Type, g.Type):
		return nil, invalid(r.ref, fmt.Sprintf("cannot compare %s field %s with %s field %s", f.Type, f.Name, g.Type, g.Name))
	}
	op, negated := positive(r.Operator)
	folded := f.Type == TypeString || g.Type == TypeString
	p := func(s *sql.Selector) *sql.Predicate {
		return wrap(func(b *sql.Builder) {
			a, z := column(s.C(f.src.column)), column(s.C(g.src.column))
			guard(b, a, f.src.nullable)
			guard(b, z, g.src.nullable)
			if folded {
				a(b)
				b.WriteString(" <> '' AND ")
				z(b)
				b.WriteString(" <> '' AND ")
				fold(b, a)
				b.WriteString(" " + string(op) + " ")
				fold(b, z)
				return
			}
			a(b)
			b.WriteString(" " + string(op) + " ")
			z(b)
		})
	}
	if !negated {
		return p, nil
	}
	return func(s *sql.Selector) *sql.Predicate { return not(p(s)) }, nil
}

func comparable(a, b Type) bool {
	text := func(t Type) bool { return t == TypeString || t == TypeEnum }
	return a == b || text(a) && text(b)
}

// guard makes a comparison on a nullable operand two-valued: NULL gives
// false, never unknown, so NOT of it is the exact complement.
func guard(b *sql.Builder, x operand, nullable bool) {
	if nullable {
		x(b)
		b.WriteString(" IS NOT NULL AND ")
	}
}

// wrap is a predicate written by f, parenthesised so that it combines
// safely with AND, OR and NOT.
func wrap(f func(b *sql.Builder)) *sql.Predicate {
	return sql.P(func(b *sql.Builder) { b.Wrap(f) })
}

// toOne matches when the row the foreign key names is live, of the
// tenant, and satisfies k. The subquery is not correlated, so the database
// can run it once and use the index on the foreign key; when the rule
// names the related rows by id only, the ids are also compared with the
// foreign key directly, which every planner can match with that index.
func (c *Catalogue) toOne(s *sql.Selector, f Field, k cond) *sql.Predicate {
	fk := s.C(f.src.fk)
	ids, names := k.byID(f)
	return wrap(func(b *sql.Builder) {
		b.Ident(fk).WriteString(" IS NOT NULL AND ")
		if len(ids) > 0 && len(names) == 0 {
			b.Join(sql.In(fk, ids...)).WriteString(" AND ")
		}
		b.WriteString("(")
		for i, tg := range f.src.targets {
			if i > 0 {
				b.WriteString(" OR ")
			}
			d := sql.Dialect(b.Dialect())
			r := d.Table(tg.Table).As("qb_r")
			sub := d.Select(r.C("id")).From(r).Where(c.related(r, tg, f, k))
			b.Ident(fk).WriteString(" IN ").Wrap(func(b *sql.Builder) { b.Join(sub) })
		}
		b.WriteString(")")
	})
}

// toMany matches when any linked row satisfies k.
func (c *Catalogue) toMany(s *sql.Selector, f Field, k cond) *sql.Predicate {
	id := s.C("id")
	return wrap(func(b *sql.Builder) {
		d := sql.Dialect(b.Dialect())
		tg, j := f.src.targets[0], f.src.join
		jt := d.Table(j.Table).As("qb_j")
		r := d.Table(tg.Table).As("qb_r")
		sub := d.Select(jt.C(j.Own)).From(jt).Join(r).On(jt.C(j.Other), r.C("id")).Where(c.related(r, tg, f, k))
		b.Ident(id).WriteString(" IN ").Wrap(func(b *sql.Builder) { b.Join(sub) })
	})
}

// related is the condition on a related row r: of the tenant, live, and
// satisfying k on its target column or, for a relation compared by id,
// being one of the rows k names by id.
func (c *Catalogue) related(r *sql.SelectTable, tg Target, f Field, k cond) *sql.Predicate {
	ids, names := k.byID(f)
	var match []*sql.Predicate
	if len(ids) > 0 {
		match = append(match, wrap(func(b *sql.Builder) { b.Join(sql.In(r.C("id"), ids...)) }))
	}
	if len(names) > 0 || len(ids) == 0 {
		k.args = names
		match = append(match, wrap(func(b *sql.Builder) { k.write(b, column(r.C(tg.Column)), false) }))
	}
	return live(r, c.tenant, combine("OR", match))
}

// byID splits the values of an "=" or "in" rule on a relation compared by
// id into the ids (values that are UUIDs) and the other values, compared
// with the target column. For any other rule, every value is of the column.
func (k cond) byID(f Field) (ids, names []any) {
	if !f.src.byID || (k.op != OpEqual && k.op != OpIn) {
		return nil, k.args
	}
	for _, a := range k.args {
		if id, err := uuid.Parse(a.(string)); err == nil {
			ids = append(ids, id)
		} else {
			names = append(names, a)
		}
	}
	return ids, names
}

// live restricts the rows of t, a table of a subquery, to tenant and to
// rows not deleted, then to conds (each parenthesised already).
func live(t *sql.SelectTable, tenant uuid.UUID, conds ...*sql.Predicate) *sql.Predicate {
	scope := wrap(func(b *sql.Builder) {
		b.Join(sql.EQ(t.C("tenant_id"), tenant)).WriteString(" AND ").Join(sql.EQ(t.C("is_deleted"), false))
	})
	return combine("AND", append([]*sql.Predicate{scope}, conds...))
}

// custom matches when the record has a live value of the custom field
// that satisfies k on the value read as the field's type.
func (c *Catalogue) custom(s *sql.Selector, f Field, k cond) *sql.Predicate {
	id := s.C("id")
	return wrap(func(b *sql.Builder) {
		d := sql.Dialect(b.Dialect())
		v := d.Table(customfieldvalue.Table).As("qb_v")
		x := customOperand(f.Type, column(v.C(customfieldvalue.FieldValue)))
		sub := d.Select(v.C(customfieldvalue.FieldRecordID)).From(v).Where(live(v, c.tenant,
			wrap(func(b *sql.Builder) { b.Join(sql.EQ(v.C(customfieldvalue.FieldFieldID), f.src.customID)) }),
			wrap(func(b *sql.Builder) { k.write(b, x, false) }),
		))
		b.Ident(id).WriteString(" IN ").Wrap(func(b *sql.Builder) { b.Join(sub) })
	})
}

// customOperand reads a custom value (text) as type t.
func customOperand(t Type, x operand) operand {
	switch t {
	case TypeNumber:
		return customNumber(x)
	case TypeBoolean:
		return customBool(x)
	case TypeDate:
		return customDate(x)
	case TypeDateTime:
		return customDateTime(x)
	}
	return x
}

// customArgs formats the time values of a custom date or date-time rule as
// customDate and customDateTime read stored values.
func customArgs(t Type, args []any) []any {
	layout := map[Type]string{TypeDate: time.DateOnly, TypeDateTime: "2006-01-02T15:04:05"}[t]
	if layout == "" {
		return args
	}
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a.(time.Time).Format(layout)
	}
	return out
}

// write writes the positive comparison k of operand x. A nullable x is
// guarded (see guard), except for notNull, which is two-valued itself.
func (k cond) write(b *sql.Builder, x operand, nullable bool) {
	if k.multi {
		k.writeChoices(b, x)
		return
	}
	text := k.typ == TypeString
	if k.op != OpNotNull {
		guard(b, x, nullable)
		if text {
			// An empty text is no value, as for custom fields.
			x(b)
			b.WriteString(" <> '' AND ")
		}
	}
	// side writes the operand, folded for text.
	side := func() {
		if text {
			fold(b, x)
		} else {
			x(b)
		}
	}
	arg := func(v any) {
		if text {
			foldArg(b, v)
		} else {
			b.Arg(v)
		}
	}
	switch k.op {
	case OpEqual, OpLess, OpLessOrEqual, OpGreater, OpGreaterOrEqual:
		side()
		b.WriteString(" " + string(k.op) + " ")
		arg(k.args[0])
	case OpContains, OpBeginsWith, OpEndsWith:
		like(b, x, likePattern(k.op, k.args[0].(string)))
	case OpNotNull:
		x(b)
		b.WriteString(" IS NOT NULL")
		if text {
			b.WriteString(" AND ")
			x(b)
			b.WriteString(" <> ''")
		}
	case OpIn:
		side()
		b.WriteString(" IN (")
		for i, v := range k.args {
			if i > 0 {
				b.WriteString(", ")
			}
			arg(v)
		}
		b.WriteString(")")
	case OpBetween:
		side()
		b.WriteString(" >= ")
		arg(k.args[0])
		b.WriteString(" AND ")
		side()
		b.WriteString(" <= ")
		arg(k.args[1])
	}
}

// writeChoices writes k for a multiselect value: "=" holds the choice, "in"
// holds any of them, notNull holds at least one.
func (k cond) writeChoices(b *sql.Builder, x operand) {
	switch k.op {
	case OpNotNull:
		x(b)
		b.WriteString(" <> '' AND ")
		x(b)
		b.WriteString(" <> '[]'")
	case OpEqual, OpIn:
		for i, v := range k.args {
			if i > 0 {
				b.WriteString(" OR ")
			}
			like(b, x, choicePattern(v.(string)))
		}
	}
}

// unknown is the error of a rule (at ref) on a field the catalogue does not
// hold: one the viewer may not use says which permission it needs.
func (c *Catalogue) unknown(ref, name string) error {
	perm, denied := c.denied[name]
	if !denied && c.customDenied != "" && strings.HasPrefix(name, "custom.") {
		perm, denied = c.customDenied, true
	}
	if denied {
		return invalid(ref, fmt.Sprintf("field %q of %s needs the %s permission", clip(name), c.Entity, perm))
	}
	return invalid(ref, fmt.Sprintf("unknown field %q for %s", clip(name), c.Entity))
}
