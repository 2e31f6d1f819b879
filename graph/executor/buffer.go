package executor

import (
	"bytes"
	"sync"
)

// maxPooledAnswer is the largest answer buffer kept for reuse. The bench
// shapes answer 0.1–55 KB; a rare large answer (up to the 8 MiB response
// limit) is left to the collector rather than held by the pool.
const maxPooledAnswer = 256 << 10

// answers holds the backing arrays of answers already written to their
// clients (*[]byte, length 0).
var answers sync.Pool

// Buffer returns the buffer a query's answer is marshalled into: graph/gqlgen
// rewrites the generated executor's `var buf bytes.Buffer` to it. A fresh
// bytes.Buffer starts at 64 bytes and doubles up to the answer's size — on
// the recursive bench shape (~50 KB) that is ~130 KB of garbage per request
// before the answer is written; an array from an earlier answer usually
// needs no growth.
func Buffer() *bytes.Buffer {
	if p, ok := answers.Get().(*[]byte); ok {
		return bytes.NewBuffer(*p)
	}
	return new(bytes.Buffer)
}

// Recycle hands back an answer's data once it has been written to the
// client and nothing refers to it any more (the POST transport, after its
// last write). Data from anywhere else may be passed too: only its array
// is reused.
func Recycle(data []byte) {
	if c := cap(data); c == 0 || c > maxPooledAnswer {
		return
	}
	b := data[:0]
	answers.Put(&b)
}
