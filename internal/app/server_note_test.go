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
