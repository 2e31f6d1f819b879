package loader

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/tracing"
)

// key is one load: a row id and the GraphQL field that asks for it. Loads of
// the same field share one selection set, so a batch is split by field and
// each part is one query that reads that field's selection (columns and
// eager-loaded relations, via entgql's CollectFields).
type key struct {
	id    uuid.UUID
	field *ast.Field // nil outside a GraphQL field (e.g. in tests)
}

// fetch loads the rows of ids through client for the field whose context
// ctx carries and returns them by id; ids without a row are simply absent.
type fetch[V any] func(ctx context.Context, client *ent.Client, ids []uuid.UUID) (map[uuid.UUID]V, error)

// result is the outcome of one key, shared by every load of it (a key is
// loaded once per request).
type result[V any] struct {
	ready chan struct{}
	v     V
	err   error
}

// batcher collects the loads of one request and runs them in batches split
// by GraphQL field.
//
// When a batch runs: not after a fixed window, but as soon as the executor
// has no more work that could queue keys. The executor resolves a list's
// rows in goroutines that all become runnable at once; the batch's
// dispatcher yields the processor to them (runtime.Gosched) and runs the
// batch once the pending keys stopped growing and no other goroutine is
// running or runnable (runtime/metrics) — on an idle server microseconds
// after the last key, instead of a fixed 10 ms. Under load (other
// requests keep goroutines runnable) unchanged keys for settle end the
// collection; a key that arrives after all (a starved CPU) costs one more
// statement, never one per row. maxWait bounds the collection while keys
// keep arriving.
type batcher[V any] struct {
	log    *slog.Logger
	what   string
	client *ent.Client
	f      fetch[V]

	mu        sync.Mutex
	fields    map[*ast.Field]context.Context // the context of a field's first load: its selection
	results   map[key]*result[V]             // every key asked for, loaded or pending
	pending   []key
	batchCtx  context.Context // the context of the first pending load
	scheduled bool
}

const (
	settle  = 200 * time.Microsecond // unchanged keys for this long, while the process is busy, end the collection
	maxWait = 10 * time.Millisecond  // collection bound while keys keep arriving
)

// init readies b, part of its request's Loaders (one allocation for all of
// them); the maps are made by the first load: most requests load nothing.
func (b *batcher[V]) init(log *slog.Logger, what string, client *ent.Client, f fetch[V]) {
	b.log, b.what, b.client, b.f = log, what, client, f
}

func (b *batcher[V]) load(ctx context.Context, id uuid.UUID) (V, error) {
	k := key{id: id}
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil {
		k.field = fc.Field.Field
	}
	return b.queue(ctx, k)()
}

// queue registers the load of k and returns a function that waits for its
// result.
func (b *batcher[V]) queue(ctx context.Context, k key) func() (V, error) {
	b.mu.Lock()
	if b.results == nil {
		b.fields, b.results = map[*ast.Field]context.Context{}, map[key]*result[V]{}
	}
	r, ok := b.results[k]
	if !ok {
		r = &result[V]{ready: make(chan struct{})}
		b.results[k] = r
		if _, ok := b.fields[k.field]; !ok && k.field != nil {
			b.fields[k.field] = ctx
		}
		b.pending = append(b.pending, k)
		if !b.scheduled {
			b.scheduled, b.batchCtx = true, ctx
			go b.dispatchWhenIdle()
		}
	}
	b.mu.Unlock()
	return func() (V, error) {
		<-r.ready
		return r.v, r.err
	}
}

// dispatchWhenIdle waits until no more keys arrive, then runs the batch.
// After each yield it looks at the pending keys: when they did not grow
// and no other goroutine of the process is running or runnable, nothing
// can add to the batch any more; when other goroutines are busy (other
// requests), the keys must have stayed unchanged for settle.
func (b *batcher[V]) dispatchWhenIdle() {
	start := time.Now()
	seen, changed := -1, start
	for {
		runtime.Gosched()
		b.mu.Lock()
		n := len(b.pending)
		b.mu.Unlock()
		now := time.Now()
		if n != seen {
			seen, changed = n, now
		} else if now.Sub(changed) >= settle || processIdle() {
			break
		}
		if now.Sub(start) >= maxWait {
			break
		}
	}
	b.mu.Lock()
	keys, ctx := b.pending, b.batchCtx
	b.pending, b.batchCtx, b.scheduled = nil, nil, false
	b.mu.Unlock()
	b.run(ctx, keys)
}

var schedSamples = []metrics.Sample{
	{Name: "/sched/goroutines/runnable:goroutines"},
	{Name: "/sched/goroutines/running:goroutines"},
}

var schedMu sync.Mutex

// processIdle reports whether the calling goroutine is the only one of the
// process that is running or waiting to run.
func processIdle() bool {
	schedMu.Lock()
	defer schedMu.Unlock()
	metrics.Read(schedSamples)
	runnable, running := schedSamples[0].Value, schedSamples[1].Value
	if runnable.Kind() != metrics.KindUint64 || running.Kind() != metrics.KindUint64 {
		return false // unsupported runtime: rely on settle
	}
	return runnable.Uint64() == 0 && running.Uint64() <= 1
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

// run runs f once per field among keys and hands every key its result. A
// panic in f is recovered here, logged with the request id and stack, and
// answered with an internal error for every key: batches run in their own
// goroutine, out of reach of the HTTP stack's recovery.
func (b *batcher[V]) run(ctx context.Context, keys []key) {
	found := map[*ast.Field]map[uuid.UUID]V{}
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				b.log.ErrorContext(ctx, "panic in dataloader batch", "loader", b.what,
					"request_id", httpx.RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = &fault.Error{Code: fault.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
			}
		}()
		byField := map[*ast.Field][]uuid.UUID{}
		for _, k := range keys {
			byField[k.field] = append(byField[k.field], k.id)
		}
		for field, ids := range byField {
			fctx, done := tracing.Batch(b.fieldContext(ctx, field), b.what, len(ids))
			rows, ferr := b.f(fctx, b.client, ids)
			done(ferr)
			if ferr != nil {
				err = ferr
				return
			}
			found[field] = rows
		}
	}()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		r := b.results[k]
		if err != nil {
			r.err = err
			// A failed load is not cached: a later load of the key retries.
			delete(b.results, k)
		} else {
			r.v = found[k.field][k.id]
		}
		close(r.ready)
	}
}
