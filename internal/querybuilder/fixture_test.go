package querybuilder_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/predicate"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// The fixture is a tenant of its own, "fixture.test", whose rows are
// written out below so tests can state expected results by hand. Its traps:
// a deleted lead, a deleted stage, contact, user and custom field, a lead
// whose contact belongs to another tenant, and a custom value stored under
// another tenant's id; none of them may ever match.

type fxLead struct {
	key         string
	subject     string
	description *string
	priority    *int
	visitCount  int
	isQualified bool
	offerMade   *bool
	dueDate     *time.Time
	stage       string // a key of fxStages, or ""
	status      string // a key of fxStatuses, or ""
	contact     string // a key of fxContacts, "alien" (another tenant's), or ""
	assignees   []string
	custom      map[string]string // custom field name → stored text
	foreign     map[string]string // custom values stored with another tenant's id
	deleted     bool
}

type fxTask struct {
	key   string
	title string
	typ   *task.Type
	start *time.Time
}

type fxRelated struct {
	name    string
	deleted bool
}

var (
	fxStages   = map[string]fxRelated{"new": {"New", false}, "contacted": {"Contacted", false}, "gone": {"New", true}}
	fxStatuses = map[string]struct {
		name string
		kind status.Kind
	}{"open": {"Open", status.KindOPEN}, "sold": {"Sold", status.KindSOLD}}
	fxContacts = map[string]fxRelated{"martin": {"Martin", false}, "obrien": {"O'Brien", false}, "ghost": {"Martin", true}}
	fxUsers    = map[string]fxRelated{"ada": {"ada@fixture.test", false}, "bob": {"BOB@fixture.test", false}, "zed": {"zed@fixture.test", true}}
	fxCustom   = []struct {
		name    string
		typ     customfield.FieldType
		options string
		deleted bool
	}{
		{"budget", customfield.FieldTypeNumber, "{}", false},
		{"financing", customfield.FieldTypeSelect, `{"choices":["cash","loan","lease"]}`, false},
		{"tradeIn", customfield.FieldTypeBoolean, "{}", false},
		{"visitDate", customfield.FieldTypeDate, "{}", false},
		{"callbackAt", customfield.FieldTypeDatetime, "{}", false},
		{"notes", customfield.FieldTypeText, "{}", false},
		{"extras", customfield.FieldTypeMultiselect, `{"choices":["mats","rack","tires"]}`, false},
		{"retired", customfield.FieldTypeText, "{}", true},
	}
	// alienLastName is the last name of the other tenant's contact L5 points at.
	alienLastName = "Martin"
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func ptr[T any](v T) *T { return &v }

var fxLeads = []fxLead{
	{key: "L1", subject: "Civic 50% off", description: ptr("Call back soon"), priority: ptr(1), visitCount: 0,
		isQualified: true, offerMade: ptr(true), dueDate: at("2026-01-10T09:00:00Z"), stage: "new", status: "open",
		contact: "martin", assignees: []string{"ada"},
		custom: map[string]string{"budget": "20000", "financing": "cash", "tradeIn": "true", "visitDate": "2026-03-01",
			"callbackAt": "2026-03-01T10:00:00Z", "notes": "VIP", "extras": `["mats","tires"]`, "retired": "x"}},
	{key: "L2", subject: "CIVIC_LX", priority: ptr(2), visitCount: 3, offerMade: ptr(false),
		dueDate: at("2026-02-10T09:00:00Z"), stage: "contacted", status: "sold", contact: "obrien", assignees: []string{"ada", "bob"},
		custom: map[string]string{"budget": "35000.5", "financing": "loan", "tradeIn": "false", "visitDate": "2026-04-15",
			"callbackAt": "2026-04-15T08:30:00Z", "notes": "", "extras": `["rack"]`}},
	{key: "L3", subject: "RAV4 hybrid", description: ptr("50% deposit"), visitCount: 5, assignees: []string{"zed"},
		custom: map[string]string{"budget": "abc", "extras": "[]", "visitDate": "soon", "callbackAt": "later"}},
	{key: "L4", subject: "Model 3", description: ptr("call BACK"), priority: ptr(3), visitCount: 1, isQualified: true,
		dueDate: at("2026-03-10T09:00:00Z"), stage: "gone", status: "open", contact: "ghost", assignees: []string{"bob"},
		custom: map[string]string{"budget": "1e3", "financing": "lease", "tradeIn": "true", "visitDate": "2025-12-31",
			"callbackAt": "2026-03-01T10:00:00Z", "notes": "vip"}},
	{key: "L5", subject: "outback", description: ptr(""), priority: ptr(2), visitCount: 2, offerMade: ptr(true),
		dueDate: at("2026-02-10T09:00:00Z"), stage: "new", contact: "alien",
		foreign: map[string]string{"budget": "99999", "notes": "VIP"}},
	{key: "L6", subject: "Civic deleted", priority: ptr(1), stage: "new", contact: "martin", deleted: true,
		custom: map[string]string{"budget": "20000"}},
}

var fxTasks = []fxTask{
	{key: "T1", title: "Call", typ: ptr(task.TypeCALL), start: at("2026-05-01T10:00:00Z")},
	{key: "T2", title: "Text", typ: ptr(task.TypeSMS), start: at("2026-05-02T10:00:00Z")},
	{key: "T3", title: "Someday"},
}

// fixture is the fixture as written to one database.
type fixture struct {
	db     *store.DB
	ctx    context.Context // the fixture's admin as viewer
	tenant uuid.UUID
	ids    map[string]uuid.UUID // fixture key (L1, T1, new, martin, ada…) → id
	keys   map[uuid.UUID]string
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	sys := tenancy.Bypass(context.Background())
	c := db.Client
	fx := &fixture{db: db, ids: map[string]uuid.UUID{}, keys: map[uuid.UUID]string{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	tn, err := c.Tenant.Create().SetName("Fixture").SetDomain("fixture.test").Save(sys)
	must(err)
	tid := tn.ID
	fx.tenant = tid
	admin, err := c.User.Create().SetTenantID(tid).SetUsername("admin@fixture.test").SetEmail("admin@fixture.test").
		SetUserType("ADMIN").Save(sys)
	must(err)
	fx.ctx = viewer.NewContext(context.Background(), &viewer.Viewer{UserID: admin.ID, TenantID: tid, Type: viewer.TypeAdmin})
	set := func(key string, id uuid.UUID) {
		fx.ids[key] = id
		fx.keys[id] = key
	}
	for k, s := range fxStages {
		st, err := c.ConnectionStage.Create().SetTenantID(tid).SetName(s.name).SetIsDeleted(s.deleted).Save(sys)
		must(err)
		set(k, st.ID)
	}
	for k, s := range fxStatuses {
		st, err := c.Status.Create().SetTenantID(tid).SetName(s.name).SetKind(s.kind).Save(sys)
		must(err)
		set(k, st.ID)
	}
	for k, s := range fxContacts {
		ct, err := c.Contact.Create().SetTenantID(tid).SetLastName(s.name).SetIsDeleted(s.deleted).Save(sys)
		must(err)
		set(k, ct.ID)
	}
	other := storetest.TenantID(t, db, "demo-motors.test")
	alien, err := c.Contact.Create().SetTenantID(other).SetLastName(alienLastName).Save(sys)
	must(err)
	set("alien", alien.ID)
	for k, u := range fxUsers {
		us, err := c.User.Create().SetTenantID(tid).SetUsername(u.name).SetEmail(u.name).SetIsDeleted(u.deleted).Save(sys)
		must(err)
		set(k, us.ID)
	}
	for _, f := range fxCustom {
		cf, err := c.CustomField.Create().SetTenantID(tid).SetEntity(customfield.EntityLead).SetFieldName(f.name).
			SetFieldType(f.typ).SetOptions(f.options).SetIsDeleted(f.deleted).Save(sys)
		must(err)
		set("custom."+f.name, cf.ID)
	}
	for _, l := range fxLeads {
		b := c.Lead.Create().SetTenantID(tid).SetSubject(l.subject).SetNillableDescription(l.description).
			SetNillablePriority(l.priority).SetVisitCount(l.visitCount).SetIsQualified(l.isQualified).
			SetNillableOfferMade(l.offerMade).SetNillableDueDate(l.dueDate).SetIsDeleted(l.deleted)
		if l.stage != "" {
			b.SetStageID(fx.ids[l.stage])
		}
		if l.status != "" {
			b.SetStatusID(fx.ids[l.status])
		}
		if l.contact != "" {
			b.SetContactID(fx.ids[l.contact])
		}
		for _, a := range l.assignees {
			b.AddAssigneeIDs(fx.ids[a])
		}
		ld, err := b.Save(sys)
		must(err)
		set(l.key, ld.ID)
		for name, v := range l.custom {
			must(c.CustomFieldValue.Create().SetTenantID(tid).SetFieldID(fx.ids["custom."+name]).
				SetRecordID(ld.ID).SetValue(v).Exec(sys))
		}
		for name, v := range l.foreign {
			must(c.CustomFieldValue.Create().SetTenantID(other).SetFieldID(fx.ids["custom."+name]).
				SetRecordID(ld.ID).SetValue(v).Exec(sys))
		}
	}
	for _, tk := range fxTasks {
		tt, err := c.Task.Create().SetTenantID(tid).SetTitle(tk.title).SetNillableType(tk.typ).
			SetNillableStart(tk.start).SetAssigneeID(fx.ids["ada"]).Save(sys)
		must(err)
		set(tk.key, tt.ID)
	}
	return fx
}

// leads runs query on the fixture's leads and returns the keys matched,
// sorted; err is the compile error.
func (fx *fixture) leads(t testing.TB, query string) ([]string, error) {
	t.Helper()
	return fx.run(t, "lead", query)
}

func (fx *fixture) run(t testing.TB, entity, query string) ([]string, error) {
	t.Helper()
	p, err := crm.NewService(fx.db.Client).FilterPredicate(fx.ctx, entity, []byte(query))
	if err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	switch entity {
	case "lead":
		ids, err = fx.db.Lead.Query().Where(predicate.Lead(p)).IDs(fx.ctx)
	case "task":
		ids, err = fx.db.Task.Query().Where(predicate.Task(p)).IDs(fx.ctx)
	default:
		t.Fatalf("fixture has no %s rows", entity)
	}
	if err != nil {
		t.Fatalf("%s %s: query failed: %v", entity, query, err)
	}
	return fx.keysOf(ids), nil
}

func (fx *fixture) keysOf(ids []uuid.UUID) []string {
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, fx.keys[id])
	}
	slices.Sort(keys)
	return keys
}

// otherTenantStage returns the id of a stage of the demo tenant.
func otherTenantStage(t testing.TB, db *store.DB) string {
	t.Helper()
	id, err := db.ConnectionStage.Query().Where(connectionstage.TenantID(storetest.TenantID(t, db, "demo-motors.test"))).
		FirstID(tenancy.Bypass(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}
