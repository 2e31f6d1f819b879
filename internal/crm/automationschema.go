package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
)

// Delay units a delay node accepts.
var DelayUnits = []string{"seconds", "minutes", "hours", "days"}

// nodeDataSchemas is the JSON Schema of each node type's data: the builder
// data publishes it and saving an automation validates with it, so the
// builder and the server cannot disagree.
var nodeDataSchemas = map[string]map[string]any{
	triggerNodeType: object(nil, nil),
	"delay": object(map[string]any{
		"amount":        map[string]any{"type": "integer", "minimum": 1, "maximum": 100000},
		"unit":          map[string]any{"enum": DelayUnits},
		"businessHours": businessHoursSchema(),
	}, []string{"amount", "unit"}),
	"createTask": object(map[string]any{
		"title":      text(200),
		"type":       map[string]any{"enum": []string{"CALL", "MEETING", "OTHER", "SMS", "FOLLOW_UP", "REMINDER", "LINKEDIN_MESSAGE", "DM"}},
		"note":       text(4000),
		"assigneeId": uuidSchema(),
		"dueInHours": map[string]any{"type": "number", "minimum": 0, "maximum": 100000},
	}, []string{"title"}),
	"createFollowUp": object(map[string]any{
		"title":      text(200),
		"note":       text(4000),
		"assigneeId": uuidSchema(),
		"dueInHours": map[string]any{"type": "number", "minimum": 0, "maximum": 100000},
	}, []string{"title"}),
	"sendEmail": object(map[string]any{
		"to":      map[string]any{"type": "string", "minLength": 1, "maxLength": 320, "description": `"contact" (the lead's contact) or an address`},
		"subject": text(200),
		"body":    text(20000),
	}, []string{"subject", "body"}),
	"sendSms": object(map[string]any{
		"to":   map[string]any{"type": "string", "minLength": 1, "maxLength": 40, "description": `"contact" (the lead's contact) or a phone number`},
		"body": text(1600),
	}, []string{"body"}),
	"assignLead": object(map[string]any{
		"mode":    map[string]any{"enum": []string{"roundRobin", "user", "group"}},
		"userId":  uuidSchema(),
		"groupId": uuidSchema(),
	}, []string{"mode"}),
	"changeStage":  object(map[string]any{"stageId": uuidSchema()}, []string{"stageId"}),
	"changeStatus": object(map[string]any{"statusId": uuidSchema()}, []string{"statusId"}),
	"webhook": object(map[string]any{
		"url": map[string]any{"type": "string", "pattern": "^https?://", "maxLength": 2000},
		// Write-only: stored apart from the graph and never answered;
		// hasSecret says one is stored, and omitting secret keeps it.
		"secret": map[string]any{"type": "string", "minLength": 16, "maxLength": 200, "writeOnly": true,
			"description": "HMAC-SHA256 signing key; required when the node has none yet, never returned"},
		"hasSecret": map[string]any{"type": "boolean", "readOnly": true},
	}, []string{"url"}),
	"leadSource":    object(map[string]any{"sourceIds": idList()}, []string{"sourceIds"}),
	"leadStatus":    object(map[string]any{"statusIds": idList()}, []string{"statusIds"}),
	"leadStage":     object(map[string]any{"stageIds": idList()}, []string{"stageIds"}),
	"franchise":     object(map[string]any{"franchiseIds": idList()}, []string{"franchiseIds"}),
	"department":    object(map[string]any{"departmentIds": idList()}, []string{"departmentIds"}),
	"businessHours": businessHoursSchema(),
	"filter":        object(map[string]any{"query": map[string]any{"type": "object"}}, []string{"query"}),
	"customFieldValue": object(map[string]any{
		"fieldId":  uuidSchema(),
		"operator": map[string]any{"enum": []string{"equals", "notEquals", "contains", "isEmpty", "isNotEmpty"}},
		"value":    map[string]any{"type": "string", "maxLength": 1000},
	}, []string{"fieldId", "operator"}),
}

func object(props map[string]any, required []string) map[string]any {
	s := map[string]any{"type": "object"}
	if props != nil {
		s["properties"] = props
	}
	if required != nil {
		s["required"] = required
	}
	return s
}

func text(max int) map[string]any {
	return map[string]any{"type": "string", "minLength": 1, "maxLength": max}
}

func uuidSchema() map[string]any {
	return map[string]any{"type": "string", "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}
}

func idList() map[string]any {
	return map[string]any{"type": "array", "items": uuidSchema(), "minItems": 1, "maxItems": 100}
}

func businessHoursSchema() map[string]any {
	hhmm := map[string]any{"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
	return object(map[string]any{
		"timezone": map[string]any{"type": "string", "maxLength": 64, "description": "IANA zone, UTC when absent"},
		"days":     map[string]any{"type": "array", "items": map[string]any{"type": "integer", "minimum": 0, "maximum": 6}, "description": "0 = Sunday; Monday to Friday when absent"},
		"start":    hhmm,
		"end":      hhmm,
	}, nil)
}

// NodeDataSchemas returns the JSON Schema of every node type's data (a
// copy, encoded), as the builder data publishes it.
func NodeDataSchemas() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(nodeDataSchemas))
	for k, v := range nodeDataSchemas {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}

var compiledSchemas = sync.OnceValue(func() map[string]*jsonschema.Schema {
	c := jsonschema.NewCompiler()
	out := map[string]*jsonschema.Schema{}
	for name, s := range nodeDataSchemas {
		url := "mem://node/" + name
		// Round-trip through JSON so the compiler sees plain JSON values.
		b, _ := json.Marshal(s)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
		if err != nil {
			panic(err)
		}
		if err := c.AddResource(url, doc); err != nil {
			panic(err)
		}
		out[name] = c.MustCompile(url)
	}
	return out
})

// checkNodeData validates one node's data against its type's schema,
// adding errors at path (nodes[i].data).
func checkNodeData(v *fault.Validation, path, typ string, data any) {
	s, ok := compiledSchemas()[typ]
	if !ok {
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	b, err := json.Marshal(data)
	if err != nil {
		v.Add(path, "must be a JSON object")
		return
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		v.Add(path, "must be a JSON object")
		return
	}
	err = s.Validate(doc)
	if err == nil {
		return
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		v.Add(path, err.Error())
		return
	}
	for _, leaf := range leaves(ve) {
		p := path
		if len(leaf.InstanceLocation) > 0 {
			p += "." + strings.Join(leaf.InstanceLocation, ".")
		}
		v.Add(p, leaf.ErrorKind.LocalizedString(english))
	}
}

var english = message.NewPrinter(language.English)

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// checkNodeReferences checks that the ids a graph's node data name are live
// records of the tenant (unknown ids are bad input naming the field).
func checkNodeReferences(ctx context.Context, tx *ent.Client, v *fault.Validation, nodes []map[string]any) error {
	for i, n := range nodes {
		data, _ := n["data"].(map[string]any)
		typ, _ := n["type"].(string)
		if data == nil {
			continue
		}
		path := fmt.Sprintf("nodes[%d].data", i)
		check := func(key string, exists func(ids []uuid.UUID) (int, error)) error {
			var ids []uuid.UUID
			switch raw := data[key].(type) {
			case string:
				if id, err := uuid.Parse(raw); err == nil {
					ids = append(ids, id)
				}
			case []any:
				for _, r := range raw {
					if s, ok := r.(string); ok {
						if id, err := uuid.Parse(s); err == nil && !slices.Contains(ids, id) {
							ids = append(ids, id)
						}
					}
				}
			}
			if len(ids) == 0 {
				return nil
			}
			n, err := exists(ids)
			if err != nil {
				return err
			}
			if n != len(ids) {
				v.Add(path+"."+key, "names no record of this tenant")
			}
			return nil
		}
		var err error
		switch typ {
		case "createTask", "createFollowUp":
			err = check("assigneeId", func(ids []uuid.UUID) (int, error) {
				u, err := tx.User.Query().Where(user.IDIn(ids...)).Count(ctx)
				if err != nil {
					return 0, err
				}
				g, err := tx.SecurityGroup.Query().Where(securitygroup.IDIn(ids...)).Count(ctx)
				return u + g, err
			})
		case "assignLead":
			if err = check("userId", func(ids []uuid.UUID) (int, error) {
				return tx.User.Query().Where(user.IDIn(ids...)).Count(ctx)
			}); err == nil {
				err = check("groupId", func(ids []uuid.UUID) (int, error) {
					return tx.SecurityGroup.Query().Where(securitygroup.IDIn(ids...)).Count(ctx)
				})
			}
			if mode, _ := data["mode"].(string); mode == "user" && data["userId"] == nil {
				v.Add(path+".userId", "is required when mode is user")
			} else if mode == "group" && data["groupId"] == nil {
				v.Add(path+".groupId", "is required when mode is group")
			}
		case "changeStage":
			err = check("stageId", func(ids []uuid.UUID) (int, error) {
				return tx.ConnectionStage.Query().Where(connectionstage.IDIn(ids...)).Count(ctx)
			})
		case "leadStage":
			err = check("stageIds", func(ids []uuid.UUID) (int, error) {
				return tx.ConnectionStage.Query().Where(connectionstage.IDIn(ids...)).Count(ctx)
			})
		case "changeStatus":
			err = check("statusId", func(ids []uuid.UUID) (int, error) {
				return tx.Status.Query().Where(status.IDIn(ids...)).Count(ctx)
			})
		case "leadStatus":
			err = check("statusIds", func(ids []uuid.UUID) (int, error) {
				return tx.Status.Query().Where(status.IDIn(ids...)).Count(ctx)
			})
		case "leadSource":
			err = check("sourceIds", func(ids []uuid.UUID) (int, error) {
				return tx.Source.Query().Where(source.IDIn(ids...)).Count(ctx)
			})
		case "franchise":
			err = check("franchiseIds", func(ids []uuid.UUID) (int, error) {
				return tx.Franchise.Query().Where(franchise.IDIn(ids...)).Count(ctx)
			})
		case "department":
			err = check("departmentIds", func(ids []uuid.UUID) (int, error) {
				return tx.Department.Query().Where(department.IDIn(ids...)).Count(ctx)
			})
		case "customFieldValue":
			err = check("fieldId", func(ids []uuid.UUID) (int, error) {
				return tx.CustomField.Query().Where(customfield.IDIn(ids...), customfield.EntityEQ(customfield.EntityLead)).Count(ctx)
			})
		case "filter":
			q, _ := json.Marshal(data["query"])
			if ferr := checkFilter(ctx, tx, "lead", q); ferr != nil {
				if e := AsError(ferr); e.Code == fault.Invalid {
					v.Add(path+".query", e.Message)
				} else {
					err = ferr
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
