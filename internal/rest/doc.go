// Package rest is the REST compatibility layer: the documented /api routes
// of the ConeCRM reference, with their paths, parameters, JSON shapes and
// status codes, over the domain layer in internal/crm. Handlers translate
// only: they decode the request, call one crm.Service method (which checks
// permissions and business rules) and serialize the result or the error.
//
// Adding a route group (say "widget"):
//
//  1. Domain: internal/crm/widget.go holds the use cases as methods on
//     crm.Service, starting with crm.Require(ctx, perm) and returning
//     *fault.Error (fault.FieldError, Validation, AsError) for every failure.
//     Writes run in s.inTx so a rejected request changes nothing.
//  2. Transport: widget.go here has func (s *Server) widgetRoutes(mux) that
//     registers Go 1.22 patterns ("GET /api/widget/{widget}") with
//     s.handle(style, h), where style is the route's documented 400 shape
//     (PlainErrors, FormErrors or StringErrors) and h returns errors instead
//     of writing them; var _ = routes((*Server).widgetRoutes) next to it
//     mounts the group (New registers every group so declared). Use decode for
//     bodies (400 naming the field, 413 over the limit), pathID for ids (a
//     non-UUID is a 404), pageParams/sortParams for lists, writeJSON for
//     results, and the shared shapes of shapes.go / customers.go / leads.go /
//     tasks.go: Accounts, Contacts, Leads and Tasks serialize lists of rows
//     loaded with crm.WithAccountGraph, WithContactGraph, WithLeadGraph and
//     Service.TaskViews (a fixed number of statements per list).
//     Request types hold only the documented input fields, so server-owned
//     fields are ignored; ids inside bodies are strings parsed with parseID
//     or parseRef so a bad one is a 400 naming the field.
//  3. Document: openapi/widget.yaml adds the group's paths (and components)
//     to the OpenAPI 3.1 document; base.yaml holds the shared schemas and
//     responses. Document every status a route can answer, including 401,
//     and describe any gap decision in the operation's description.
//  4. Tests: widget_test.go sends requests with resttest.Start(t, db).Do
//     inside storetest.Each, so each runs on SQLite and PostgreSQL through
//     the real HTTP stack and every response is validated against the
//     document. Cover success, every documented error status, bad JSON,
//     wrong types, unknown and other-tenant ids (404, nothing written) and no
//     token (401).
package rest
