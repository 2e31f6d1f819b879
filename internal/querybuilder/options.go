package querybuilder

import "slices"

// OptionSource is a table whose live records of the tenant a relation
// field offers as value options: each record's id is the value, its
// Column (name, email) the label. Both identifiers come from a Target
// the domain declared (fields.go), never from a request.
type OptionSource struct{ Table, Column string }

// OptionSources returns the tables the catalogue's relation fields compared
// by id whose targets offer Options (stage, status, source, franchise,
// department, soldBy, assignees, a task's assignee) take their value
// options from, each once. The fields
// are in the catalogue only when the viewer may read their records, so the
// options show nothing the viewer could not list.
func (c *Catalogue) OptionSources() []OptionSource {
	var out []OptionSource
	for _, f := range c.optionFields() {
		for _, t := range f.src.targets {
			if src := (OptionSource{t.Table, t.Column}); !slices.Contains(out, src) {
				out = append(out, src)
			}
		}
	}
	return out
}

// OptionSet is the value options read from one OptionSource, by label:
// at most the domain's cap (crm.MaxFilterOptions), Truncated when the
// table holds more.
type OptionSet struct {
	Options   []Option
	Truncated bool
}

// SetOptions gives the relation fields their value options, read from
// each of OptionSources (table → options); Config then lists them with a
// select editor, and says when a list was truncated (a UI then searches
// the records instead of offering them all).
func (c *Catalogue) SetOptions(byTable map[string]OptionSet) {
	c.options = map[string]OptionSet{}
	for _, f := range c.optionFields() {
		set := OptionSet{Options: []Option{}}
		for _, t := range f.src.targets {
			set.Options = append(set.Options, byTable[t.Table].Options...)
			set.Truncated = set.Truncated || byTable[t.Table].Truncated
		}
		set.Options = slices.Clip(set.Options)
		c.options[f.Name] = set
	}
}

// optionFields are the fields compared by id whose every target offers
// Options.
func (c *Catalogue) optionFields() []Field {
	var out []Field
	for _, f := range c.fields {
		if !f.src.byID || len(f.src.targets) == 0 {
			continue
		}
		offered := true
		for _, t := range f.src.targets {
			offered = offered && t.Options
		}
		if offered {
			out = append(out, f)
		}
	}
	return out
}
