// Package tracing is the gateway's OpenTelemetry tracing: a span per HTTP
// request (otelhttp), per GraphQL operation, per dataloader batch and per
// SQL statement, exported over OTLP/HTTP when the standard
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set. Unset, nothing is installed: no middleware, no spans, no cost.
// Log lines written with a request's context carry its trace_id.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/store"
)

var enabled atomic.Bool

// Enabled reports whether spans are recorded.
func Enabled() bool { return enabled.Load() }

func tracer() trace.Tracer { return otel.Tracer("github.com/conecrm/gateway") }

// Configured reports whether the environment asks for trace export.
func Configured(getenv func(string) string) bool {
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the OTLP/HTTP exporter when Configured (the exporter reads
// the standard OTEL_EXPORTER_OTLP_* variables, the resource
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES). The returned function
// flushes and stops it; it is a no-op when tracing is off.
func Setup(ctx context.Context, getenv func(string) string) (func(context.Context) error, error) {
	if !Configured(getenv) {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(serviceName(getenv))))
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	enabled.Store(true)
	store.SetStatementTracer(statementSpan)
	return tp.Shutdown, nil
}

func serviceName(getenv func(string) string) string {
	if s := getenv("OTEL_SERVICE_NAME"); s != "" {
		return s
	}
	return "conecrm-gateway"
}

// Middleware wraps the whole HTTP stack in otelhttp when tracing is on.
func Middleware(h http.Handler) http.Handler {
	if !Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "http", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method + " " + r.URL.Path
	}))
}

// statementSpan opens a span for one SQL statement.
func statementSpan(ctx context.Context, query string) (context.Context, func(error)) {
	ctx, span := tracer().Start(ctx, "sql", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.query.text", truncate(query, 2000))))
	return ctx, func(err error) { end(span, err) }
}

// Batch opens a span for one dataloader batch of n keys; call the returned
// function when it is done. Free when tracing is off.
func Batch(ctx context.Context, loader string, n int) (context.Context, func(error)) {
	if !Enabled() {
		return ctx, func(error) {}
	}
	ctx, span := tracer().Start(ctx, "loader "+loader, trace.WithAttributes(
		attribute.String("conecrm.loader", loader), attribute.Int("conecrm.batch.size", n)))
	return ctx, func(err error) { end(span, err) }
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// GraphQL is a gqlgen extension: it names the request's operation for the
// metrics and, when tracing is on, wraps each operation in a span.
type GraphQL struct{}

var (
	_ graphql.HandlerExtension     = GraphQL{}
	_ graphql.OperationInterceptor = GraphQL{}
	_ graphql.ResponseInterceptor  = GraphQL{}
)

// ExtensionName implements graphql.HandlerExtension.
func (GraphQL) ExtensionName() string { return "Observe" }

// Validate implements graphql.HandlerExtension.
func (GraphQL) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation names the operation once it is parsed.
func (GraphQL) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	metrics.SetOperation(ctx, operationName(graphql.GetOperationContext(ctx)))
	return next(ctx)
}

// operationName is the name the operation has in the document, or the
// request's operationName.
func operationName(oc *graphql.OperationContext) string {
	if oc.Operation != nil && oc.Operation.Name != "" {
		return oc.Operation.Name
	}
	return oc.OperationName
}

// InterceptResponse spans the operation's execution.
func (GraphQL) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !Enabled() {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	kind := "operation"
	if oc.Operation != nil {
		kind = string(oc.Operation.Operation)
	}
	name := operationName(oc)
	if name == "" {
		name = "anonymous"
	}
	ctx, span := tracer().Start(ctx, "graphql "+kind+" "+name, trace.WithAttributes(
		attribute.String("graphql.operation.type", kind), attribute.String("graphql.operation.name", name)))
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, resp.Errors.Error())
	}
	span.End()
	return resp
}

// LogHandler adds trace_id and span_id to records logged with a context
// that carries a span.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(a []slog.Attr) slog.Handler { return logHandler{l.Handler.WithAttrs(a)} }
func (l logHandler) WithGroup(n string) slog.Handler      { return logHandler{l.Handler.WithGroup(n)} }
