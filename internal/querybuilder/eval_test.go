package querybuilder_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/google/uuid"
)

// The reference evaluator: the query semantics of doc.go in plain Go over
// the fixture as written in fixture_test.go, independent of the SQL. A
// row's field is a cell: the values it has (a to-many relation may have
// several, a missing value has none) and, for relations compared by id,
// the ids of the related live rows.

type cell struct {
	vals []any // string (text, enum, custom date/date-time), float64, bool, time.Time, []string (multiselect)
	ids  []uuid.UUID
}

type row map[string]cell

// foldASCII is lower() as both test databases apply it (SQLite always, a
// C-locale PostgreSQL): ASCII letters only.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func text(s string) cell {
	if s == "" {
		return cell{}
	}
	return cell{vals: []any{s}}
}

func optText(s *string) cell {
	if s == nil {
		return cell{}
	}
	return text(*s)
}

func (fx *fixture) model() map[string]row {
	rows := map[string]row{}
	for _, l := range fxLeads {
		if l.deleted {
			continue
		}
		r := row{"subject": text(l.subject), "description": optText(l.description),
			"visitCount": {vals: []any{float64(l.visitCount)}}, "isQualified": {vals: []any{l.isQualified}}}
		if l.priority != nil {
			r["priority"] = cell{vals: []any{float64(*l.priority)}}
		}
		if l.offerMade != nil {
			r["offerMade"] = cell{vals: []any{*l.offerMade}}
		}
		if l.dueDate != nil {
			r["dueDate"] = cell{vals: []any{*l.dueDate}}
		}
		if s, ok := fxStages[l.stage]; ok && !s.deleted {
			r["stage"] = cell{vals: []any{s.name}, ids: []uuid.UUID{fx.ids[l.stage]}}
		}
		if s, ok := fxStatuses[l.status]; ok {
			r["status.kind"] = cell{vals: []any{string(s.kind)}}
		}
		if c, ok := fxContacts[l.contact]; ok && !c.deleted {
			r["contact.lastName"] = text(c.name)
		}
		var assignees cell
		for _, a := range l.assignees {
			if u := fxUsers[a]; !u.deleted {
				assignees.vals = append(assignees.vals, u.name)
				assignees.ids = append(assignees.ids, fx.ids[a])
			}
		}
		r["assignees"] = assignees
		for name, v := range l.custom {
			r["custom."+name] = customCell(name, v)
		}
		rows[l.key] = r
	}
	return rows
}

var (
	refNumber   = regexp.MustCompile(querybuilder.NumberForm)
	refDate     = regexp.MustCompile(querybuilder.DateForm)
	refDateTime = regexp.MustCompile(querybuilder.DateTimeForm)
)

// customCell reads a stored custom value as its field's type.
func customCell(name, v string) cell {
	switch name {
	case "budget":
		if len(v) <= querybuilder.MaxNumberText && refNumber.MatchString(v) {
			f, _ := strconv.ParseFloat(v, 64)
			return cell{vals: []any{f}}
		}
	case "tradeIn":
		switch strings.ToLower(v) {
		case "true", "1":
			return cell{vals: []any{true}}
		case "false", "0":
			return cell{vals: []any{false}}
		}
	case "visitDate":
		if refDate.MatchString(v) {
			return cell{vals: []any{v}}
		}
	case "callbackAt":
		if refDateTime.MatchString(v) {
			return cell{vals: []any{strings.ToUpper(strings.Replace(v[:19], " ", "T", 1))}}
		}
	case "extras":
		var choices []string
		if v != "" && v != "[]" && json.Unmarshal([]byte(v), &choices) == nil {
			return cell{vals: []any{choices}}
		}
	default:
		return text(v)
	}
	return cell{}
}

// eval evaluates a parsed query of c over r.
func eval(c *querybuilder.Catalogue, g *querybuilder.Group, r row) bool {
	result := g.Combinator == "and"
	for _, n := range g.Rules {
		var v bool
		switch n := n.(type) {
		case *querybuilder.Rule:
			v = evalRule(c, n, r)
		case *querybuilder.Group:
			v = eval(c, n, r)
		}
		if g.Combinator == "and" {
			result = result && v
		} else {
			result = result || v
		}
	}
	return result != g.Not
}

func evalRule(c *querybuilder.Catalogue, rl *querybuilder.Rule, r row) bool {
	f, _ := c.Field(rl.Field)
	op, negated := querybuilder.Positive(rl.Operator)
	if rl.ValueSource == "field" {
		a, b := r[f.Name], r[rl.Value.(string)]
		ok := len(a.vals) > 0 && len(b.vals) > 0 && compare(f.Type, a.vals[0], b.vals[0], op)
		return ok != negated
	}
	args, _ := querybuilder.Values(f, op, rl.Value)
	if f.IsCustom() {
		args = querybuilder.CustomArgs(f.Type, args)
	}
	cl := r[f.Name]
	hit := false
	switch op {
	case querybuilder.OpNotNull:
		hit = len(cl.vals) > 0
	case querybuilder.OpIn, querybuilder.OpEqual:
		for _, a := range args {
			if id, err := uuid.Parse(asString(a)); err == nil && f.ByID() {
				hit = hit || slices.Contains(cl.ids, id)
				continue
			}
			hit = hit || slices.ContainsFunc(cl.vals, func(v any) bool { return compare(f.Type, v, a, querybuilder.OpEqual) })
		}
	case querybuilder.OpBetween:
		hit = slices.ContainsFunc(cl.vals, func(v any) bool {
			return compare(f.Type, v, args[0], querybuilder.OpGreaterOrEqual) && compare(f.Type, v, args[1], querybuilder.OpLessOrEqual)
		})
	default:
		hit = slices.ContainsFunc(cl.vals, func(v any) bool { return compare(f.Type, v, args[0], op) })
	}
	return hit != negated
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

// compare applies a positive operator to a stored value v and an argument a.
func compare(t querybuilder.Type, v, a any, op querybuilder.Operator) bool {
	if choices, ok := v.([]string); ok { // multiselect: "=" holds the choice
		return slices.ContainsFunc(choices, func(c string) bool { return foldASCII(c) == foldASCII(a.(string)) })
	}
	var c int
	switch v := v.(type) {
	case string:
		x, y := v, a.(string)
		if t == querybuilder.TypeString {
			x, y = foldASCII(x), foldASCII(y)
		}
		switch op {
		case querybuilder.OpContains:
			return strings.Contains(x, y)
		case querybuilder.OpBeginsWith:
			return strings.HasPrefix(x, y)
		case querybuilder.OpEndsWith:
			return strings.HasSuffix(x, y)
		}
		c = strings.Compare(x, y)
	case float64:
		var y float64
		switch a := a.(type) {
		case float64:
			y = a
		case int64:
			y = float64(a)
		}
		c = cmpFloat(v, y)
	case bool:
		if op != querybuilder.OpEqual {
			return false
		}
		return v == a.(bool)
	case time.Time:
		c = v.Compare(a.(time.Time))
	}
	switch op {
	case querybuilder.OpEqual:
		return c == 0
	case querybuilder.OpLess:
		return c < 0
	case querybuilder.OpLessOrEqual:
		return c <= 0
	case querybuilder.OpGreater:
		return c > 0
	case querybuilder.OpGreaterOrEqual:
		return c >= 0
	}
	return false
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
