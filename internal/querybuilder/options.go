package querybuilder

import "slices"

// optionTables are the related tables whose records a relation field
// offers as value options, so a query-builder UI renders a dropdown: the
// tenant's reference data, kept by its administrators (stages, statuses,
// sources, franchises, departments, users, security groups), a list of
// organisational size. Customers and leads are not offered: they are
// unbounded, and a UI searches them instead.
var optionTables = map[string]bool{
	stages.table: true, statuses.table: true, sources.table: true, franchises.table: true,
	departments.table: true, users.table: true, groups.table: true,
}

// OptionSource is a table whose live records of the tenant a relation
// field offers as value options: each record's id is the value, its
// Column (name, email) the label. Both identifiers come from this
// package's own tables (fields.go), never from a request.
type OptionSource struct{ Table, Column string }

// OptionSources returns the tables the catalogue's relation fields compared
// by id (stage, status, source, franchise, department, soldBy, assignees, a
// task's assignee) take their value options from, each once. The fields
// are in the catalogue only when the viewer may read their records, so the
// options show nothing the viewer could not list.
func (c *Catalogue) OptionSources() []OptionSource {
	var out []OptionSource
	for _, f := range c.optionFields() {
		for _, t := range f.src.targets {
			if src := (OptionSource{t.table, t.column}); !slices.Contains(out, src) {
				out = append(out, src)
			}
		}
	}
	return out
}

// SetOptions gives the relation fields their value options, read from
// each of OptionSources (table → options, ordered by label); Config then
// lists them with a select editor.
func (c *Catalogue) SetOptions(byTable map[string][]Option) {
	c.options = map[string][]Option{}
	for _, f := range c.optionFields() {
		opts := []Option{}
		for _, t := range f.src.targets {
			opts = append(opts, byTable[t.table]...)
		}
		c.options[f.Name] = slices.Clip(opts)
	}
}

// optionFields are the fields compared by id whose every target offers
// options.
func (c *Catalogue) optionFields() []Field {
	var out []Field
	for _, f := range c.fields {
		if !f.src.byID || len(f.src.targets) == 0 {
			continue
		}
		offered := true
		for _, t := range f.src.targets {
			offered = offered && optionTables[t.table]
		}
		if offered {
			out = append(out, f)
		}
	}
	return out
}
