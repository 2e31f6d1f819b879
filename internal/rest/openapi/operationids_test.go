package openapi

import (
	"encoding/json"
	"regexp"
	"testing"
)

// seedOperations are the reference's 42 operations with their operationIds
// (method, path as the reference writes it, id). SDKs generated from the
// reference name their methods after these ids, so they must not change.
var seedOperations = [][3]string{
	{"GET", "/api/account", "_getAccounts"},
	{"POST", "/api/account", "post_api_account_create"},
	{"DELETE", "/api/account/{account}", "delete_api_account_deleteAccount"},
	{"PATCH", "/api/account/{account}", "patch_api_account_updateAccount"},
	{"GET", "/api/automation/builder/data", "get_api_automation_getBuilderData"},
	{"GET", "/api/automation", "get_api_automation_getAutomations"},
	{"POST", "/api/automation", "post_api_automation_createAutomation"},
	{"GET", "/api/automation/{automation}", "get_api_automation_getAutomation"},
	{"DELETE", "/api/automation/{automation}", "delete_api_automation_deleteAutomation"},
	{"PATCH", "/api/automation/{automation}", "patch_api_automation_updateAutomation"},
	{"POST", "/api/automation/{automation}/duplicate", "post_api_automation_duplicateAutomation"},
	{"GET", "/api/contact", "_getContacts"},
	{"GET", "/api/contact/{contact}/lead/open", "_get_contact_open_leads"},
	{"GET", "/api/contact/phone/{phone}", "get_contact_findByPhone"},
	{"GET", "/api/custom-field", "get_api_custom_field_getCustomFields"},
	{"POST", "/api/custom-field", "post_api_custom_field_createCustomField"},
	{"GET", "/api/custom-field/{entity}", "get_api_custom_field_getCustomFieldsForEntity"},
	{"DELETE", "/api/custom-field/{customField}", "delete_api_custom_field_deleteCustomField"},
	{"PATCH", "/api/custom-field/{customField}", "patch_api_custom_field_updateCustomField"},
	{"GET", "/api/custom-labels", "get_custom_label_list"},
	{"POST", "/api/custom-labels", "post_custom_label_create"},
	{"DELETE", "/api/custom-labels/{id}", "delete_custom_label_delete"},
	{"PATCH", "/api/custom-labels/{id}", "patch_custom_label_update"},
	{"GET", "/api/filters", "get_api_filtersget_all_filters"},
	{"GET", "/api/filters/{entity}", "get_api_filtersget_entity_filters"},
	{"POST", "/api/lead", "post_lead_createLead"},
	{"POST", "/api/lead/{lead}/copy", "post_lead_copy_lead"},
	{"GET", "/api/query-builder/config/{entity}", "get_api_query_builder_config"},
	{"POST", "/api/query-builder/filter/{entity}", "post_api_query_builder_filter"},
	{"GET", "/api/saved-filter", "get_savedFilterlist"},
	{"POST", "/api/saved-filter", "post_savedFiltercreate"},
	{"GET", "/api/saved-filter/{id}", "get_savedFilterread"},
	{"DELETE", "/api/saved-filter/{filter}", "delete_savedFilterdelete"},
	{"PATCH", "/api/saved-filter/{filter}", "patch_savedFilterupdate"},
	{"GET", "/api/stage", "get_api_stage_list"},
	{"POST", "/api/stage", "post_api_stage_create"},
	{"GET", "/api/stage/{id}", "get_api_stage_get"},
	{"DELETE", "/api/stage/{id}", "delete_api_stage_delete"},
	{"PATCH", "/api/stage/{id}", "patch_api_stage_update"},
	{"POST", "/api/task", "post_api_task_create"},
	{"DELETE", "/api/task/{task}", "delete_api_task_deleteTask"},
	{"PATCH", "/api/task/{task}", "patch_api_task_updateTask"},
}

func TestSeedOperationIDsAreKept(t *testing.T) {
	raw, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// The reference names one path's template differently per method
	// (/custom-field/{entity} and {customField}); OpenAPI allows one name,
	// so paths are compared with their templates blanked.
	tmpl := regexp.MustCompile(`\{[^}]*\}`)
	ids := map[string]string{} // "METHOD /path/{}" → operationId
	seen := map[string]bool{}
	for path, item := range doc.Paths {
		for method, op := range item {
			var o struct{ OperationID string }
			if json.Unmarshal(op, &o) != nil || o.OperationID == "" {
				continue
			}
			if seen[o.OperationID] {
				t.Errorf("operationId %s is used twice", o.OperationID)
			}
			seen[o.OperationID] = true
			ids[method+" "+tmpl.ReplaceAllString(path, "{}")] = o.OperationID
		}
	}
	if len(seedOperations) != 42 {
		t.Fatalf("%d seed operations listed, the reference has 42", len(seedOperations))
	}
	for _, op := range seedOperations {
		key := map[string]string{"GET": "get", "POST": "post", "PATCH": "patch", "DELETE": "delete"}[op[0]] + " " + tmpl.ReplaceAllString(op[1], "{}")
		if got := ids[key]; got != op[2] {
			t.Errorf("%s %s: operationId %q, the reference's is %q", op[0], op[1], got, op[2])
		}
	}
}
