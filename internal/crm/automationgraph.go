package crm

import (
	"fmt"
	"slices"
)

// AutomationBuilder is what the automation builder offers: the events an
// automation can start on, and the node types of its graph (actions do
// something, conditions branch). It is GET /api/automation/builder/data.
type AutomationBuilder struct {
	Triggers   []string
	Actions    []string
	Conditions []string
}

// automationCatalogue is the one list of what the server supports: the
// builder data shows it and automation validation accepts exactly it.
var automationCatalogue = AutomationBuilder{
	Triggers: []string{
		"lead.created", "lead.updated", "lead.assigned", "lead.stage_changed", "lead.status_changed",
		"task.created", "task.completed", "appointment.created",
	},
	Actions: []string{
		"delay", "createTask", "createFollowUp", "sendEmail", "sendSms",
		"assignLead", "changeStage", "changeStatus", "webhook",
	},
	Conditions: []string{
		"leadSource", "leadStatus", "leadStage", "franchise", "department", "customFieldValue", "businessHours",
	},
}

// triggerNodeType is the type of the node that stands for the trigger in a
// graph (the start of the flow); it is neither an action nor a condition.
const triggerNodeType = "trigger"

// isNodeType reports whether t is a node type a graph may hold.
func isNodeType(t string) bool {
	return t == triggerNodeType || slices.Contains(automationCatalogue.Actions, t) ||
		slices.Contains(automationCatalogue.Conditions, t)
}

// checkAutomationGraph adds the errors of a React-Flow-style graph to v:
// every node has a unique, non-empty string id and a supported type; every
// edge joins two different existing nodes (source → target), and edge ids,
// when given, are unique strings. Other keys (position, data, labels…)
// belong to the front end and are stored as sent.
func checkAutomationGraph(v *Validation, nodes, edges []map[string]any) {
	ids := make(map[string]bool, len(nodes))
	for i, n := range nodes {
		path := fmt.Sprintf("nodes[%d]", i)
		if n == nil {
			v.Add(path, "must be an object")
			continue
		}
		id, ok := n["id"].(string)
		switch {
		case !ok || id == "":
			v.Add(path+".id", "is required (a non-empty string)")
		case ids[id]:
			v.Add(path+".id", fmt.Sprintf("%q is used by another node", id))
		default:
			ids[id] = true
		}
		if t, ok := n["type"].(string); !ok || !isNodeType(t) {
			v.Add(path+".type", "must be trigger or one of the builder's actions and conditions")
		}
	}
	edgeIDs := map[string]bool{}
	for i, e := range edges {
		path := fmt.Sprintf("edges[%d]", i)
		if e == nil {
			v.Add(path, "must be an object")
			continue
		}
		if raw, given := e["id"]; given {
			id, ok := raw.(string)
			switch {
			case !ok || id == "":
				v.Add(path+".id", "must be a non-empty string")
			case edgeIDs[id]:
				v.Add(path+".id", fmt.Sprintf("%q is used by another edge", id))
			default:
				edgeIDs[id] = true
			}
		}
		source, sourceOK := e["source"].(string)
		target, targetOK := e["target"].(string)
		if !sourceOK || !ids[source] {
			v.Add(path+".source", "must be the id of a node")
		}
		if !targetOK || !ids[target] {
			v.Add(path+".target", "must be the id of a node")
		}
		if sourceOK && targetOK && source == target {
			v.Add(path+".target", "must differ from source (no self-loop)")
		}
	}
}
