package querybuilder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/conecrm/gateway/internal/fault"
)

// Limits on a query, checked before anything is compiled.
const (
	MaxDepth    = 10   // nesting of rule groups (the root group is depth 1)
	MaxRules    = 500  // rules in the whole query
	MaxInValues = 1000 // values of one in / notIn rule
)

// Group is a react-querybuilder rule group. A query in the independent
// combinator form is turned into standard groups by Parse, so Combinator is
// always "and" or "or".
type Group struct {
	ID         string
	Combinator string
	Not        bool
	Rules      []Node
	ref        string
}

// Rule is one condition: Field Operator Value, where Value is a literal
// (ValueSource "value") or the name of another field (ValueSource "field").
type Rule struct {
	ID          string
	Field       string
	Operator    Operator
	ValueSource string
	// Value is as decoded from JSON with numbers kept as json.Number:
	// nil, bool, json.Number, string, []any or map[string]any.
	Value any
	ref   string
}

// Node is a *Rule or a *Group.
type Node interface{ node() }

func (*Rule) node()  {}
func (*Group) node() {}

// Ref names the rule in error messages: its id, or its position in the
// query (e.g. "rules[2].rules[0]") when the client gave none.
func (r *Rule) Ref() string { return r.ref }

// Ref names the group in error messages, like Rule.Ref.
func (g *Group) Ref() string { return g.ref }

// wire is a rule or a group as sent by react-querybuilder; unknown keys
// (path, disabled editors, …) are ignored.
type wire struct {
	ID          string            `json:"id"`
	Combinator  *string           `json:"combinator"`
	Not         bool              `json:"not"`
	Rules       []json.RawMessage `json:"rules"`
	Field       string            `json:"field"`
	Operator    string            `json:"operator"`
	ValueSource string            `json:"valueSource"`
	Value       json.RawMessage   `json:"value"`
	Disabled    bool              `json:"disabled"`
	Query       json.RawMessage   `json:"query"`
}

// Parse reads a react-querybuilder query: a rule group, or the spec's
// QueryBuilderQuery wrapper {"query": group}. It checks the structure and
// the limits; fields, operators and values are checked by Compile. Errors
// are *fault.Error with code Invalid, naming the rule or group at fault.
// Disabled rules and groups are skipped, as react-querybuilder does.
func Parse(data []byte) (*Group, error) {
	var w wire
	if err := decodeRoot(data, &w); err != nil {
		return nil, err
	}
	if w.Rules == nil && len(w.Query) > 0 && !isNull(w.Query) {
		inner := w.Query
		w = wire{}
		if err := decodeRoot(inner, &w); err != nil {
			return nil, err
		}
	}
	p := &parser{}
	return p.group(&w, "query", 1)
}

// parser counts the rules of the query it reads.
type parser struct{ rules int }

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func decodeRoot(data []byte, w *wire) error {
	if len(bytes.TrimSpace(data)) == 0 || isNull(data) {
		return invalid("query", "must be a rule group object")
	}
	if err := json.Unmarshal(data, w); err != nil {
		return invalid("query", "must be a rule group object with combinator and rules")
	}
	return nil
}

func (p *parser) group(w *wire, ref string, depth int) (*Group, error) {
	g := &Group{ID: w.ID, Not: w.Not, ref: refOf(w.ID, ref)}
	if depth > MaxDepth {
		return nil, invalid(g.ref, fmt.Sprintf("rule groups are nested deeper than %d levels", MaxDepth))
	}
	if w.Combinator != nil {
		c := strings.ToLower(*w.Combinator)
		if c != "and" && c != "or" {
			return nil, invalid(g.ref, fmt.Sprintf("combinator must be \"and\" or \"or\", not %q", *w.Combinator))
		}
		g.Combinator = c
	}
	var (
		nodes []Node
		ops   []string // combinators between nodes, in the independent form
		// dropOp: a disabled leading node takes the combinator after it along.
		dropOp bool
	)
	for i, raw := range w.Rules {
		at := fmt.Sprintf("%s.rules[%d]", ref, i)
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			if dropOp {
				dropOp = false
				continue
			}
			c := strings.ToLower(s)
			if (c != "and" && c != "or") || len(ops) != len(nodes)-1 {
				return nil, invalid(g.ref, fmt.Sprintf("rules[%d]: unexpected combinator %q", i, s))
			}
			ops = append(ops, c)
			continue
		}
		var cw wire
		if err := json.Unmarshal(raw, &cw); err != nil {
			return nil, invalid(g.ref, fmt.Sprintf("rules[%d] must be a rule, a group or a combinator", i))
		}
		if cw.Disabled {
			// A disabled node disappears with the combinator before it
			// (or, leading, the one after it).
			switch {
			case len(nodes) == 0:
				dropOp = true
			case len(ops) == len(nodes):
				ops = ops[:len(ops)-1]
			}
			continue
		}
		if len(ops) > 0 && len(ops) != len(nodes) {
			return nil, invalid(g.ref, fmt.Sprintf("rules[%d]: a combinator is missing before it", i))
		}
		n, err := p.node(&cw, at, depth)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		dropOp = false
	}
	if len(ops) > 0 && len(ops) == len(nodes) {
		return nil, invalid(g.ref, "ends with a combinator")
	}
	if len(ops) == 0 {
		if g.Combinator == "" {
			g.Combinator = "and"
		}
		g.Rules = nodes
		return g, nil
	}
	// Independent combinators: "and" binds tighter than "or", as in SQL.
	var or []Node
	and := []Node{nodes[0]}
	for i, op := range ops {
		if op == "or" {
			or = append(or, collapse(and, g.ref))
			and = nil
		}
		and = append(and, nodes[i+1])
	}
	or = append(or, collapse(and, g.ref))
	g.Combinator, g.Rules = "or", or
	if len(or) == 1 {
		g.Combinator, g.Rules = "and", and
	}
	return g, nil
}

func collapse(and []Node, ref string) Node {
	if len(and) == 1 {
		return and[0]
	}
	return &Group{Combinator: "and", Rules: and, ref: ref}
}

func (p *parser) node(w *wire, ref string, depth int) (Node, error) {
	if w.Rules != nil || w.Combinator != nil {
		return p.group(w, ref, depth+1)
	}
	p.rules++
	r := &Rule{ID: w.ID, Field: w.Field, Operator: Operator(w.Operator), ValueSource: w.ValueSource, ref: refOf(w.ID, ref)}
	if p.rules > MaxRules {
		return nil, invalid(r.ref, fmt.Sprintf("the query has more than %d rules", MaxRules))
	}
	if r.Field == "" {
		return nil, invalid(r.ref, "field is required")
	}
	if !known(r.Operator) {
		return nil, invalid(r.ref, fmt.Sprintf("unknown operator %q", w.Operator))
	}
	switch r.ValueSource {
	case "":
		r.ValueSource = "value"
	case "value", "field":
	default:
		return nil, invalid(r.ref, fmt.Sprintf("valueSource must be \"value\" or \"field\", not %q", w.ValueSource))
	}
	if len(w.Value) > 0 {
		d := json.NewDecoder(bytes.NewReader(w.Value))
		d.UseNumber()
		if err := d.Decode(&r.Value); err != nil {
			return nil, invalid(r.ref, "value is not valid JSON")
		}
	}
	return r, nil
}

func refOf(id, at string) string {
	if id != "" {
		return id
	}
	return at
}

// invalid is the error of a query: Invalid, with the rule or group named
// both in the message and as the offending field.
func invalid(ref, msg string) error {
	return &fault.Error{Code: fault.Invalid, Message: "rule " + ref + ": " + msg, Fields: map[string][]string{ref: {msg}}}
}
