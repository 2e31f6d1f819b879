package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The note routes and mutations in the permission matrices (appended here,
// as the administration's are, so the tables stay one per transport).
func init() {
	restRoutes = append(restRoutes,
		restRoute{method: "GET", pattern: "/api/note", perm: crm.PermNoteRead, ok: 200,
			req: func(f *tenantFixture, _ actor) (string, any) { return "/api/note?lead=" + id(f.lead), nil }},
		restRoute{method: "POST", pattern: "/api/note", perm: crm.PermNoteWrite, ok: 200,
			req: withBody("/api/note", func(f *tenantFixture, _ actor) any {
				return map[string]any{"lead": ref(f.lead), "text": f.name("Note")}
			})},
		restRoute{method: "PATCH", pattern: "/api/note/{id}", perm: crm.PermNoteWrite, ok: 200, rule: ruleNote,
			req: func(f *tenantFixture, a actor) (string, any) {
				return "/api/note/" + id(f.newNote(a)), map[string]any{"text": "Edited"}
			}},
		restRoute{method: "DELETE", pattern: "/api/note/{id}", perm: crm.PermNoteWrite, ok: 200, rule: ruleNote,
			req: func(f *tenantFixture, a actor) (string, any) { return "/api/note/" + id(f.newNote(a)), nil }},
	)
	graphqlMutations = append(graphqlMutations,
		gqlMutation{name: "createNote", perm: crm.PermNoteWrite, op: create("CreateNoteInput!", "createNote", "{ id }",
			func(f *tenantFixture, _ actor) any { return map[string]any{"leadID": f.lead, "text": f.name("Note")} })},
		gqlMutation{name: "updateNote", perm: crm.PermNoteWrite, rule: ruleNote, op: func(f *tenantFixture, a actor) (string, map[string]any) {
			return gqlOp("$id: ID!, $text: String!", "updateNote", "id: $id, text: $text", "{ id }"),
				map[string]any{"id": f.newNote(a), "text": "Edited"}
		}},
		gqlMutation{name: "deleteNote", perm: crm.PermNoteWrite, rule: ruleNote, op: withID("", "deleteNote", "",
			func(f *tenantFixture, a actor) uuid.UUID { return f.newNote(a) }, nil)},
	)
}

const ruleNote = "note: USER only on their own notes"

// newNote writes a note on the fixture's lead by author.
func (f *tenantFixture) newNote(author actor) uuid.UUID {
	n, err := f.db.Note.Create().SetTenantID(f.id).SetLeadID(f.lead).SetAuthorID(author.id).
		SetCreatedByID(author.id).SetText(f.name("Probe note")).Save(f.sys)
	f.must(err)
	return n.ID
}

type restNote struct {
	ID     uuid.UUID
	Text   string
	Lead   struct{ ID uuid.UUID }
	Author struct{ ID uuid.UUID }
}

// A lead's notes end to end, on both transports: a USER writes one (the
// author is the viewer, whatever the body says), both transports read it,
// only its author or a MANAGER changes it, bad input is a 400 naming the
// field that changes nothing (a note never moves to another lead), another
// tenant's lead is like an unknown one, and every write emits its event in
// its transaction.
func TestLeadNotesOnBothTransports(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f := fx.demo
		g := startGateway(t, db)
		lead := id(f.lead)

		res := g.do(f.user, "POST", "/api/note", map[string]any{"lead": ref(f.lead), "text": "Called, wants a test drive",
			"author": ref(f.manager.id)})
		var made restNote
		if res.Status != http.StatusOK {
			t.Fatalf("POST /api/note: %d %s", res.Status, res.Body)
		}
		res.JSON(t, &made)
		if made.Text != "Called, wants a test drive" || made.Lead.ID != f.lead || made.Author.ID != f.user.id {
			t.Fatalf("created %+v", made)
		}

		// REST lists it, newest first; GraphQL reads it with its author and lead.
		older := f.newNote(f.manager)
		res = g.do(f.user, "GET", "/api/note?lead="+lead, nil)
		var list []restNote
		res.JSON(t, &list)
		if res.Status != http.StatusOK || len(list) < 2 || list[0].ID != older || !slices.ContainsFunc(list, func(n restNote) bool { return n.ID == made.ID }) {
			t.Fatalf("GET /api/note: %d %s", res.Status, res.Body)
		}
		q := `query($lead: ID!) { notes(where: {leadID: $lead}, orderBy: [{field: DATE_CREATED}]) { totalCount edges { node { id text author { id } lead { id } } } } }`
		_, out := g.graphql(f.user, q, map[string]any{"lead": f.lead})
		var notes struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					ID, Text string
					Author   struct{ ID string }
					Lead     struct{ ID string }
				}
			}
		}
		if len(out.Errors) > 0 || json.Unmarshal(out.Data["notes"], &notes) != nil || notes.TotalCount != len(list) {
			t.Fatalf("notes: %s %+v", out.Data["notes"], out.Errors)
		}
		if n := notes.Edges[0].Node; n.Author.ID != f.user.id.String() && n.Author.ID != f.manager.id.String() || n.Lead.ID != lead {
			t.Errorf("GraphQL note %+v", n)
		}

		// Only the author (or a MANAGER) changes a note.
		before := storetest.TakeSnapshot(t, db)
		if res := g.do(f.sales1, "PATCH", "/api/note/"+made.ID.String(), map[string]any{"text": "Hijacked"}); res.Status != http.StatusForbidden {
			t.Errorf("another USER's PATCH: %d %s", res.Status, res.Body)
		}
		_, out = g.graphql(f.sales1, `mutation($id: ID!) { deleteNote(id: $id) }`, map[string]any{"id": made.ID})
		if !slices.Contains(out.codes(), "FORBIDDEN") {
			t.Errorf("another USER's deleteNote: %s", out.Errors)
		}
		storetest.NothingWritten(t, db, before)
		_, out = g.graphql(f.manager, `mutation($id: ID!) { updateNote(id: $id, text: "Test drive booked") { text author { id } } }`,
			map[string]any{"id": made.ID})
		if len(out.Errors) > 0 || !strings.Contains(string(out.Data["updateNote"]), `"Test drive booked"`) ||
			!strings.Contains(string(out.Data["updateNote"]), f.user.id.String()) {
			t.Errorf("MANAGER's updateNote: %s %+v", out.Data["updateNote"], out.Errors)
		}
		// A client sending the whole record back sends its own lead: accepted.
		res = g.do(f.user, "PATCH", "/api/note/"+made.ID.String(), map[string]any{"lead": ref(f.lead), "text": "Test drive on Friday"})
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "Test drive on Friday") {
			t.Errorf("PATCH with the note's own lead: %d %s", res.Status, res.Body)
		}

		// Bad input names its field and changes nothing; another tenant's
		// lead answers like an unknown lead.
		otherLead := f.newLead()
		before = storetest.TakeSnapshot(t, db)
		for name, body := range map[string]map[string]any{
			"text":         {"lead": ref(f.lead), "text": "  "},
			"lead":         {"lead": ref(fx.other.lead), "text": "Foreign"},
			"lead.id":      {"lead": map[string]any{"id": "nope"}, "text": "x"},
			"lead missing": {"text": "x"},
		} {
			res := g.do(f.user, "POST", "/api/note", body)
			field := strings.Fields(name)[0]
			if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), field) {
				t.Errorf("POST /api/note %s: %d %s", name, res.Status, res.Body)
			}
		}
		// A note never moves between leads: another lead (of the tenant,
		// another tenant's, unknown) or none is a 400 on lead, on both
		// transports (GraphQL's updateNote has no lead argument at all).
		patch := "/api/note/" + made.ID.String()
		for name, l := range map[string]any{"same tenant": ref(otherLead), "foreign": ref(fx.other.lead),
			"unknown": ref(unknownLike(fx.other.lead)), "null": nil, "not an id": map[string]any{"id": "nope"}, "not a ref": 7} {
			res := g.do(f.user, "PATCH", patch, map[string]any{"lead": l, "text": "Moved"})
			if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `"lead`) {
				t.Errorf("PATCH with lead %s: %d %s", name, res.Status, res.Body)
			}
		}
		_, out = g.graphql(f.user, `mutation($id: ID!, $lead: ID!) { updateNote(id: $id, text: "Moved", lead: $lead) { id } }`,
			map[string]any{"id": made.ID, "lead": fx.other.lead})
		if len(out.Errors) == 0 || !strings.Contains(out.Errors[0].Message, `Unknown argument "lead"`) {
			t.Errorf("updateNote with a lead: %+v", out.Errors)
		}
		foreign := g.do(f.user, "POST", "/api/note", map[string]any{"lead": ref(fx.other.lead), "text": "x"})
		unknown := g.do(f.user, "POST", "/api/note", map[string]any{"lead": ref(unknownLike(fx.other.lead)), "text": "x"})
		sameAnswer(t, foreign, unknown, fx.other.lead, unknownLike(fx.other.lead))
		_, out = g.graphql(f.user, `mutation($in: CreateNoteInput!) { createNote(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"leadID": f.lead, "text": ""}})
		if !slices.Contains(out.codes(), "BAD_USER_INPUT") || !strings.Contains(string(mustJSON(t, out.Errors)), "input.text") {
			t.Errorf("createNote with blank text: %+v", out.Errors)
		}
		storetest.NothingWritten(t, db, before)

		// Deleted notes are gone from both transports.
		if res := g.do(f.user, "DELETE", "/api/note/"+made.ID.String(), nil); res.Status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", res.Status, res.Body)
		}
		res = g.do(f.user, "GET", "/api/note?lead="+lead, nil)
		if strings.Contains(string(res.Body), made.ID.String()) {
			t.Errorf("deleted note still listed: %s", res.Body)
		}

		// Each write emitted its event, with the viewer as actor.
		rows, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(made.ID)).Order(outboxevent.ByDateCreated(), outboxevent.ByID()).All(f.sys)
		if err != nil {
			t.Fatal(err)
		}
		var topics []string
		for _, r := range rows {
			topics = append(topics, r.Topic)
		}
		if !slices.Equal(topics, []string{"note.created", "note.updated", "note.updated", "note.deleted"}) {
			t.Errorf("events %v", topics)
		}
		if len(rows) == 4 && (rows[0].Payload["actorId"] != f.user.id.String() || rows[1].Payload["actorId"] != f.manager.id.String()) {
			t.Errorf("actors %v %v", rows[0].Payload["actorId"], rows[1].Payload["actorId"])
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Notes are filterable (the registry's Filter "note", its fields declared
// in crm/note.go): by text, author, lead and dates, through the REST
// filter route (responses valid against the OpenAPI document), GraphQL's
// filter and savedFilter arguments and a saved filter of module "note";
// the catalogue offers the tenant's users as the author's values and no
// leads; another tenant sees none of the notes, and a viewer without
// note.read may not filter them.
func TestNotesAreFilteredOnBothTransports(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f := fx.demo
		g := startGateway(t, db)
		lead2 := f.newLead()
		write := func(a actor, lead uuid.UUID, text string) uuid.UUID {
			res := g.do(a, "POST", "/api/note", map[string]any{"lead": ref(lead), "text": text})
			var n restNote
			res.JSON(t, &n)
			if res.Status != http.StatusOK {
				t.Fatalf("POST /api/note: %d %s", res.Status, res.Body)
			}
			return n.ID
		}
		asks := write(f.user, f.lead, "Customer asks about FINANCING options")
		approved := write(f.manager, lead2, "Financing approved by the bank")
		booked := write(f.manager, f.lead, "Test drive booked")

		filter := func(a actor, query string, rule any) []uuid.UUID {
			t.Helper()
			path := "/api/query-builder/filter/note" + query
			res := g.do(a, "POST", path, map[string]any{"combinator": "and", "rules": rule})
			if err := resttest.Validate("POST", path, res); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			var out struct {
				Total int
				Data  []restNote
			}
			res.JSON(t, &out)
			if res.Status != http.StatusOK || out.Total < len(out.Data) {
				t.Fatalf("POST %s %v: %d %s", path, rule, res.Status, res.Body)
			}
			var got []uuid.UUID
			for _, n := range out.Data {
				got = append(got, n.ID)
			}
			return got
		}
		rule := func(field, op string, value any) map[string]any {
			return map[string]any{"field": field, "operator": op, "value": value}
		}
		for name, c := range map[string]struct {
			query string
			rules []any
			want  []uuid.UUID
		}{
			"text, sorted":       {"?sortField=text", []any{rule("text", "contains", "financing")}, []uuid.UUID{asks, approved}},
			"author by id":       {"", []any{rule("text", "contains", "financing"), rule("author", "=", f.user.id)}, []uuid.UUID{asks}},
			"author by email":    {"", []any{rule("author", "=", "manager@demo-motors.test"), rule("lead", "=", f.lead)}, []uuid.UUID{booked}},
			"lead, sorted desc":  {"?sortField=text&sortDirection=DESC", []any{rule("lead", "in", []any{f.lead, lead2})}, []uuid.UUID{booked, approved, asks}},
			"dates":              {"?sortField=dateCreated", []any{rule("dateCreated", ">=", "2000-01-01T00:00:00Z"), rule("dateModified", "null", nil)}, []uuid.UUID{asks, approved, booked}},
			"lead's subject":     {"", []any{rule("lead.subject", "notNull", nil), rule("lead", "=", lead2)}, []uuid.UUID{approved}},
			"page of the sorted": {"?sortField=text&offset=1&limit=1", []any{rule("text", "contains", "a")}, []uuid.UUID{approved}},
		} {
			if got := filter(f.manager, c.query, c.rules); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
		if got := filter(fx.other.admin, "", []any{rule("text", "contains", "financing")}); len(got) != 0 {
			t.Errorf("another tenant's filter found %v", got)
		}
		if res := g.do(f.noRole, "POST", "/api/query-builder/filter/note", map[string]any{"rules": []any{}}); res.Status != http.StatusForbidden {
			t.Errorf("filter without note.read: %d %s", res.Status, res.Body)
		}

		// The catalogue: the fields, the author's values are the tenant's
		// users; leads (unbounded) are searched, not offered.
		res := g.do(f.user, "GET", "/api/filters/note", nil)
		var infos []struct{ Field string }
		res.JSON(t, &infos)
		var names []string
		for _, i := range infos {
			names = append(names, i.Field)
		}
		if want := []string{"text", "dateCreated", "dateModified", "lead", "lead.subject", "author"}; !slices.Equal(names, want) {
			t.Errorf("GET /api/filters/note: %v, want %v", names, want)
		}
		res = g.do(f.user, "GET", "/api/query-builder/config/note", nil)
		var cfg querybuilder.Config
		res.JSON(t, &cfg)
		for _, cf := range cfg.Fields {
			switch cf.Name {
			case "author":
				if cf.ValueEditorType != "select" || !slices.ContainsFunc(cf.Values, func(o querybuilder.Option) bool {
					return o.Name == f.user.id.String() && o.Label == "user@demo-motors.test"
				}) {
					t.Errorf("author's config: %+v", cf)
				}
			case "lead":
				if cf.ValueEditorType != "text" || len(cf.Values) != 0 {
					t.Errorf("lead's config: %+v", cf)
				}
			}
		}

		// GraphQL: the filter argument, and a saved filter of notes.
		var conn struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID uuid.UUID } }
		}
		_, out := g.graphql(f.user, `query($f: Map) { notes(filter: $f, orderBy: [{field: DATE_CREATED}]) { totalCount edges { node { id } } } }`,
			map[string]any{"f": map[string]any{"rules": []any{rule("text", "contains", "FINANCING")}}})
		if len(out.Errors) > 0 || json.Unmarshal(out.Data["notes"], &conn) != nil || conn.TotalCount != 2 ||
			conn.Edges[0].Node.ID != asks || conn.Edges[1].Node.ID != approved {
			t.Errorf("notes(filter:): %s %+v", out.Data["notes"], out.Errors)
		}
		res = g.do(f.manager, "POST", "/api/saved-filter", map[string]any{"name": "My team's test drives", "module": "note",
			"value": `{"combinator":"and","rules":[{"field":"text","operator":"contains","value":"test drive"}]}`})
		var saved struct{ ID uuid.UUID }
		res.JSON(t, &saved)
		if res.Status != http.StatusCreated {
			t.Fatalf("POST /api/saved-filter module note: %d %s", res.Status, res.Body)
		}
		_, out = g.graphql(f.manager, `query($s: ID) { notes(savedFilter: $s) { totalCount edges { node { id } } } }`, map[string]any{"s": saved.ID})
		if len(out.Errors) > 0 || json.Unmarshal(out.Data["notes"], &conn) != nil || conn.TotalCount != 1 || conn.Edges[0].Node.ID != booked {
			t.Errorf("notes(savedFilter:): %s %+v", out.Data["notes"], out.Errors)
		}
		_, out = g.graphql(f.noRole, `query($f: Map) { notes(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"rules": []any{}}})
		if !slices.Contains(out.codes(), "FORBIDDEN") {
			t.Errorf("notes(filter:) without note.read: %+v", out.Errors)
		}
	})
}
