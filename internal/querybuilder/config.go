package querybuilder

// The catalogue as the transports publish it: GET /api/filters' Filter2
// entries and react-querybuilder's own Field shape, so a front end can hand
// the config straight to the component (GraphQL's filterConfig too).

// FilterInfo is one field of GET /api/filters/{entity} (the spec's Filter2).
type FilterInfo struct {
	Field     string     `json:"field"`
	Type      Type       `json:"type"`
	Label     string     `json:"label"`
	Operators []Operator `json:"operators"`
	// Options are an enum's values; nil (null) for the other types.
	Options []string `json:"options"`
}

// Filters lists the catalogue's fields as FilterInfo.
func (c *Catalogue) Filters() []FilterInfo {
	out := make([]FilterInfo, 0, len(c.fields))
	for _, f := range c.fields {
		info := FilterInfo{Field: f.Name, Type: f.Type, Label: f.Label, Operators: f.Operators()}
		if f.Type == TypeEnum {
			info.Options = f.Values
		}
		out = append(out, info)
	}
	return out
}

// Config is an entity's react-querybuilder configuration.
type Config struct {
	Fields []ConfigField `json:"fields"`
	// Operators names every operator the query builder knows.
	Operators []Operator `json:"operators"`
}

// ConfigField is react-querybuilder's Field, plus the catalogue type.
type ConfigField struct {
	Name            string   `json:"name"`
	Label           string   `json:"label"`
	Type            Type     `json:"type"`
	InputType       string   `json:"inputType"`
	ValueEditorType string   `json:"valueEditorType"`
	Values          []Option `json:"values"`
	Operators       []Option `json:"operators"`
	// Sortable says whether POST /api/query-builder/filter/{entity} can
	// sort by the field (sortField).
	Sortable bool `json:"sortable"`
	// ValuesTruncated says that Values (a relation's records) are only
	// the first of more, by label: a UI searches the records instead
	// (absent when they are all there).
	ValuesTruncated bool `json:"valuesTruncated,omitempty"`
}

// Option is react-querybuilder's {name, label} pair of an operator or a
// value.
type Option struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// editors are the react-querybuilder inputType and valueEditorType of each
// type.
var editors = map[Type][2]string{
	TypeString:   {"text", "text"},
	TypeNumber:   {"number", "text"},
	TypeBoolean:  {"checkbox", "checkbox"},
	TypeDate:     {"date", "text"},
	TypeDateTime: {"datetime-local", "text"},
	TypeEnum:     {"text", "select"},
}

// Config returns the catalogue in react-querybuilder's shape; relation
// fields carry their value options once SetOptions has given them.
func (c *Catalogue) Config() Config {
	cfg := Config{Fields: make([]ConfigField, 0, len(c.fields)), Operators: Operators}
	for _, f := range c.fields {
		e := editors[f.Type]
		cf := ConfigField{Name: f.Name, Label: f.Label, Type: f.Type, InputType: e[0], ValueEditorType: e[1],
			Values: []Option{}, Sortable: f.Sortable()}
		for _, v := range f.Values {
			cf.Values = append(cf.Values, Option{Name: v, Label: v})
		}
		if set, ok := c.options[f.Name]; ok {
			// A relation's records (SetOptions): the value is the id.
			cf.ValueEditorType, cf.Values, cf.ValuesTruncated = "select", set.Options, set.Truncated
		}
		for _, o := range f.Operators() {
			cf.Operators = append(cf.Operators, Option{Name: string(o), Label: o.Label()})
		}
		cfg.Fields = append(cfg.Fields, cf)
	}
	return cfg
}
