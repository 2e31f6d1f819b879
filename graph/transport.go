package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conecrm/gateway/graph/executor"
)

// post is gqlgen's POST transport (transport.POST, v0.17.98, whose Do it
// follows step by step) except for the last one: gqlgen writes a response
// with json.Marshal, which validates and compacts the data — JSON the
// executor has just written compactly — byte by byte again (4 % of the
// lead screen's CPU). post writes that data as it is. Only a plain answer
// takes the short way; one with errors or incremental-delivery fields is
// encoded as gqlgen does. The data's strings are written as the executor
// escaped them (json.Marshal would also escape <, > and & as \u003c…):
// the same JSON values. The request comes decoded by readBody (in
// front of every transport), which gqlgen would read and decode again.
type post struct{ transport.POST }

var _ graphql.Transport = post{}

func (h post) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	w.Header().Add("Content-Type", contentType)
	start := graphql.Now()
	params, ok := params(r) // decoded by readBody
	if !ok {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
			return
		}
		params = &graphql.RawParams{}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(params); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf(
				"json request body could not be decoded: %+v body:%s", err, string(body))}))
			return
		}
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if contentType == graphqlResponseJSON {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if len(resp.Errors) > 0 && busy(resp.Errors) {
		// As REST's 503 says it: the same request will likely do in a moment.
		w.Header().Set("Retry-After", "1")
	}
	writeResponse(w, resp)
	// Written: the connection's buffer holds what it has not sent yet, and
	// nothing else refers to the data.
	executor.Recycle(resp.Data)
}

// Supports is transport.POST's, without parsing the usual Content-Type:
// mime.ParseMediaType allocates its parameters' map on every request.
func (post) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" || r.Method != http.MethodPost {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	return err == nil && mediaType == "application/json"
}

const graphqlResponseJSON = "application/graphql-response+json"

// responseContentType is gqlgen's choice for a POST without configured
// headers: application/json unless Accept prefers
// application/graphql-response+json (or names nothing it knows).
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case graphqlResponseJSON:
			return graphqlResponseJSON
		}
	}
	return graphqlResponseJSON
}

// writeResponse writes resp as gqlgen's writeJson does, a plain answer
// (data, maybe extensions) without re-encoding its data, and without
// copying it: the data goes to w as it is, between its two brackets (the
// same bytes as one write; w buffers small answers whole).
func writeResponse(w io.Writer, resp *graphql.Response) {
	if len(resp.Errors) > 0 || len(resp.Data) == 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		b, err := json.Marshal(resp)
		if err != nil {
			panic(err) // as gqlgen: the response is the executor's own
		}
		w.Write(b)
		return
	}
	io.WriteString(w, `{"data":`)
	w.Write(resp.Data)
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			panic(err)
		}
		io.WriteString(w, `,"extensions":`)
		w.Write(ext)
	}
	io.WriteString(w, "}")
}
