package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The POST transport writes a plain answer's data as the executor wrote it,
// straight from a buffer reused from answer to answer (executor.Buffer,
// Recycle). Every answer — plain, with errors, with partial data and errors,
// large and small, many at once — must be exactly the bytes it is when asked
// alone: a buffer handed back while still being written, or reused with old
// bytes in it, would show here as a corrupt or foreign answer.
func TestAnswersStayByteIdenticalWhileBuffersAreReused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// The recursive shape of the bench, admitted (as the bench does).
		s := start(t, db, graph.Config{Limits: graph.Limits{MaxComplexity: 2_000_000}})
		queries := []string{
			`{ __typename }`,
			`{ accounts(first: 20, orderBy: {field: NAME}) { edges { node { id name contacts { firstName accounts { name contacts { lastName accounts { name } } } } } } } }`,
			`{ leads(first: 20) { edges { node { id subject contact { firstName lastName } account { name } stage { name } assignees { displayName } createdBy { displayName } } } } }`,
			`{ contacts(first: 5) { totalCount edges { cursor node { id firstName lastName } } } }`,
			// errors only, from the executor and from validation
			`{ node(id: "not-an-id") { id } }`,
			`{ nope }`,
			// partial data with an error at a path
			`{ a: __typename accounts(first: 1, after: "not-a-cursor") { edges { node { id } } } }`,
		}
		ask := func(q string) string {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(fmt.Sprintf(`{"query":%q}`, q)))
			req.Header.Set("Authorization", "Bearer "+s.Token(admin))
			req.Header.Set("Content-Type", "application/json")
			res := s.Send(req)
			if res.Status != http.StatusOK && res.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d: %s", q, res.Status, res.Body)
			}
			return string(res.Body)
		}
		want := make([]string, len(queries))
		for i, q := range queries {
			want[i] = ask(q)
			var r struct {
				Data   json.RawMessage `json:"data"`
				Errors []any           `json:"errors"`
			}
			if err := json.Unmarshal([]byte(want[i]), &r); err != nil {
				t.Fatalf("%s: %v: %s", q, err, want[i])
			}
			if len(r.Errors) == 0 {
				// A plain answer is the executor's data between the two
				// brackets, compact as it wrote it.
				var compact bytes.Buffer
				if err := json.Compact(&compact, r.Data); err != nil || want[i] != `{"data":`+compact.String()+`}` {
					t.Fatalf("%s: not the executor's compact data in {\"data\":…}: %s", q, want[i])
				}
			}
		}
		if !strings.Contains(want[1], `"contacts":[{`) || !strings.Contains(want[2], `"subject":`) ||
			!strings.Contains(want[6], `"data":{"a":"Query","accounts":null}`) || !strings.Contains(want[6], "BAD_USER_INPUT") {
			t.Fatalf("the fixture's answers are not what this test is about:\n%s", strings.Join(want, "\n"))
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for n := range 12 {
					i := (g + n) % len(queries)
					if got := ask(queries[i]); got != want[i] {
						t.Errorf("%s: answered differently under concurrency:\n%s\nwant\n%s", queries[i], got, want[i])
						return
					}
				}
			})
		}
		wg.Wait()
	})
}
