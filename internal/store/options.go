package store

import (
	"fmt"
	"strconv"
	"time"
)

// Options bound what the database may cost the process: how long a
// connection attempt may take, how many connections are open, how long they
// live, and how long a starting server waits for the database.
type Options struct {
	ConnectTimeout  time.Duration // CONECRM_DB_CONNECT_TIMEOUT: one connection attempt (dial + handshake)
	MaxOpenConns    int           // CONECRM_DB_MAX_OPEN_CONNS: 0 = 20 on PostgreSQL, 8 on SQLite
	MaxIdleConns    int           // CONECRM_DB_MAX_IDLE_CONNS: 0 = MaxOpenConns
	ConnMaxLifetime time.Duration // CONECRM_DB_CONN_MAX_LIFETIME: recycle connections this old
	ConnMaxIdleTime time.Duration // CONECRM_DB_CONN_MAX_IDLE_TIME: close connections idle this long
	StartupWait     time.Duration // CONECRM_DB_STARTUP_WAIT: how long OpenWait retries before giving up
	// SQLiteCacheKiB is each SQLite connection's page cache
	// (CONECRM_DB_SQLITE_CACHE_KIB; 0 = DefaultSQLiteCacheKiB). Pages it
	// does not hold are read again from the operating system's file cache.
	SQLiteCacheKiB int
	// StatementCache is how many reads' statements each pool keeps
	// prepared (CONECRM_DB_STATEMENT_CACHE; 0 = DefaultStatementCache, -1 =
	// none: every read is sent unprepared, as a connection pooler in
	// transaction mode without prepared-statement support needs).
	StatementCache int
	// RetryMin and RetryMax bound the backoff between connection attempts
	// while PostgreSQL is unreachable: during an outage at most one attempt
	// per RetryMax is made, whatever the request rate.
	RetryMin, RetryMax time.Duration
}

// DefaultSQLiteCacheKiB is each SQLite connection's page cache by
// default: 256 KiB, not SQLite's 2 MiB. Eight connections each caching
// their own copy of the same hot pages held 30 MB of the gateway's memory
// under 32 clients (its RSS went over 150 MB), for no measurable speed:
// the database file stays in the operating system's cache, which serves a
// page a connection does not hold (docs/benchmarks.md).
const DefaultSQLiteCacheKiB = 256

// DefaultOptions are the limits used when nothing is configured.
func DefaultOptions() Options {
	return Options{
		ConnectTimeout:  5 * time.Second,
		ConnMaxLifetime: 30 * time.Minute,
		ConnMaxIdleTime: 5 * time.Minute,
		StartupWait:     60 * time.Second,
		RetryMin:        50 * time.Millisecond,
		RetryMax:        500 * time.Millisecond,
	}
}

// OptionsFromEnv reads the CONECRM_DB_* variables over DefaultOptions.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	o := DefaultOptions()
	for _, d := range []struct {
		name string
		v    *time.Duration
	}{
		{"CONECRM_DB_CONNECT_TIMEOUT", &o.ConnectTimeout},
		{"CONECRM_DB_CONN_MAX_LIFETIME", &o.ConnMaxLifetime},
		{"CONECRM_DB_CONN_MAX_IDLE_TIME", &o.ConnMaxIdleTime},
		{"CONECRM_DB_STARTUP_WAIT", &o.StartupWait},
	} {
		if s := getenv(d.name); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v < 0 {
				return o, fmt.Errorf("%s must be a duration such as 5s, not %q", d.name, s)
			}
			*d.v = v
		}
	}
	for _, n := range []struct {
		name string
		v    *int
	}{
		{"CONECRM_DB_MAX_OPEN_CONNS", &o.MaxOpenConns},
		{"CONECRM_DB_MAX_IDLE_CONNS", &o.MaxIdleConns},
		{"CONECRM_DB_SQLITE_CACHE_KIB", &o.SQLiteCacheKiB},
	} {
		if s := getenv(n.name); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1 {
				return o, fmt.Errorf("%s must be a positive integer, not %q", n.name, s)
			}
			*n.v = v
		}
	}
	if s := getenv("CONECRM_DB_STATEMENT_CACHE"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return o, fmt.Errorf("CONECRM_DB_STATEMENT_CACHE must be a number of statements (0 = none), not %q", s)
		}
		o.StatementCache = v
		if v == 0 {
			o.StatementCache = -1
		}
	}
	if o.ConnectTimeout < time.Second {
		// lib/pq's connect_timeout counts whole seconds.
		return o, fmt.Errorf("CONECRM_DB_CONNECT_TIMEOUT must be at least 1s")
	}
	return o, nil
}

func (o Options) withDefaults(postgres bool) Options {
	d := DefaultOptions()
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = d.ConnectTimeout
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 20
		if !postgres {
			o.MaxOpenConns = 8
		}
	}
	if o.MaxIdleConns <= 0 || o.MaxIdleConns > o.MaxOpenConns {
		// All kept: a reopened connection is a new PostgreSQL backend (or
		// re-reads the SQLite schema and pragmas) and re-prepares statements.
		o.MaxIdleConns = o.MaxOpenConns
	}
	if o.SQLiteCacheKiB <= 0 {
		o.SQLiteCacheKiB = DefaultSQLiteCacheKiB
	}
	if o.StatementCache == 0 {
		o.StatementCache = DefaultStatementCache // negative stays: none
	}
	if o.RetryMin <= 0 {
		o.RetryMin = d.RetryMin
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(o.RetryMin, d.RetryMax)
	}
	return o
}
