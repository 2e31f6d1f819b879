package live_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// stream is a Server-Sent Events subscription (POST /graphql accepting
// text/event-stream).
type stream struct {
	t    *testing.T
	resp *http.Response
	r    *bufio.Reader
}

// sse posts query with token; it returns the stream, or the refusal's
// status and body.
func (in *instance) sse(t *testing.T, token, query string) (*stream, int, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(resp.Body)
		return nil, resp.StatusCode, string(body)
	}
	return &stream{t: t, resp: resp, r: bufio.NewReader(resp.Body)}, resp.StatusCode, ""
}

// next returns the next event's name and data ("" and the error when the
// stream ended), skipping comments (keep-alives).
func (s *stream) next(timeout time.Duration) (string, string, error) {
	type ev struct {
		name, data string
		err        error
	}
	ch := make(chan ev, 1)
	go func() {
		var e ev
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				ch <- ev{err: err}
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "" && (e.name != "" || e.data != ""):
				ch <- e
				return
			case strings.HasPrefix(line, "event:"):
				e.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				e.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	select {
	case e := <-ch:
		return e.name, e.data, e.err
	case <-time.After(timeout):
		s.t.Fatal("no event on the stream in time")
		return "", "", nil
	}
}

// Subscriptions are served as Server-Sent Events too, with the
// websocket's rules: the token of the Authorization header, read as the
// subscriber; exempt from the request deadline and the in-flight cap; the
// stream counts against the user's connections; it ends when the token
// expires; queries and mutations are refused.
func TestSubscriptionsOverServerSentEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		url := "sqlite"
		if db.Dialect == "postgres" {
			url = storetest.DBURL(t, db)
		}
		in := startApp(t, db, url, graph.SubscriptionLimits{PerUser: 1, Buffer: 64}, false,
			app.Config{Limits: app.Limits{RequestTimeout: 2 * time.Second, MaxInFlight: 1}}) // a write under a loaded CI machine can take a few hundred ms
		s, status, body := in.sse(t, in.Token(admin), recordSub)
		if s == nil {
			t.Fatalf("stream refused: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond) // the subscription is registered
		in.createLead(t, otherAdmin, "northwind-auto.test", "Their lead")
		for i, subject := range []string{"Streamed", "Streamed later"} {
			if i == 1 {
				time.Sleep(2200 * time.Millisecond) // past the request deadline
			}
			id := in.createLead(t, admin, "demo-motors.test", subject) // the in-flight cap of 1 does not count the stream
			name, data, err := s.next(10 * time.Second)
			must(t, err)
			var ev struct{ Data recordChange }
			must(t, json.Unmarshal([]byte(data), &ev))
			if name != "next" || ev.Data.RecordChanged.RecordID != id || ev.Data.RecordChanged.Record == nil ||
				ev.Data.RecordChanged.Record.Subject != subject {
				t.Fatalf("event %s %s, want lead %s", name, data, id)
			}
		}
		// The stream is one of the user's connections (at most 1 here).
		if _, status, body := in.sse(t, in.Token(admin), recordSub); status != http.StatusTooManyRequests ||
			!strings.Contains(body, "too many connections") {
			t.Fatalf("second stream: %d %s", status, body)
		}
		c := in.dial(t)
		c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + in.Token(admin)}})
		if code := c.closed(5 * time.Second); code != graph.CloseTooMany {
			t.Fatalf("websocket next to a stream: close %d", code)
		}
		_ = s.resp.Body.Close()

		// Queries are not served as streams (they would escape the deadline).
		q, _, _ := in.sse(t, in.Token("manager@demo-motors.test"), `{ leads(first: 1) { totalCount } }`)
		if q == nil {
			t.Fatal("a query over text/event-stream was not answered as a stream")
		}
		if _, data, err := q.next(5 * time.Second); err != nil || !strings.Contains(data, "subscriptions only") {
			t.Fatalf("query over a stream: %s %v", data, err)
		}
		// Its end frees the manager's one connection slot for the stream below
		// (the slot is released when the server's handler returns).
		for {
			if _, _, err := q.next(5 * time.Second); err != nil {
				break
			}
		}
		// A bad token is refused; an expiring one ends the stream.
		if _, status, _ := in.sse(t, "not-a-token", recordSub); status != http.StatusUnauthorized {
			t.Fatalf("bad token: %d", status)
		}
		began := time.Now()
		short, err := auth.Mint(apptest.Secret, storetest.UserID(t, db, "manager@demo-motors.test"),
			storetest.TenantID(t, db, "demo-motors.test"), 2*time.Second) // exp in whole seconds: at least 1 s left
		must(t, err)
		e, status, body := in.sse(t, short, `subscription { recordChanged(types: ["lead"]) { recordId } }`)
		if e == nil {
			t.Fatalf("short token stream: %d %s", status, body)
		}
		for {
			name, data, err := e.next(10 * time.Second)
			switch {
			case err == nil && name == "next":
				t.Fatalf("unexpected event %s", data)
			case err == nil && name != "complete":
				continue
			case time.Since(began) < time.Second:
				t.Fatalf("the stream ended before its token expired: %s %v", name, err)
			}
			return // ended at the token's expiry
		}
	})
}

// A stream whose reader stops reading is cut once its queue is full
// (CONECRM_SUBSCRIPTION_BUFFER), like a websocket: its blocked write is
// ended, the stream and the user's connection slot are freed.
func TestSlowStreamCut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		url := "sqlite"
		if db.Dialect == "postgres" {
			url = storetest.DBURL(t, db)
		}
		in := startApp(t, db, url, graph.SubscriptionLimits{Buffer: 2, PerUser: 1}, false, app.Config{})
		open := openSubscriptions(t)
		var sel strings.Builder
		for i := range 29 {
			sel.WriteString(" d" + strconv.Itoa(i) + ": description")
		}
		b, _ := json.Marshal(map[string]any{"query": `subscription { leadChanged { leadId lead {` + sel.String() + ` } } }`})
		req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+in.Token(admin))
		resp, err := (&http.Client{Transport: &http.Transport{DialContext: smallDialer().DialContext}}).Do(req)
		must(t, err)
		defer resp.Body.Close()
		time.Sleep(100 * time.Millisecond)
		body := newLead(t, db, "demo-motors.test", "Slow stream")
		body["description"] = strings.Repeat("x", 255)
		before := closes(t, graph.CloseSlowConsumer)
		writes := 0
		for closes(t, graph.CloseSlowConsumer) == before {
			if writes == 3000 {
				t.Fatalf("the stream was not cut after %d changes", writes)
			}
			if res := in.Do(http.MethodPost, "/api/lead", admin, body); res.Status != 200 {
				t.Fatalf("create lead: %d %s", res.Status, res.Body)
			}
			writes++
		}
		deadline := time.Now().Add(10 * time.Second)
		for openSubscriptions(t) != open {
			if time.Now().After(deadline) {
				t.Fatalf("subscriptions gauge %v, want %v: the cut stream is still held", openSubscriptions(t), open)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("stream cut after %d changes", writes)
	})
}
