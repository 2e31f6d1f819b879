package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/crm"
)

// gen writes one tenant's rows inside a transaction.
type gen struct {
	ctx   context.Context
	c     *ent.Client
	rng   *rand.Rand
	sizes Sizes
	p     *progress

	tid        uuid.UUID
	admin      uuid.UUID
	users      []uuid.UUID
	group      uuid.UUID
	franchises []uuid.UUID
	depts      []uuid.UUID // sales departments, one per franchise
	pipeline   uuid.UUID
	stages     []uuid.UUID
	statuses   map[status.Kind]uuid.UUID
	sources    []uuid.UUID
	roles      map[string]uuid.UUID // by name
	contacts   []uuid.UUID
	accountOf  map[uuid.UUID]uuid.UUID // contact → an account it belongs to
	leads      []uuid.UUID
}

var (
	firstNames = []string{"Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Inès", "Jack", "Kenji", "Léa", "Marc", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Samir", "Tara", "Ugo", "Vera", "Walter", "Yasmine", "Zoé"}
	lastNames  = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "O'Brien", "Nguyen", "Smith", "Kowalski", "Rossi"}
	companies  = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent", "Vandelay", "Pied Piper", "Aperture", "Gringotts"}
	suffixes   = []string{"Logistics", "Rentals", "Builders", "Foods", "Consulting", "Fleet Services", "Medical", "Studios", "Transport", "Labs"}
	cities     = []string{"Montréal", "Québec", "Laval", "Gatineau", "Sherbrooke", "Toronto", "Ottawa", "Boston", "Chicago", "Denver"}
	makes      = []struct{ Make, Model string }{{"Toyota", "RAV4"}, {"Honda", "Civic"}, {"Ford", "F-150"}, {"Tesla", "Model 3"}, {"Hyundai", "Ioniq 5"}, {"Subaru", "Outback"}, {"Kia", "EV6"}, {"Mazda", "CX-5"}}
	taskTitles = []string{"Call back about financing", "Send brochure", "Confirm test drive", "Follow up on quote", "Ask for trade-in photos", "Check delivery date"}
)

func (g *gen) tenant(t Tenant) error {
	ctx, c := g.ctx, g.c
	// A new tenant without a country reads phones in the server's region;
	// telling the writes so spares the customer hook a lookup per row.
	tn, err := c.Tenant.Create().SetName(t.Name).SetDomain(t.Domain).SetVertical("automotive").
		SetPhoneKeyRegion(schema.PhoneRegion).Save(ctx)
	if err != nil {
		return err
	}
	g.ctx = schema.WithPhoneRegion(ctx, schema.PhoneRegion)
	g.tid = tn.ID
	g.p.add("tenant", 1)
	steps := []func() error{g.org, g.people, g.customers, g.leadsAndEvents, g.catalogue, g.configuration}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// org: franchises and the tenant's defaults (crm.CreateTenantDefaults:
// roles, pipeline, stages, statuses, sources), plus a stage outside any
// pipeline.
func (g *gen) org() error {
	ctx, c, tid := g.ctx, g.c, g.tid
	for _, f := range []struct{ name, code string }{{"Downtown", "DT"}, {"North Shore", "NS"}} {
		fr, err := c.Franchise.Create().SetTenantID(tid).SetName(f.name).SetCode(f.code).Save(ctx)
		if err != nil {
			return err
		}
		g.franchises = append(g.franchises, fr.ID)
	}
	d, err := crm.CreateTenantDefaults(ctx, c, tid)
	if err != nil {
		return err
	}
	g.pipeline, g.stages, g.statuses, g.sources, g.roles = d.Pipeline, d.Stages, d.Statuses, d.Sources, d.Roles
	// A stage outside any pipeline, free to be deleted in a demo.
	if err := c.ConnectionStage.Create().SetTenantID(tid).SetName("Unused").Exec(ctx); err != nil {
		return err
	}
	// Departments need the round-robin group: created in people.
	g.p.add("organisation", 19)
	return nil
}

// people: users (admin@, manager@, user@ and two sales reps), the
// round-robin group and the departments it serves.
func (g *gen) people() error {
	ctx, c, tid := g.ctx, g.c, g.tid
	domain, err := c.Tenant.Get(ctx, tid)
	if err != nil {
		return err
	}
	people := []struct {
		local, first, last string
		typ                user.UserType
	}{
		{"admin", "Ada", "Admin", user.UserTypeADMIN},
		{"manager", "Max", "Manager", user.UserTypeMANAGER},
		{"user", "Uma", "User", user.UserTypeUSER},
		{"sales1", "Sam", "Seller", user.UserTypeUSER},
		{"sales2", "Sasha", "Closer", user.UserTypeUSER},
	}
	for _, p := range people {
		u, err := c.User.Create().SetTenantID(tid).
			SetUsername(p.local + "@" + domain.Domain).SetEmail(p.local + "@" + domain.Domain).
			SetFirstname(p.first).SetLastname(p.last).SetDisplayName(p.first + " " + p.last).
			SetUserType(p.typ).AddRoleIDs(g.roles[crm.RoleForUserType[string(p.typ)]]).
			AddFranchiseIDs(g.franchises...).Save(ctx)
		if err != nil {
			return err
		}
		g.users = append(g.users, u.ID)
		if err := c.UserSettings.Create().SetTenantID(tid).SetLanguage("en").SetUser(u).Exec(ctx); err != nil {
			return err
		}
	}
	g.admin = g.users[0]
	members := g.users[2:] // user@, sales1, sales2
	var order []string
	for _, m := range members {
		order = append(order, m.String())
	}
	grp, err := c.SecurityGroup.Create().SetTenantID(tid).SetName("Sales round robin").
		SetDisplayName("Sales round robin").SetRoundRobin(true).
		AddMemberIDs(members...).SetMembersOrder(order).AddFranchiseIDs(g.franchises...).Save(ctx)
	if err != nil {
		return err
	}
	g.group = grp.ID
	for _, f := range g.franchises {
		d, err := c.Department.Create().SetTenantID(tid).SetName("Sales").SetFranchiseID(f).
			SetPipelineID(g.pipeline).SetSecurityGroupID(g.group).Save(ctx)
		if err != nil {
			return err
		}
		g.depts = append(g.depts, d.ID)
		if err := c.Department.Create().SetTenantID(tid).SetName("Service").SetFranchiseID(f).Exec(ctx); err != nil {
			return err
		}
	}
	g.p.add("people", 2*len(people)+1+2*len(g.franchises))
	return nil
}

func (g *gen) phone() string {
	return fmt.Sprintf("(%03d) %03d-%04d", 200+g.rng.IntN(700), g.rng.IntN(1000), g.rng.IntN(10000))
}

// customers: accounts with their contacts (first is primary); every tenth
// contact also joins the next account, so the graph is many-to-many.
func (g *gen) customers() error {
	ctx, c, tid, s := g.ctx, g.c, g.tid, g.sizes
	n := s.Accounts * s.ContactsPerAccount
	g.contacts = make([]uuid.UUID, 0, n)
	g.accountOf = make(map[uuid.UUID]uuid.UUID, n)
	err := chunks(n, func(lo, hi int) error {
		bulk := make([]*ent.ContactCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			first, last := pick(g.rng, firstNames), pick(g.rng, lastNames)
			email := strings.ToLower(fmt.Sprintf("%s.%s%d@example.com", first, strings.ReplaceAll(last, "'", ""), i))
			b := c.Contact.Create().SetTenantID(tid).SetCreatedByID(g.admin).
				SetFirstName(first).SetLastName(last).SetPrimaryEmail(email).
				SetMobilePhone(g.phone()).SetCity(pick(g.rng, cities)).SetCountry("CA").SetLanguage("en").
				SetPreferredMethodOfContact(pick(g.rng, []string{"email", "phone", "sms"}))
			if i%4 == 0 {
				b.SetHomePhone(g.phone())
			}
			bulk = append(bulk, b)
		}
		created, err := c.Contact.CreateBulk(bulk...).Save(ctx)
		ids := idsOf(created, func(x *ent.Contact) uuid.UUID { return x.ID })
		if err != nil {
			return err
		}
		g.contacts = append(g.contacts, ids...)
		g.p.add("contacts", len(ids))
		return nil
	})
	if err != nil {
		return err
	}
	return chunks(s.Accounts, func(lo, hi int) error {
		bulk := make([]*ent.AccountCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			members := g.contacts[i*s.ContactsPerAccount : (i+1)*s.ContactsPerAccount]
			if i%10 == 0 && (i+1)*s.ContactsPerAccount < n {
				members = append(members[:len(members):len(members)], g.contacts[(i+1)*s.ContactsPerAccount])
			}
			for _, m := range members {
				if _, ok := g.accountOf[m]; !ok {
					g.accountOf[m] = uuid.Nil // filled below with the id
				}
			}
			name := fmt.Sprintf("%s %s", pick(g.rng, companies), pick(g.rng, suffixes))
			if i >= len(companies)*len(suffixes)/2 {
				name = fmt.Sprintf("%s %d", name, i)
			}
			b := c.Account.Create().SetTenantID(tid).SetCreatedByID(g.admin).SetName(name).
				SetPrimaryEmail(fmt.Sprintf("info%d@%s.example.com", i, strings.ToLower(strings.Fields(name)[0]))).
				SetWorkPhone(g.phone()).SetCity(pick(g.rng, cities)).SetCountry("CA").
				AddContactIDs(members...)
			if len(members) > 0 {
				b.SetPrimaryContactID(members[0])
			}
			bulk = append(bulk, b)
		}
		created, err := c.Account.CreateBulk(bulk...).Save(ctx)
		ids := idsOf(created, func(x *ent.Account) uuid.UUID { return x.ID })
		if err != nil {
			return err
		}
		for k, id := range ids {
			i := lo + k
			for _, m := range g.contacts[i*s.ContactsPerAccount : (i+1)*s.ContactsPerAccount] {
				g.accountOf[m] = id
			}
		}
		g.p.add("accounts", len(ids))
		return nil
	})
}

// leadsAndEvents: leads spread over stages, statuses and sources, each with
// one or two assignees; tasks, appointments and follow-ups on them.
func (g *gen) leadsAndEvents() error {
	ctx, c, tid, s := g.ctx, g.c, g.tid, g.sizes
	if len(g.contacts) == 0 {
		return nil
	}
	reps := g.users[2:]
	kinds := []status.Kind{status.KindOPEN, status.KindOPEN, status.KindOPEN, status.KindOPEN, status.KindCLOSED, status.KindLOST, status.KindSOLD}
	err := chunks(s.Leads, func(lo, hi int) error {
		bulk := make([]*ent.LeadCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			contact := g.contacts[g.rng.IntN(len(g.contacts))]
			fi := g.rng.IntN(len(g.franchises))
			car := pick(g.rng, makes)
			kind := pick(g.rng, kinds)
			due := Base.Add(time.Duration(g.rng.IntN(60*24)-30*24) * time.Hour)
			b := c.Lead.Create().SetTenantID(tid).SetCreatedByID(g.admin).
				SetSubject(fmt.Sprintf("%s %s for %d", car.Make, car.Model, i)).
				SetContactID(contact).SetFranchiseID(g.franchises[fi]).SetDepartmentID(g.depts[fi]).
				SetStageID(g.stages[g.rng.IntN(len(g.stages))]).SetStatusID(g.statuses[kind]).
				SetSourceID(pick(g.rng, g.sources)).SetDueDate(due).
				SetMakeStr(car.Make).SetModelStr(car.Model).SetYearStr(fmt.Sprint(2022 + g.rng.IntN(5))).
				SetCustomerInitiated(g.rng.IntN(2) == 0).SetPriority(1 + g.rng.IntN(3)).
				AddAssigneeIDs(reps[i%len(reps)])
			if a := g.accountOf[contact]; a != uuid.Nil && i%2 == 0 {
				b.SetAccountID(a)
			}
			if i%5 == 0 {
				b.AddAssigneeIDs(g.users[1])
			}
			switch kind {
			case status.KindSOLD:
				b.SetSoldDate(due).SetSoldByID(reps[i%len(reps)]).SetConnectionClosedDate(due)
			case status.KindLOST:
				b.SetLostDate(due).SetLostByID(reps[i%len(reps)])
			case status.KindCLOSED:
				b.SetConnectionClosedDate(due).SetConnectionClosedByID(reps[i%len(reps)])
			}
			bulk = append(bulk, b)
		}
		created, err := c.Lead.CreateBulk(bulk...).Save(ctx)
		ids := idsOf(created, func(x *ent.Lead) uuid.UUID { return x.ID })
		if err != nil {
			return err
		}
		g.leads = append(g.leads, ids...)
		g.p.add("leads", len(ids))
		return nil
	})
	if err != nil {
		return err
	}
	types := []task.Type{task.TypeCALL, task.TypeMEETING, task.TypeSMS, task.TypeFOLLOW_UP, task.TypeREMINDER}
	err = chunks(s.Tasks, func(lo, hi int) error {
		bulk := make([]*ent.TaskCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			start := Base.Add(time.Duration(g.rng.IntN(30*24)) * time.Hour)
			assignee := reps[i%len(reps)]
			if i%7 == 0 {
				assignee = g.group
			}
			b := c.Task.Create().SetTenantID(tid).SetCreatedByID(g.admin).
				SetTitle(pick(g.rng, taskTitles)).SetAssigneeID(assignee).SetType(pick(g.rng, types)).
				SetStart(start).SetEnd(start.Add(30 * time.Minute)).SetTaskDone(i%3 == 0)
			if len(g.leads) > 0 {
				b.SetConnectionID(g.leads[i%len(g.leads)])
			}
			bulk = append(bulk, b)
		}
		if err := c.Task.CreateBulk(bulk...).Exec(ctx); err != nil {
			return err
		}
		g.p.add("tasks", len(bulk))
		return nil
	})
	if err != nil {
		return err
	}
	events := min(len(g.leads), max(s.Tasks/3, 1))
	return chunks(events, func(lo, hi int) error {
		appts := make([]*ent.AppointmentCreate, 0, hi-lo)
		fups := make([]*ent.FollowUpCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			lead := g.leads[i]
			start := Base.Add(time.Duration(24+g.rng.IntN(20*24)) * time.Hour)
			appts = append(appts, c.Appointment.Create().SetTenantID(tid).SetCreatedByID(g.admin).
				SetTitle("Test drive").SetType("test_drive").SetAssigneeID(reps[i%len(reps)]).
				SetStart(start).SetEnd(start.Add(time.Hour)).SetConnectionID(lead).SetCustomerConfirmed(i%2 == 0))
			fups = append(fups, c.FollowUp.Create().SetTenantID(tid).SetCreatedByID(g.admin).
				SetTitle("Check in after visit").SetAssigneeID(reps[i%len(reps)]).
				SetStart(start.Add(48*time.Hour)).SetConnectionID(lead).SetFromAutomation(i%3 == 0))
		}
		if err := c.Appointment.CreateBulk(appts...).Exec(ctx); err != nil {
			return err
		}
		if err := c.FollowUp.CreateBulk(fups...).Exec(ctx); err != nil {
			return err
		}
		g.p.add("events", 2*(hi-lo))
		return nil
	})
}

// catalogue: a product group tree and products.
func (g *gen) catalogue() error {
	ctx, c, tid := g.ctx, g.c, g.tid
	vehicles, err := c.ProductGroup.Create().SetTenantID(tid).SetName("Vehicles").Save(ctx)
	if err != nil {
		return err
	}
	groups := map[string]uuid.UUID{}
	for _, name := range []string{"New vehicles", "Used vehicles"} {
		pg, err := c.ProductGroup.Create().SetTenantID(tid).SetName(name).SetParentID(vehicles.ID).Save(ctx)
		if err != nil {
			return err
		}
		groups[name] = pg.ID
	}
	acc, err := c.ProductGroup.Create().SetTenantID(tid).SetName("Accessories").Save(ctx)
	if err != nil {
		return err
	}
	groups["Accessories"] = acc.ID
	var bulk []*ent.ProductCreate
	for i, m := range makes {
		bulk = append(bulk, c.Product.Create().SetTenantID(tid).SetName(m.Make+" "+m.Model).
			SetSku(fmt.Sprintf("VEH-%03d", i+1)).SetProductGroupID(groups["New vehicles"]).
			SetDefaultCost(fmt.Sprintf("%d.00", 25000+i*1500)).SetDefaultSalesPrice(fmt.Sprintf("%d.00", 28000+i*1700)).
			SetDefaultMargin(fmt.Sprintf("%d.00", 3000+i*200)).SetCurrency("CAD"))
	}
	for i, name := range []string{"All-weather mats", "Roof rack", "Winter tires"} {
		bulk = append(bulk, c.Product.Create().SetTenantID(tid).SetName(name).
			SetSku(fmt.Sprintf("ACC-%03d", i+1)).SetProductGroupID(groups["Accessories"]).
			SetDefaultCost("100.00").SetDefaultSalesPrice("180.00").SetDefaultMargin("80.00").SetCurrency("CAD"))
	}
	if err := c.Product.CreateBulk(bulk...).Exec(ctx); err != nil {
		return err
	}
	g.p.add("products", len(bulk)+4)
	return nil
}

// configuration: custom fields and values, a custom label, a saved filter
// and an automation.
func (g *gen) configuration() error {
	ctx, c, tid := g.ctx, g.c, g.tid
	type cf struct {
		entity  customfield.Entity
		name    string
		typ     customfield.FieldType
		options string
	}
	var budget uuid.UUID
	for _, f := range []cf{
		{customfield.EntityLead, "budget", customfield.FieldTypeNumber, "{}"},
		{customfield.EntityLead, "financing", customfield.FieldTypeSelect, `{"choices":["cash","loan","lease"]}`},
		{customfield.EntityLead, "tradeIn", customfield.FieldTypeBoolean, "{}"},
		{customfield.EntityContact, "birthday", customfield.FieldTypeDate, "{}"},
		{customfield.EntityAccount, "fleetSize", customfield.FieldTypeNumber, "{}"},
	} {
		created, err := c.CustomField.Create().SetTenantID(tid).SetEntity(f.entity).SetFieldName(f.name).
			SetFieldType(f.typ).SetOptions(f.options).Save(ctx)
		if err != nil {
			return err
		}
		if f.name == "budget" {
			budget = created.ID
		}
	}
	var values []*ent.CustomFieldValueCreate
	for i, l := range g.leads {
		if i%3 == 0 {
			values = append(values, c.CustomFieldValue.Create().SetTenantID(tid).SetFieldID(budget).
				SetRecordID(l).SetValue(fmt.Sprint(20000+g.rng.IntN(40)*1000)))
		}
	}
	if err := chunks(len(values), func(lo, hi int) error {
		return c.CustomFieldValue.CreateBulk(values[lo:hi]...).Exec(ctx)
	}); err != nil {
		return err
	}
	if err := c.CustomLabel.Create().SetTenantID(tid).
		SetValue(map[string]any{"lead": "Opportunity", "account": "Company"}).Exec(ctx); err != nil {
		return err
	}
	if err := c.SavedFilter.Create().SetTenantID(tid).SetOwnerID(g.admin).SetName("Open website leads").
		SetModule("lead").SetPrivate(false).
		SetValue(`{"combinator":"and","rules":[{"field":"source","operator":"=","value":"Website"}]}`).Exec(ctx); err != nil {
		return err
	}
	err := c.Automation.Create().SetTenantID(tid).SetName("Welcome new leads").SetAutomationTrigger("lead.created").
		SetFranchiseID(g.franchises[0]).
		SetNodes([]map[string]any{
			{"id": "trigger", "type": "trigger", "data": map[string]any{"trigger": "lead.created"}},
			{"id": "wait", "type": "delay", "data": map[string]any{"amount": 1, "unit": "hours"}},
			{"id": "task", "type": "createTask", "data": map[string]any{"title": "Call the new lead", "type": "CALL"}},
		}).
		SetFlowEdges([]map[string]any{
			{"id": "e1", "source": "trigger", "target": "wait"},
			{"id": "e2", "source": "wait", "target": "task"},
		}).Exec(ctx)
	if err != nil {
		return err
	}
	g.p.add("configuration", 9+len(values))
	return nil
}
