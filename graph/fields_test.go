package graph_test

import (
	"slices"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The fields the generated schema cannot carry resolve: the viewer, custom
// field values, an automation's graph edges and its pending runs.
func TestHandWrittenFieldsResolve(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})

		var v struct {
			Viewer struct {
				User        struct{ Email string }
				Tenant      struct{ Domain string }
				Permissions []string
			}
		}
		query(t, s, user, `{ viewer { user { email } tenant { domain } permissions } }`, nil).into(t, &v)
		if v.Viewer.User.Email != user || v.Viewer.Tenant.Domain != "demo-motors.test" ||
			!slices.Contains(v.Viewer.Permissions, "lead.read") || slices.Contains(v.Viewer.Permissions, "stage.manage") {
			t.Errorf("viewer of %s: %+v", user, v.Viewer)
		}

		var leads struct {
			Leads struct {
				Edges []struct {
					Node struct {
						CustomFieldValues []struct {
							Value       string
							CustomField struct{ FieldName string }
						}
					}
				}
			}
		}
		query(t, s, admin, `{ leads(first: 30) { edges { node { customFieldValues { value customField { fieldName } } } } } }`, nil).into(t, &leads)
		valued := 0 // the seed gives every third lead a budget
		for _, e := range leads.Leads.Edges {
			for _, v := range e.Node.CustomFieldValues {
				if v.CustomField.FieldName != "budget" || v.Value == "" {
					t.Errorf("custom field value %+v", v)
				}
				valued++
			}
		}
		if valued != len(leads.Leads.Edges)/3 {
			t.Errorf("%d of %d leads have a budget, want a third", valued, len(leads.Leads.Edges))
		}

		var autos struct {
			Automations struct {
				Edges []struct {
					Node struct {
						Edges                   []map[string]any
						DelayedAutomationsCount int
						Franchise               struct{ Name string }
					}
				}
			}
		}
		query(t, s, admin, `{ automations { edges { node { edges delayedAutomationsCount franchise { name } } } } }`, nil).into(t, &autos)
		a := autos.Automations.Edges[0].Node
		if len(a.Edges) != 2 || a.Edges[0]["source"] != "trigger" || a.Franchise.Name == "" {
			t.Errorf("automation: %+v", a)
		}
	})
}
