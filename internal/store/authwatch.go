package store

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
	"github.com/lib/pq"
)

// AuthTables are the tables a request's viewer is read from
// (crm.viewerSQL; crm's TestViewerCacheWatchesEveryTableItReads checks the
// list against it). A change to any of them ends every cached viewer.
var AuthTables = []string{"users", "user_roles", "roles", "role_permissions", "permissions",
	"security_group_members", "security_groups"}

// AuthChannel is the PostgreSQL notification channel of AuthTables'
// changes (the triggers of migrateAuthTriggers notify it).
const AuthChannel = "conecrm_auth"

// AuthWatch tells a cache of what AuthTables hold whether it may still trust
// what it read: per tenant, a generation that moves whenever that tenant's
// rows of them may have changed.
//
// This process's writes move it themselves, at the lowest layer every
// statement goes through (the driver connection, conn.go), so ent's
// mutations, hand-written SQL, migrations, seeding and jobs are all seen
// — after the write's commit, before the write's request can answer.
// Other processes' writes (other gateway instances, psql) reach it on
// PostgreSQL through the triggers' notifications (Listen); on SQLite the
// gateway is the only writer of its file.
//
// A write known to be of one tenant — an ent mutation under a viewer
// (tenancy.WriteTenant), a notification naming its tenant — moves that
// tenant's generation only; any other write (system work, hand-written
// SQL, the global permissions, a statement over several tenants) moves
// every tenant's. A tenant's generation is the sum of both counters: it
// moves with either, and since neither ever goes back, an unchanged sum
// means neither moved.
type AuthWatch struct {
	gen         atomic.Uint64 // moves of every tenant's generation
	tenants     sync.Map      // uuid.UUID → *atomic.Uint64: one tenant's own moves
	tenantMoves atomic.Uint64 // the sum of tenants'
	// live is false while the cache may not be used: on PostgreSQL until
	// the listener LISTENs, and whenever its connection is down (the
	// notifications sent meanwhile are lost).
	live atomic.Bool

	mu        sync.Mutex // orders the listener's transitions
	listening bool       // LISTEN done on the current connection
	connected bool       // per the listener's last event
	listener  *pq.Listener
	up        chan struct{} // closed when the watch first goes live
	done      chan struct{} // closed when the listening goroutine ended
	once      sync.Once
}

func newAuthWatch(postgres bool) *AuthWatch {
	w := &AuthWatch{}
	w.live.Store(!postgres)
	return w
}

// Generation returns tenant's current generation and whether a cache may
// use it at all. A cache keeps what it read with the generation read
// BEFORE the read, and trusts it only while Generation returns that same
// value: a read that raced with a committing change is never trusted
// afterwards.
func (w *AuthWatch) Generation(tenant uuid.UUID) (gen uint64, ok bool) {
	if !w.live.Load() {
		return 0, false
	}
	gen = w.gen.Load()
	if c, ok := w.tenants.Load(tenant); ok {
		gen += c.(*atomic.Uint64).Load()
	}
	return gen, true
}

// Changed moves every tenant's generation: what AuthTables held may have
// changed anywhere.
func (w *AuthWatch) Changed() { w.gen.Add(1) }

// ChangedTenant moves tenant's generation: what AuthTables held of tenant
// (its users, their roles and groups, its roles' permissions) may have
// changed, and nothing else.
func (w *AuthWatch) ChangedTenant(tenant uuid.UUID) {
	c, ok := w.tenants.Load(tenant)
	if !ok {
		c, _ = w.tenants.LoadOrStore(tenant, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
	w.tenantMoves.Add(1)
}

// changed is ChangedTenant(tenant) when known, else Changed.
func (w *AuthWatch) changed(tenant uuid.UUID, known bool) {
	if known {
		w.ChangedTenant(tenant)
	} else {
		w.Changed()
	}
}

// Live reports whether a cache may be used now (Generation's ok).
func (w *AuthWatch) Live() bool { return w.live.Load() }

// Moves returns how often every tenant's generation moved together: every
// cached viewer was dropped that many times.
func (w *AuthWatch) Moves() uint64 { return w.gen.Load() }

// TenantMoves returns how often one tenant's generation moved alone: that
// tenant's cached viewers were dropped, the others' kept.
func (w *AuthWatch) TenantMoves() uint64 { return w.tenantMoves.Load() }

// listenerKeepAlive bounds how long a silently broken listener connection
// (a peer or network that vanished without closing it) goes unnoticed:
// TCP keepalive probes after 5 s idle, every 2 s, 3 unanswered → about
// 11 s. A connection that is closed or reset is noticed at once.
var listenerKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}

// ListenAuthChanges makes the other processes' changes of AuthTables reach
// db's AuthWatch (PostgreSQL; on SQLite it does nothing): it LISTENs on
// AuthChannel on a connection of its own (lib/pq's Listener, which
// reconnects by itself) and moves the generation on every notification.
// The watch is live only while that connection listens; after a reconnection
// the generation moves first (the notifications of the gap are lost). It
// waits up to wait for the first LISTEN, then goes on in the background;
// Close stops it. A database without the triggers (not migrated since) is
// never live: its caches stay unused.
func (db *DB) ListenAuthChanges(ctx context.Context, log *slog.Logger, wait time.Duration) {
	if db.Dialect != dialect.Postgres {
		return
	}
	w := db.auth
	w.once.Do(func() {
		have, err := authTriggers(ctx, db.SQL)
		if err == nil && !watched(have) {
			err = fmt.Errorf("the tables of users, roles and groups lack their notification triggers (run migrate)")
		}
		if err != nil {
			log.Error("viewer cache off: cannot watch the users' changes", "err", err)
			return
		}
		d := &dialer{d: net.Dialer{Timeout: 5 * time.Second, KeepAliveConfig: listenerKeepAlive}}
		w.mu.Lock()
		w.up, w.done = make(chan struct{}), make(chan struct{})
		w.listener = pq.NewDialListener(d, listenerURL(db.url), 50*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
			w.event(ev)
			if err != nil {
				log.Warn("viewer cache: change listener; viewers are read on every request until it listens again", "event", ev.String(), "err", err)
			}
		})
		l := w.listener
		w.mu.Unlock()
		go w.run(l)
		select {
		case <-w.up:
		case <-time.After(wait):
			log.Warn("viewer cache: change listener not connected yet; viewers are read on every request until it is")
		case <-ctx.Done():
		}
	})
}

// listenerURL names the listener's connection for operators
// (pg_stat_activity.application_name).
func listenerURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // lib/pq reports the malformed URL
	}
	q := u.Query()
	q.Set("application_name", AuthListenerName)
	u.RawQuery = q.Encode()
	return u.String()
}

// AuthListenerName is the application_name of ListenAuthChanges' connection.
const AuthListenerName = "conecrm-auth-listener"

// run LISTENs, then moves the generation on every notification until the
// listener is closed. Whether the connection is up is left to the events:
// one may be lost right after Listen returned.
func (w *AuthWatch) run(l *pq.Listener) {
	defer close(w.done)
	if err := l.Listen(AuthChannel); err == nil {
		w.mu.Lock()
		w.listening = true
		w.update()
		w.mu.Unlock()
	}
	for n := range l.Notify {
		// nil: reconnected, handled by event. This instance's own writes
		// moved the generation when they committed; their notifications
		// move it once more, harmlessly — and catch what conn.go cannot
		// see (a SELECT of a function that writes).
		if n != nil {
			w.notified(n.Extra)
		}
	}
}

// notified acts on a notification: its payload names the tenant whose
// rows changed; an empty one (a global table, a row whose tenant could not
// be found, the triggers of an older version) means every tenant.
func (w *AuthWatch) notified(payload string) {
	t, err := uuid.Parse(payload)
	w.changed(t, err == nil)
}

// event follows the listener's connection. lib/pq has re-run LISTEN before
// it reports a reconnection.
func (w *AuthWatch) event(ev pq.ListenerEventType) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev {
	case pq.ListenerEventConnected, pq.ListenerEventReconnected:
		w.connected = true
	case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
		w.connected = false
	}
	w.update()
}

// update makes the watch live when the listener listens on a connection
// that is up; going live moves the generation first, so nothing read
// before (while changes could be missed) is trusted.
func (w *AuthWatch) update() {
	want := w.listening && w.connected
	if want && !w.live.Load() {
		w.Changed()
		select {
		case <-w.up:
		default:
			close(w.up)
		}
	}
	w.live.Store(want)
}

// stop ends the listener (DB.Close).
func (w *AuthWatch) stop() {
	w.mu.Lock()
	l := w.listener
	w.mu.Unlock()
	if l == nil {
		return
	}
	_ = l.Close()
	<-w.done
	w.live.Store(false)
}

// writesAuth reports whether statement q may change a table of AuthTables:
// its first word is not SELECT, and it names one of them and holds a
// keyword that writes (INSERT, UPDATE, DELETE, …), compared by identifier,
// case-insensitively — unless it is an UPDATE that plainly sets only
// columns viewers are not read from (unwatchedUpdate: a rename). Reads of those tables (the viewer's own statement, a
// SELECT … FOR UPDATE, a replace() in a filter) do not move the
// generation; a write that merely mentions one (a subquery) does,
// harmlessly. A SELECT that changes a table through a function it calls
// would not be seen here; nothing in the gateway writes so, and the
// triggers' notification would still reach every instance, this one too.
//
// Comments are not read: River's job bookkeeping (the UPDATE of river_job
// that completes jobs) says "pgx users" in one, which made every job end
// every cached viewer on PostgreSQL. Everything else is — the inside of
// strings and of dollar-quoted bodies too (a function's body, an
// EXECUTE'd string may write) —, so the scanner only has to know where a
// comment starts; knowing the quotes keeps a "--" inside a string from
// hiding the rest of its line.
func writesAuth(q string) bool {
	writes, _ := classifyAuth(q)
	return writes
}

// classifyAuth is writesAuth, and whether the statement names a table of
// no tenant (GlobalAuthTables): its write, if it is one, may change every
// tenant's viewers whoever made it.
func classifyAuth(q string) (writes, global bool) {
	first, table := true, false
	for w := range sqlWords(q) {
		if first {
			if strings.EqualFold(w, "SELECT") {
				return false, false
			}
			first = false
		}
		switch {
		case writeKeyword(w):
			writes = true
		case authTable(w):
			table = true
			global = global || globalAuthTable(w)
		}
	}
	if !writes || !table || unwatchedUpdate(q) {
		return false, false
	}
	return true, global
}

// unwatchedUpdate reports whether q is one UPDATE of one table of
// AuthTables that sets only columns viewers are not read from
// (AuthColumns), each to a parameter or NULL — what ent's updates of a
// name, a phone, the audit columns look like: it cannot change a viewer.
// Whatever it cannot read so (an expression, a comment, a string, another
// statement, a write keyword after the assignments) is a write.
func unwatchedUpdate(q string) bool {
	i := 0
	// next returns the next token: a word, a quoted identifier (unquoted),
	// a parameter ($N or ?), or one punctuation byte; "" at the end.
	next := func() (tok string, quoted bool) {
		for i < len(q) && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r') {
			i++
		}
		if i == len(q) {
			return "", false
		}
		start := i
		switch c := q[i]; {
		case c == '"' || c == '`':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				i = len(q)
				return "\x00", false // unterminated: unreadable
			}
			i += end + 2
			return q[start+1 : i-1], true
		case c == '$':
			i++
			for i < len(q) && q[i] >= '0' && q[i] <= '9' {
				i++
			}
			return q[start:i], false
		case identByte(c):
			for i < len(q) && identByte(q[i]) {
				i++
			}
			return q[start:i], false
		default:
			i++
			return q[start:i], false
		}
	}
	if w, _ := next(); !strings.EqualFold(w, "UPDATE") {
		return false
	}
	table, _ := next()
	watched := AuthColumns(table)
	if watched == nil {
		return false
	}
	if w, _ := next(); !strings.EqualFold(w, "SET") {
		return false
	}
	for {
		col, quoted := next()
		// Compared without case: PostgreSQL folds unquoted names, SQLite
		// ignores the case of quoted ones too.
		if col == "" || !quoted && !identByte(col[0]) || slices.ContainsFunc(watched, func(c string) bool { return strings.EqualFold(c, col) }) {
			return false
		}
		if eq, _ := next(); eq != "=" {
			return false
		}
		v, _ := next()
		if !(v == "?" || len(v) > 1 && v[0] == '$' || strings.EqualFold(v, "NULL")) {
			return false
		}
		sep, quoted := next()
		if sep == "," {
			continue
		}
		// The assignments end here: what follows only picks rows or
		// returns them, unless it holds another statement or a write.
		if sep != "" && (quoted || !strings.EqualFold(sep, "WHERE") && !strings.EqualFold(sep, "RETURNING")) {
			return false
		}
		rest := q[i:]
		if strings.ContainsRune(rest, ';') {
			return false
		}
		for w := range sqlWords(rest) {
			if writeKeyword(w) {
				return false
			}
		}
		return true
	}
}

// sqlWords yields the words of SQL text q (runs of letters, digits and
// underscores) outside its comments (-- to the end of the line, nested
// /* … */), as PostgreSQL and SQLite lex them: no comment starts inside a
// string ('…', E'…' with backslash escapes, $tag$…$tag$) or a quoted
// identifier ("…", `…`), whose words are yielded like any other.
func sqlWords(q string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for i := 0; i < len(q); {
			c := q[i]
			switch {
			case identByte(c):
				j := i
				for j < len(q) && identByte(q[j]) {
					j++
				}
				if j-i == 1 && (c == 'E' || c == 'e') && j < len(q) && q[j] == '\'' {
					i = quoted(q, j, true, yield) // E'…'
					continue
				}
				if !yield(q[i:j]) {
					return
				}
				i = j
			case c == '\'' || c == '"' || c == '`':
				i = quoted(q, i, false, yield)
			case c == '$' && (i == 0 || !identByte(q[i-1])):
				// $tag$ opens a dollar-quoted string; $1 is a parameter.
				j := i + 1
				for j < len(q) && identByte(q[j]) {
					j++
				}
				if j == len(q) || q[j] != '$' || j > i+1 && q[i+1] >= '0' && q[i+1] <= '9' {
					i++
					continue
				}
				tag, body := q[i:j+1], q[j+1:]
				end := strings.Index(body, tag)
				if end < 0 {
					end = len(body)
				}
				if !plainWords(body[:end], yield) {
					return
				}
				i = j + 1 + min(end+len(tag), len(body))
			case c == '-' && i+1 < len(q) && q[i+1] == '-':
				if k := strings.IndexByte(q[i:], '\n'); k >= 0 {
					i += k + 1
				} else {
					i = len(q)
				}
			case c == '/' && i+1 < len(q) && q[i+1] == '*':
				for depth := 0; i < len(q); {
					switch {
					case strings.HasPrefix(q[i:], "/*"):
						depth++
						i += 2
					case strings.HasPrefix(q[i:], "*/"):
						depth--
						i += 2
					default:
						i++
					}
					if depth == 0 {
						break
					}
				}
			default:
				i++
			}
		}
	}
}

// quoted yields the words of the string or quoted identifier that opens
// at q[i] and returns the index after it: a doubled quote is one quote,
// and with backslash a backslash escapes the next byte.
func quoted(q string, i int, backslash bool, yield func(string) bool) int {
	quote, j := q[i], i+1
	for j < len(q) {
		if backslash && q[j] == '\\' {
			j += 2
			continue
		}
		if q[j] == quote {
			if j+1 < len(q) && q[j+1] == quote {
				j += 2
				continue
			}
			break
		}
		j++
	}
	j = min(j, len(q))
	if !plainWords(q[i+1:j], yield) {
		return len(q)
	}
	return min(j+1, len(q))
}

// plainWords yields every word of s, comment or not (the inside of a
// string); false when yield asked to stop.
func plainWords(s string, yield func(string) bool) bool {
	for i := 0; i < len(s); {
		if !identByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && identByte(s[j]) {
			j++
		}
		if !yield(s[i:j]) {
			return false
		}
		i = j
	}
	return true
}

func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var writeKeywords = []string{"INSERT", "UPDATE", "DELETE", "TRUNCATE", "MERGE", "REPLACE", "COPY", "DROP", "ALTER", "CREATE"}

func writeKeyword(w string) bool {
	for _, k := range writeKeywords {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
}

// GlobalAuthTables are the tables of AuthTables that belong to no tenant:
// a change to them may change every tenant's viewers.
var GlobalAuthTables = []string{"permissions"}

func globalAuthTable(w string) bool {
	for _, t := range GlobalAuthTables {
		if strings.EqualFold(w, t) {
			return true
		}
	}
	return false
}

func authTable(w string) bool {
	for _, t := range AuthTables {
		if strings.EqualFold(w, t) {
			return true
		}
	}
	return false
}
