package loader

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/crm"
)

// key is one load: a row id and the GraphQL field that asks for it. Loads of
// the same field share one selection set, so a batch is split by field and
// each part is one query that reads that field's selection (columns and
// eager-loaded relations, via entgql's CollectFields).
type key struct {
	id    uuid.UUID
	field *ast.Field // nil outside a GraphQL field (e.g. in tests)
}

// fetch loads the rows of ids for the field whose context ctx carries and
// returns them by id; ids without a row are simply absent.
type fetch[V any] func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]V, error)

// batcher is a dataloader whose batches are split by GraphQL field.
type batcher[V any] struct {
	dl     *dataloader.Loader[key, V]
	mu     sync.Mutex
	fields map[*ast.Field]context.Context // the context of a field's first load: its selection
}

func newBatcher[V any](log *slog.Logger, what string, f fetch[V]) *batcher[V] {
	b := &batcher[V]{fields: map[*ast.Field]context.Context{}}
	// The default in-memory cache lives as long as the request: a row is
	// loaded once per field.
	b.dl = dataloader.NewBatchedLoader(b.batchFunc(log, what, f), dataloader.WithWait[key, V](wait))
	return b
}

func (b *batcher[V]) load(ctx context.Context, id uuid.UUID) (V, error) {
	k := key{id: id}
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil {
		k.field = fc.Field.Field
		b.mu.Lock()
		if _, ok := b.fields[k.field]; !ok {
			b.fields[k.field] = ctx
		}
		b.mu.Unlock()
	}
	return b.dl.Load(ctx, k)()
}

// fieldContext returns the context of the first load of field f, whose
// field context holds f's selection; ctx when f is nil. Loaders are per
// request, so every stored context carries the same viewer.
func (b *batcher[V]) fieldContext(ctx context.Context, f *ast.Field) context.Context {
	b.mu.Lock()
	defer b.mu.Unlock()
	if fctx, ok := b.fields[f]; ok {
		return fctx
	}
	return ctx
}

// batchFunc runs f once per field among keys. A panic in f is recovered
// here, logged with the request id and stack, and answered with an internal
// error for every key: batch functions run in the loader's own goroutine,
// out of reach of the HTTP stack's recovery.
func (b *batcher[V]) batchFunc(log *slog.Logger, what string, f fetch[V]) dataloader.BatchFunc[key, V] {
	return func(ctx context.Context, keys []key) (results []*dataloader.Result[V]) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "panic in dataloader batch", "loader", what,
					"request_id", app.RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				results = failAll[V](len(keys), &crm.Error{Code: crm.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", p)})
			}
		}()
		byField := map[*ast.Field][]uuid.UUID{}
		for _, k := range keys {
			byField[k.field] = append(byField[k.field], k.id)
		}
		found := make(map[*ast.Field]map[uuid.UUID]V, len(byField))
		for field, ids := range byField {
			rows, err := f(b.fieldContext(ctx, field), ids)
			if err != nil {
				return failAll[V](len(keys), err)
			}
			found[field] = rows
		}
		results = make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			results[i] = &dataloader.Result[V]{Data: found[k.field][k.id]}
		}
		return results
	}
}

func failAll[V any](n int, err error) []*dataloader.Result[V] {
	results := make([]*dataloader.Result[V], n)
	for i := range results {
		results[i] = &dataloader.Result[V]{Error: err}
	}
	return results
}
