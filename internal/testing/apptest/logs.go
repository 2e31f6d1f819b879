package apptest

import (
	"bytes"
	"sync"
)

// Logs is a log sink safe for a server's goroutines and the test that
// reads it (slog.NewTextHandler(&logs, nil)).
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
