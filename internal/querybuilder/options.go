package querybuilder

import (
	"context"
	"database/sql"
	"slices"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
)

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

// LoadOptions loads the value options of the catalogue's relation fields
// compared by id (stage, status, source, franchise, department, soldBy,
// assignees, a task's assignee): each record's id as the value and its
// compared column (name, email) as the label, live records of the tenant
// only, ordered by label. Config then lists them with a select editor. The
// fields are in the catalogue only when the viewer may read their records,
// so the options show nothing the viewer could not list. One statement per
// related table.
func (c *Catalogue) LoadOptions(ctx context.Context, client *ent.Client) error {
	byTable := map[string][]Option{}
	c.options = map[string][]Option{}
	for _, f := range c.fields {
		if !f.src.byID || len(f.src.targets) == 0 {
			continue
		}
		opts, offered := []Option{}, true
		for _, t := range f.src.targets {
			if offered = optionTables[t.table]; !offered {
				break
			}
			o, ok := byTable[t.table]
			if !ok {
				var err error
				if o, err = c.loadOptions(ctx, client, t); err != nil {
					return err
				}
				byTable[t.table] = o
			}
			opts = append(opts, o...)
		}
		if offered {
			c.options[f.Name] = slices.Clip(opts)
		}
	}
	return nil
}

func (c *Catalogue) loadOptions(ctx context.Context, client *ent.Client, t target) ([]Option, error) {
	// Identifiers from this package's own tables (fields.go), never from a
	// request; the tenant is the viewer's.
	rows, err := client.QueryContext(ctx, "SELECT id, "+t.column+" FROM "+t.table+
		" WHERE tenant_id = $1 AND is_deleted = false ORDER BY "+t.column+", id", c.tenant)
	if err != nil {
		return nil, crm.AsError(err)
	}
	defer rows.Close()
	opts := []Option{}
	for rows.Next() {
		var id uuid.UUID
		var label sql.NullString
		if err := rows.Scan(&id, &label); err != nil {
			return nil, crm.AsError(err)
		}
		opts = append(opts, Option{Name: id.String(), Label: label.String})
	}
	if err := rows.Err(); err != nil {
		return nil, crm.AsError(err)
	}
	return opts, nil
}
