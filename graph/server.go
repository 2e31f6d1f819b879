package graph

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/graph/executor"
	"github.com/conecrm/gateway/graph/generated"
	"github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/live"
	"github.com/conecrm/gateway/internal/loader"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/tracing"
)

// Config is what the GraphQL endpoint needs.
type Config struct {
	// CRM is the domain layer: writes, filters, the rules of lookups.
	CRM *crm.Service
	// Client is what root lists, node and the loaders read through
	// (entgql); its data layer enforces tenancy and read permission.
	Client *ent.Client
	Logger *slog.Logger
	// Production turns introspection and "did you mean" suggestions off.
	Production bool
	Limits     Limits
	// CacheSize bounds the parsed-query cache and the automatic persisted
	// query cache (entries each); 0 means 1000.
	CacheSize int
	// Automation answers testAutomation; without it the mutation says the
	// automation runtime is not running.
	Automation AutomationTester
	// Live fans changes out to subscriptions; nil serves no websocket.
	Live          *live.Bus
	Subscriptions SubscriptionLimits
}

// AutomationTester walks an automation for a lead without side effects
// (internal/automation.Runtime).
type AutomationTester interface {
	Test(ctx context.Context, id, leadID uuid.UUID) ([]automation.Step, error)
}

// NewHandler returns the /graphql endpoint. It expects an authenticated
// request (the viewer in its context) and serves:
//   - GET with query parameters, for queries only (a mutation is 406);
//   - POST with an application/json body holding one operation: a JSON
//     array (batching) is 400, and so is any other content type, which
//     keeps form posts (CSRF) out; with Accept: multipart/mixed the answer
//     is multipart, delivering @defer fragments incrementally;
//
// with automatic persisted queries and the operation Limits.
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1000
	}
	cfg.Limits = cfg.Limits.orDefaults()
	schema := generated.NewExecutableSchema(generated.Config{
		Resolvers: &Resolver{
			client:       cfg.Client,
			crm:          cfg.CRM,
			savedFilters: cfg.CRM.SavedFilters(),
			automation:   cfg.Automation,
			live:         cfg.Live,
			subLimits:    cfg.Subscriptions.orDefaults(),
			log:          cfg.Logger,
		},
	})
	srv := handler.New(schema)
	withConn := func(h http.Handler) http.Handler { return h }
	if cfg.Live != nil {
		// First: a websocket upgrade is a GET too.
		var ws transport.Websocket
		ws, withConn = websocket(cfg.Subscriptions.orDefaults(), cfg.Logger)
		srv.AddTransport(ws)
		// Subscriptions as Server-Sent Events too (graphql-sse's distinct
		// connections mode): a POST accepting text/event-stream.
		srv.AddTransport(transport.SSE{KeepAlivePingInterval: defaultPingInterval})
		srv.AroundOperations(subscriptionsOnly)
	}
	srv.AddTransport(transport.GET{})
	// @defer is served as incremental delivery to clients that ask for it
	// (Accept: multipart/mixed, as Apollo Client and urql do); a plain JSON
	// POST gets the whole answer at once.
	srv.AddTransport(transport.MultipartMixed{})
	srv.AddTransport(post{}) // gqlgen's POST, writing the data as the executor wrote it
	validated := lru.New[*ast.QueryDocument](cfg.CacheSize)
	srv.SetQueryCache(validated)
	srv.SetParserTokenLimit(cfg.Limits.MaxTokens)
	srv.SetDisableSuggestion(cfg.Production)
	var extensions []graphql.HandlerExtension
	if !cfg.Production {
		extensions = append(extensions, extension.Introspection{})
	}
	extensions = append(extensions,
		extension.AutomaticPersistedQuery{Cache: lru.New[string](cfg.CacheSize)},
		newLimitsExtension(cfg.Limits, schema.Schema(), validated),
		tracing.GraphQL{}, // operation names for metrics, spans when tracing is on
		// Lists whose selection has no hand-written resolver below resolve
		// their elements without goroutines (graph/executor).
		executor.NewExtension(generated.ConcurrentFields, cfg.CacheSize),
	)
	for _, e := range extensions {
		// The generated executor marshals a leaf field (a struct field
		// read as a built-in scalar) without gqlgen's field machinery
		// (graph/gqlgen), so a field middleware would not see the leaves:
		// there is none (no AroundFields), and an extension must not add
		// one.
		if _, ok := e.(graphql.FieldInterceptor); ok {
			panic(fmt.Sprintf("graph: extension %s intercepts fields, which the executor's leaves skip", e.ExtensionName()))
		}
		srv.Use(e)
	}
	// Every operation its own loaders (internal/loader), given to the
	// operation's context rather than by an HTTP middleware: no copy of
	// the *http.Request per request for them.
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(loader.NewContext(ctx, loader.New(cfg.Client, cfg.Logger)))
	})
	srv.AroundRootFields(writesReadUnchecked)
	srv.SetErrorPresenter(presentError(cfg.Logger, cfg.Production))
	srv.SetRecoverFunc(recoverPanic(cfg.Logger))
	return withConn(readBody(srv))
}

// writesReadUnchecked runs a mutation's root field with the domain layer's
// reads unchecked: a write is checked by its own permission, and what it
// reads to validate its input is not the viewer reading. The written
// record, read inside the write's transaction, is the answer; the
// relations selected on it are read under the context gqlgen hands down
// from the root resolver, as when this was a field middleware. It is a
// root field interceptor rather than a field one (AroundFields), because
// gqlgen runs a field middleware around every field of every answer — a
// closure and three calls per field, ~700 allocations on a 50-row lead
// screen — while this only ever acts on a root field.
func writesReadUnchecked(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	// (A RootFieldContext's Object is the field's name, not its type.)
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		return next(registry.Unchecked(ctx))
	}
	return next(ctx)
}
