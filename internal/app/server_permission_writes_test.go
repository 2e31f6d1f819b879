package app_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/graph/generated"
	"github.com/conecrm/gateway/internal/crm"
)

// The lead, contact and pipeline writes (schema/writes.graphqls), the
// tenant's settings (schema/tenant.graphqls) and the webhook endpoints
// (schema/webhooks.graphqls) in the GraphQL permission matrix and
// docs/permissions.md.
func init() { graphqlMutations = append(graphqlMutations, writeMutations...) }

// unmatrixed are the mutations the matrix cannot run, each with where its
// permission is tested instead.
var unmatrixed = map[string]string{
	"testAutomation": "needs the automation runtime (River), which the matrix's gateway does not start; internal/automation's TestTestAutomationNeedsAutomationRead checks its automation.read",
}

// Every mutation of the schema has a row in the GraphQL permission matrix
// (or says above why not): the list is checked against the executable
// schema, so a new mutation without its row fails here.
func TestEveryMutationIsInThePermissionMatrix(t *testing.T) {
	rows := map[string]bool{}
	for _, m := range graphqlMutations {
		if rows[m.name] {
			t.Errorf("mutation %s has two rows", m.name)
		}
		rows[m.name] = true
	}
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var names []string
	for _, f := range schema.Mutation.Fields {
		names = append(names, f.Name)
		if !rows[f.Name] && unmatrixed[f.Name] == "" {
			t.Errorf("mutation %s has no row in the GraphQL permission matrix (graphqlMutations)", f.Name)
		}
	}
	for name := range rows {
		if !slices.Contains(names, name) {
			t.Errorf("the matrix has a row for %s, which the schema does not have", name)
		}
	}
	for name := range unmatrixed {
		if rows[name] || !slices.Contains(names, name) {
			t.Errorf("unmatrixed %s: has a row, or is not in the schema", name)
		}
	}
}

func (f *tenantFixture) newContact() uuid.UUID {
	c, err := f.db.Contact.Create().SetTenantID(f.id).SetFirstName(f.name("Probe contact")).Save(f.sys)
	f.must(err)
	return c.ID
}

// newPipeline makes a pipeline holding two fresh stages.
func (f *tenantFixture) newPipeline() (pipeline uuid.UUID, stages [2]uuid.UUID) {
	p, err := f.db.Pipeline.Create().SetTenantID(f.id).SetName(f.name("Probe pipeline")).Save(f.sys)
	f.must(err)
	for i := range stages {
		stages[i] = f.newStage()
		f.must(f.db.PipelineStage.Create().SetTenantID(f.id).SetPipelineID(p.ID).SetStageID(stages[i]).SetPosition(i).Exec(f.sys))
	}
	return p.ID, stages
}

// boardStage is the first stage of the pipeline of the fixture's
// department (where its leads may move).
func (f *tenantFixture) boardStage() uuid.UUID {
	_, s := f.board()
	return s
}

// board is the pipeline of the fixture's department and its first stage,
// read, not made (the isolation test's requests must write nothing).
func (f *tenantFixture) board() (pipeline, stage uuid.UUID) {
	d, err := f.db.Department.Get(f.sys, f.department)
	f.must(err)
	if d.PipelineID == nil {
		f.t.Fatal("the fixture's department has no pipeline")
	}
	s, err := f.db.PipelineStage.Query().Where(pipelinestage.PipelineID(*d.PipelineID)).
		Order(pipelinestage.ByPosition()).First(f.sys)
	f.must(err)
	return *d.PipelineID, s.StageID
}

func pipelineOp(name, decls, args string, vars func(f *tenantFixture) map[string]any) func(*tenantFixture, actor) (string, map[string]any) {
	return func(f *tenantFixture, _ actor) (string, map[string]any) {
		return gqlOp(decls, name, args, "{ id }"), vars(f)
	}
}

var writeMutations = []gqlMutation{
	{name: "updateLead", perm: crm.PermLeadWrite, op: withID("UpdateLeadInput!", "updateLead", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newLead() },
		func(f *tenantFixture, _ actor) any { return map[string]any{"subject": f.name("Updated lead")} })},
	{name: "assignLead", perm: crm.PermLeadWrite, op: func(f *tenantFixture, _ actor) (string, map[string]any) {
		return gqlOp("$id: ID!, $to: [ID!]!", "assignLead", "id: $id, assigneeIDs: $to", "{ id }"),
			map[string]any{"id": f.newLead(), "to": []string{f.manager.id.String()}}
	}},
	{name: "moveLead", perm: crm.PermLeadWrite, op: func(f *tenantFixture, _ actor) (string, map[string]any) {
		return gqlOp("$id: ID!, $stage: ID!", "moveLead", "id: $id, stageID: $stage, position: 0", "{ id }"),
			map[string]any{"id": f.newLead(), "stage": f.boardStage()}
	}},
	{name: "openLead", perm: crm.PermLeadRead, op: withID("", "openLead", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newLead() }, nil)},

	{name: "createContact", perm: crm.PermContactWrite, op: create("ContactInput!", "createContact", "{ id }",
		func(f *tenantFixture, _ actor) any { return map[string]any{"firstName": f.name("GraphQL contact")} })},
	{name: "updateContact", perm: crm.PermContactWrite, op: withID("ContactInput!", "updateContact", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newContact() },
		func(f *tenantFixture, _ actor) any { return map[string]any{"city": f.name("Laval")} })},
	{name: "deleteContact", perm: crm.PermContactDelete, op: withID("", "deleteContact", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newContact() }, nil)},

	{name: "createPipeline", perm: crm.PermStageManage, op: pipelineOp("createPipeline", "$name: String!, $stages: [ID!]", "name: $name, stageIDs: $stages",
		func(f *tenantFixture) map[string]any {
			return map[string]any{"name": f.name("GraphQL pipeline"), "stages": []uuid.UUID{f.newStage()}}
		})},
	{name: "renamePipeline", perm: crm.PermStageManage, op: pipelineOp("renamePipeline", "$id: ID!, $name: String!", "id: $id, name: $name",
		func(f *tenantFixture) map[string]any {
			p, _ := f.newPipeline()
			return map[string]any{"id": p, "name": f.name("Renamed pipeline")}
		})},
	{name: "deletePipeline", perm: crm.PermStageManage, op: withID("", "deletePipeline", "",
		func(f *tenantFixture, _ actor) uuid.UUID { p, _ := f.newPipeline(); return p }, nil)},
	{name: "addPipelineStage", perm: crm.PermStageManage, op: pipelineOp("addPipelineStage", "$p: ID!, $s: ID!", "pipelineID: $p, stageID: $s",
		func(f *tenantFixture) map[string]any {
			p, _ := f.newPipeline()
			return map[string]any{"p": p, "s": f.newStage()}
		})},
	{name: "removePipelineStage", perm: crm.PermStageManage, op: pipelineOp("removePipelineStage", "$p: ID!, $s: ID!", "pipelineID: $p, stageID: $s",
		func(f *tenantFixture) map[string]any {
			p, s := f.newPipeline()
			return map[string]any{"p": p, "s": s[0]}
		})},
	{name: "movePipelineStage", perm: crm.PermStageManage, op: pipelineOp("movePipelineStage", "$p: ID!, $s: ID!", "pipelineID: $p, stageID: $s, position: 0",
		func(f *tenantFixture) map[string]any {
			p, s := f.newPipeline()
			return map[string]any{"p": p, "s": s[1]}
		})},

	// The tenant's own row: setting the country it already has after the
	// first allowed call writes nothing, which the matrix does not mind.
	{name: "updateTenant", perm: crm.PermSettingsManage, op: create("UpdateTenantInput!", "updateTenant", "{ id country }",
		func(*tenantFixture, actor) any { return map[string]any{"country": "US"} })},

	{name: "createWebhookEndpoint", perm: crm.PermWebhookManage, op: create("CreateWebhookEndpointInput!", "createWebhookEndpoint", "{ secret }",
		func(f *tenantFixture, _ actor) any {
			return map[string]any{"url": "https://example.com/" + f.name("gql-hook"), "events": []string{"lead.created"}}
		})},
	{name: "updateWebhookEndpoint", perm: crm.PermWebhookManage, op: withID("UpdateWebhookEndpointInput!", "updateWebhookEndpoint", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newWebhook() },
		func(*tenantFixture, actor) any { return map[string]any{"isActive": false} })},
	{name: "rotateWebhookEndpointSecret", perm: crm.PermWebhookManage, op: withID("", "rotateWebhookEndpointSecret", "{ secret }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newWebhook() }, nil)},
	{name: "deleteWebhookEndpoint", perm: crm.PermWebhookManage, op: withID("", "deleteWebhookEndpoint", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newWebhook() }, nil)},
}

// writeRefs are the lead, contact, pipeline and webhook endpoint
// mutations naming another tenant's record, for
// TestGraphQLMutationsWithAnotherTenantsIDsAreLikeUnknownIDs (which
// snapshots the database before op: op names the caller's existing
// records only).
func writeRefs() []gqlRef {
	byID := func(name, sel, extraDecls, extraArgs string, extra func(f *tenantFixture) map[string]any) func(*tenantFixture, uuid.UUID) (string, map[string]any) {
		return func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
			vars := map[string]any{"id": ref}
			for k, v := range extra(f) {
				vars[k] = v
			}
			return gqlOp("$id: ID!"+extraDecls, name, "id: $id"+extraArgs, sel), vars
		}
	}
	none := func(*tenantFixture) map[string]any { return nil }
	subject := func(*tenantFixture) map[string]any {
		return map[string]any{"input": map[string]any{"subject": "Stolen"}}
	}
	// updateLead of the caller's own lead with another tenant's record in key.
	leadRef := func(key string) func(*tenantFixture, uuid.UUID) (string, map[string]any) {
		return func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
			return gqlOp("$id: ID!, $input: UpdateLeadInput!", "updateLead", "id: $id, input: $input", "{ id }"),
				map[string]any{"id": f.lead, "input": map[string]any{key: ref}}
		}
	}
	pipeline := func(o *tenantFixture) uuid.UUID { p, _ := o.newPipeline(); return p }
	stageOf := func(o *tenantFixture) uuid.UUID { _, s := o.newPipeline(); return s[0] }
	onPipeline := func(name, extra string) func(*tenantFixture, uuid.UUID) (string, map[string]any) {
		return func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
			_, s := f.board()
			return gqlOp("$p: ID!, $s: ID!", name, "pipelineID: $p, stageID: $s"+extra, "{ id }"), map[string]any{"p": ref, "s": s[0]}
		}
	}
	stageTo := func(name, extra string) func(*tenantFixture, uuid.UUID) (string, map[string]any) {
		return func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
			p, _ := f.board()
			return gqlOp("$p: ID!, $s: ID!", name, "pipelineID: $p, stageID: $s"+extra, "{ id }"), map[string]any{"p": p, "s": ref}
		}
	}
	lead := func(o *tenantFixture) uuid.UUID { return o.newLead() }
	return []gqlRef{
		{"updateLead id", "updateLead", lead, byID("updateLead", "{ id }", ", $input: UpdateLeadInput!", ", input: $input", subject)},
		{"updateLead status", "updateLead", func(o *tenantFixture) uuid.UUID { return o.newStatus() }, leadRef("statusID")},
		{"updateLead stage", "updateLead", func(o *tenantFixture) uuid.UUID { return o.boardStage() }, leadRef("stageID")},
		{"updateLead contact", "updateLead", func(o *tenantFixture) uuid.UUID { return o.newContact() }, leadRef("contactID")},
		{"updateLead account", "updateLead", func(o *tenantFixture) uuid.UUID { return o.newAccount() }, leadRef("accountID")},
		{"updateLead source", "updateLead", func(o *tenantFixture) uuid.UUID { return o.source }, leadRef("sourceID")},
		{"updateLead department", "updateLead", func(o *tenantFixture) uuid.UUID { return o.department }, leadRef("departmentID")},
		{"updateLead franchise", "updateLead", func(o *tenantFixture) uuid.UUID { return o.franchise }, leadRef("franchiseID")},
		{"assignLead id", "assignLead", lead, byID("assignLead", "{ id }", ", $to: [ID!]!", ", assigneeIDs: $to",
			func(f *tenantFixture) map[string]any { return map[string]any{"to": []uuid.UUID{f.user.id}} })},
		{"assignLead assignee", "assignLead", func(o *tenantFixture) uuid.UUID { return o.user.id },
			func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
				return gqlOp("$id: ID!, $to: [ID!]!", "assignLead", "id: $id, assigneeIDs: $to", "{ id }"),
					map[string]any{"id": f.lead, "to": []uuid.UUID{ref}}
			}},
		{"moveLead id", "moveLead", lead, byID("moveLead", "{ id }", ", $stage: ID!", ", stageID: $stage, position: 0",
			func(f *tenantFixture) map[string]any { return map[string]any{"stage": f.boardStage()} })},
		{"moveLead stage", "moveLead", func(o *tenantFixture) uuid.UUID { return o.boardStage() },
			func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
				return gqlOp("$id: ID!, $stage: ID!", "moveLead", "id: $id, stageID: $stage, position: 0", "{ id }"),
					map[string]any{"id": f.lead, "stage": ref}
			}},
		{"openLead id", "openLead", lead, byID("openLead", "{ id }", "", "", none)},
		{"updateContact id", "updateContact", func(o *tenantFixture) uuid.UUID { return o.newContact() },
			byID("updateContact", "{ id }", ", $input: ContactInput!", ", input: $input",
				func(*tenantFixture) map[string]any {
					return map[string]any{"input": map[string]any{"firstName": "Stolen"}}
				})},
		{"deleteContact id", "deleteContact", func(o *tenantFixture) uuid.UUID { return o.newContact() }, byID("deleteContact", "", "", "", none)},
		{"createPipeline stages", "createPipeline", func(o *tenantFixture) uuid.UUID { return o.newStage() },
			func(_ *tenantFixture, ref uuid.UUID) (string, map[string]any) {
				return gqlOp("$s: [ID!]", "createPipeline", `name: "Isolation", stageIDs: $s`, "{ id }"), map[string]any{"s": []uuid.UUID{ref}}
			}},
		{"renamePipeline id", "renamePipeline", pipeline, byID("renamePipeline", "{ id }", "", `, name: "Stolen"`, none)},
		{"deletePipeline id", "deletePipeline", pipeline, byID("deletePipeline", "", "", "", none)},
		{"addPipelineStage pipeline", "addPipelineStage", pipeline, func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
			return gqlOp("$p: ID!, $s: ID!", "addPipelineStage", "pipelineID: $p, stageID: $s", "{ id }"), map[string]any{"p": ref, "s": f.boardStage()}
		}},
		{"addPipelineStage stage", "addPipelineStage", func(o *tenantFixture) uuid.UUID { return o.newStage() }, stageTo("addPipelineStage", "")},
		{"removePipelineStage pipeline", "removePipelineStage", pipeline, onPipeline("removePipelineStage", "")},
		{"removePipelineStage stage", "removePipelineStage", stageOf, stageTo("removePipelineStage", "")},
		{"movePipelineStage pipeline", "movePipelineStage", pipeline, onPipeline("movePipelineStage", ", position: 1")},
		{"movePipelineStage stage", "movePipelineStage", stageOf, stageTo("movePipelineStage", ", position: 1")},
		{"updateWebhookEndpoint id", "updateWebhookEndpoint", func(o *tenantFixture) uuid.UUID { return o.newWebhook() },
			byID("updateWebhookEndpoint", "{ id }", ", $input: UpdateWebhookEndpointInput!", ", input: $input",
				func(*tenantFixture) map[string]any { return map[string]any{"input": map[string]any{"isActive": false}} })},
		{"rotateWebhookEndpointSecret id", "rotateWebhookEndpointSecret", func(o *tenantFixture) uuid.UUID { return o.newWebhook() },
			byID("rotateWebhookEndpointSecret", "{ secret }", "", "", none)},
		{"deleteWebhookEndpoint id", "deleteWebhookEndpoint", func(o *tenantFixture) uuid.UUID { return o.newWebhook() },
			byID("deleteWebhookEndpoint", "", "", "", none)},
	}
}
