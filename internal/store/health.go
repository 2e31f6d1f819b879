package store

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	"golang.org/x/sys/unix"
)

// OpenWait opens url like OpenWith, but while PostgreSQL does not answer it
// retries with exponential backoff (100 ms doubling to 5 s) for up to
// o.StartupWait, so a gateway started before its database (or during a
// restart) waits instead of exiting. SQLite is opened once.
func OpenWait(ctx context.Context, rawURL string, o Options, log *slog.Logger) (*DB, error) {
	if !IsPostgres(rawURL) {
		return OpenWith(ctx, rawURL, o)
	}
	o = o.withDefaults(true)
	deadline := time.Now().Add(o.StartupWait)
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, o.ConnectTimeout+time.Second)
		db, err := OpenWith(actx, rawURL, o)
		cancel()
		if err == nil {
			return db, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, fmt.Errorf("%w (gave up after %d attempts in %s, CONECRM_DB_STARTUP_WAIT)", err, attempt, o.StartupWait)
		}
		log.WarnContext(ctx, "database not reachable yet: retrying", "attempt", attempt, "retry_in", wait.String(), "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// withConnectTimeout adds lib/pq's connect_timeout (whole seconds) to a
// postgres:// URL that does not set one.
func withConnectTimeout(rawURL string, d time.Duration) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // lib/pq reports the malformed URL
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", strconv.Itoa(int(math.Ceil(d.Seconds()))))
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// ReadyTimeout bounds Ready when the caller's context allows longer.
const ReadyTimeout = 1500 * time.Millisecond

// Ready reports whether the database can serve: PostgreSQL answers a ping,
// SQLite accepts a write (a read-only file or a full disk is not ready).
// It returns within ReadyTimeout even when the database hangs.
func (db *DB) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		if db.Dialect == dialect.SQLite {
			errc <- db.writeProbe(ctx)
			return
		}
		errc <- db.SQL.PingContext(ctx)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return fmt.Errorf("database did not answer within %s: %w", ReadyTimeout, ctx.Err())
	}
}

// MinFreeBytes is the free space below which an SQLite database is not
// ready: its probe write may still fit in pages SQLite already holds while
// every real write fails for want of a new one.
const MinFreeBytes = 1 << 20

// writeProbe writes one row of a one-row table: it fails when the file,
// its directory or the disk cannot take a write.
func (db *DB) writeProbe(ctx context.Context) error {
	// Connections opened earlier keep writing through their descriptors
	// after a chmod; the file and its directory must still accept new ones.
	dir := filepath.Dir(db.file)
	for _, p := range []string{db.file, dir} {
		if err := unix.Access(p, unix.W_OK); err != nil {
			return fmt.Errorf("%s is not writable: %w", p, err)
		}
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err == nil {
		if free := fs.Bavail * uint64(fs.Bsize); free < MinFreeBytes {
			return fmt.Errorf("%s has %d bytes free (less than %d): writes fail", dir, free, MinFreeBytes)
		}
	}
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS conecrm_health (id INTEGER PRIMARY KEY, checked_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	_, err := db.SQL.ExecContext(ctx, `INSERT INTO conecrm_health (id, checked_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixNano())
	return err
}

// ConnectAttempts returns how many PostgreSQL connections were attempted
// and how many of them failed (0, 0 on SQLite).
func (db *DB) ConnectAttempts() (attempts, failures int64) {
	if db.gate == nil {
		return 0, 0
	}
	return db.gate.attempts.Load(), db.gate.failures.Load()
}
