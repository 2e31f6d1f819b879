package querybuilder

import (
	"bytes"
	"encoding/json"

	"entgo.io/ent/dialect/sql"
)

// CompileJSON parses and compiles query (JSON: a rule group, or
// {"query": group}) into a predicate on the catalogue entity's ent query:
//
//	p, err := c.CompileJSON(raw)
//	leads, err := client.Lead.Query().Where(predicate.Lead(p)).All(ctx)
//
// An empty query (nil, null) matches every row. A bad query is an Invalid
// *fault.Error naming the rule.
func (c *Catalogue) CompileJSON(query json.RawMessage) (func(*sql.Selector), error) {
	if t := bytes.TrimSpace(query); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return func(*sql.Selector) {}, nil
	}
	g, err := Parse(query)
	if err != nil {
		return nil, err
	}
	return c.Compile(g)
}

// Check reports whether query, which must be given (a saved filter's
// value, an automation's filter condition), is a valid query of the
// catalogue (nil when it is).
func (c *Catalogue) Check(query []byte) error {
	if len(bytes.TrimSpace(query)) == 0 {
		return invalid("query", "must be a rule group object")
	}
	_, err := c.CompileJSON(query)
	return err
}
