package crm

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/conecrm/gateway/internal/fault"
)

// AutomationBuilder is what the automation builder offers: the events an
// automation can start on, and the node types of its graph (actions do
// something, conditions branch). It is GET /api/automation/builder/data.
type AutomationBuilder struct {
	Triggers   []string
	Actions    []string
	Conditions []string
	// NodeSchemas is the JSON Schema of each node type's data, by type.
	NodeSchemas map[string]json.RawMessage
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
		"filter",
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
// every node has a unique, non-empty string id, a supported type and data
// valid for its type's JSON Schema; a non-empty graph has exactly one
// trigger node; every edge joins two different existing nodes (source →
// target), edge ids, when given, are unique strings, and the edges form no
// cycle. Other keys (position, labels…) belong to the front end and are
// stored as sent.
func checkAutomationGraph(v *fault.Validation, nodes, edges []map[string]any) {
	ids := make(map[string]bool, len(nodes))
	triggers := 0
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
		t, ok := n["type"].(string)
		if !ok || !isNodeType(t) {
			v.Add(path+".type", "must be trigger or one of the builder's actions and conditions")
			continue
		}
		if t == triggerNodeType {
			if triggers++; triggers == 2 {
				v.Add(path+".type", "a graph has exactly one trigger node")
			}
		}
		checkNodeData(v, path+".data", t, n["data"])
	}
	if len(nodes) > 0 && triggers == 0 {
		v.Add("nodes", "a graph has exactly one trigger node")
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
	if v.Err() == nil {
		if at := cycleAt(edges); at >= 0 {
			v.Add(fmt.Sprintf("edges[%d]", at), "closes a cycle (the graph must be acyclic)")
		}
	}
}

// cycleAt returns the index of an edge that closes a cycle, or -1.
func cycleAt(edges []map[string]any) int {
	out := map[string][]int{}
	for i, e := range edges {
		src, _ := e["source"].(string)
		out[src] = append(out[src], i)
	}
	const (
		unseen = iota
		open
		closed
	)
	state := map[string]int{}
	var visit func(n string) int
	visit = func(n string) int {
		state[n] = open
		for _, i := range out[n] {
			t, _ := edges[i]["target"].(string)
			switch state[t] {
			case open:
				return i
			case unseen:
				if at := visit(t); at >= 0 {
					return at
				}
			}
		}
		state[n] = closed
		return -1
	}
	for i := range edges {
		src, _ := edges[i]["source"].(string)
		if state[src] == unseen {
			if at := visit(src); at >= 0 {
				return at
			}
		}
	}
	return -1
}

// AutomationTriggers returns the topics an automation can start on.
func AutomationTriggers() []string { return slices.Clone(automationCatalogue.Triggers) }

// TriggerNodeType is the type of a graph's start node.
const TriggerNodeType = triggerNodeType

// IsCondition reports whether a node type is a condition (it branches).
func IsCondition(t string) bool { return slices.Contains(automationCatalogue.Conditions, t) }

// webhookSecretKey is the write-only key of a webhook node's data; the
// stored data has hasSecret in its place.
const webhookSecretKey = "secret"

// splitWebhookSecrets moves the secret of each webhook node of nodes out of
// its data (into the returned map, by node id) and marks the data
// hasSecret. A webhook node sent without a secret keeps the one stored for
// its id in stored; having none is an error on that node. Secrets of nodes
// no longer in the graph are dropped. The node maps are copied, not changed.
func splitWebhookSecrets(v *fault.Validation, nodes []map[string]any, stored map[string]string) ([]map[string]any, map[string]string) {
	secrets := map[string]string{}
	out := make([]map[string]any, len(nodes))
	for i, n := range nodes {
		out[i] = n
		if t, _ := n["type"].(string); t != "webhook" {
			continue
		}
		id, _ := n["id"].(string)
		data, _ := n["data"].(map[string]any)
		copied := make(map[string]any, len(data)+1)
		for k, val := range data {
			copied[k] = val
		}
		secret, _ := copied[webhookSecretKey].(string)
		delete(copied, webhookSecretKey)
		if secret == "" {
			secret = stored[id]
		}
		if secret == "" {
			v.Add(fmt.Sprintf("nodes[%d].data.secret", i), "is required (the node has no stored secret)")
		}
		secrets[id] = secret
		copied["hasSecret"] = secret != ""
		node := make(map[string]any, len(n))
		for k, val := range n {
			node[k] = val
		}
		node["data"] = copied
		out[i] = node
	}
	return out, secrets
}
