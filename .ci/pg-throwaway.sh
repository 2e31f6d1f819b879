#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests: .ci/pg-throwaway.sh start|stop|url
#
#   start  create + start a cluster, print its URL (reuses the live cluster
#          recorded in the state file instead of starting a second one)
#   stop   stop the cluster and delete it (no-op when nothing is running)
#   url    print the URL of the running cluster
#   bindir print the PostgreSQL bin directory (fails when none is installed)
#
# Env: CONECRM_PG_STATE  state file (default /tmp/conecrm-pg.state). Give each
#                        concurrent user (CI run, make test) its own file so
#                        one user's `stop` never kills another's cluster.
#      PG_BIN            PostgreSQL bin dir (default: newest /usr/lib/postgresql/*/bin)
set -euo pipefail

STATE=${CONECRM_PG_STATE:-/tmp/conecrm-pg.state}
DB=conecrm_test ROLE=conecrm PASS=conecrm

die() { echo "pg-throwaway: $*" >&2; exit 1; }

find_bin() {
	if [[ -n ${PG_BIN:-} ]]; then [[ -x $PG_BIN/initdb ]] && { echo "$PG_BIN"; return; }; return 1; fi
	local d
	# Debian keeps server binaries out of PATH, one dir per major version.
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[[ -n $d && -x $d/initdb ]] && { echo "$d"; return; }
	command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
	return 1
}

# initdb/pg_ctl refuse to run as root, so as root run them as `postgres`.
as_pg() {
	if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Is the cluster recorded in the state file alive? Loads DIR/PORT/URL/BIN.
alive() {
	DIR='' PORT='' URL='' BIN=''
	[[ -s $STATE ]] || return 1
	# shellcheck disable=SC1090
	source "$STATE"
	local pid
	pid=$(head -n1 "$DIR/data/postmaster.pid" 2>/dev/null) || return 1
	pm_running "$pid"
}

# Run "$@" with every inherited fd above 2 closed. The postmaster outlives us
# and would otherwise keep our flock (fd 9) and any caller pipes open, which
# deadlocks the next start/stop and keeps `$(...)`/CI log pipes from closing.
detached() (
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		((fd > 2 && fd != 255)) && eval "exec $fd>&-" # 255: bash's own, close-on-exec
	done
	"$@"
)

# Is $1 a live (not zombie) postgres process? The cmdline check guards
# against signalling a recycled pid.
pm_running() {
	[[ -n $1 && -r /proc/$1/stat ]] || return 1
	[[ $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) != Z ]] &&
		tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q postgres
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
	if alive; then echo "$URL"; return; fi
	[[ -n ${DIR:-} ]] && stop >/dev/null # stale state from a crashed run
	BIN=$(find_bin) || die "PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin and PATH): apt-get install -y postgresql"
	if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql --shell /bin/sh postgres
	fi

	# /tmp, not $TMPDIR: the postgres user must be able to reach the directory.
	DIR=$(mktemp -d /tmp/conecrm-pg-XXXXXX)
	# Record the dir immediately so `stop` cleans up even if start fails below.
	printf 'DIR=%q\nPORT=\nURL=\nBIN=%q\n' "$DIR" "$BIN" >"$STATE"
	[[ $EUID -eq 0 ]] && chown postgres: "$DIR"
	echo "$PASS" >"$DIR/pw"
	[[ $EUID -eq 0 ]] && chown postgres: "$DIR/pw"

	# C locale: deterministic collation independent of the host; --no-sync:
	# data is thrown away anyway. Bootstrap superuser is the test role itself.
	as_pg "$BIN/initdb" -D "$DIR/data" -U "$ROLE" --pwfile="$DIR/pw" -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 --no-sync >"$DIR/initdb.log" 2>&1 ||
		{ cat "$DIR/initdb.log" >&2; die "initdb failed"; }
	cat >>"$DIR/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$DIR'
		max_connections = 200
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		timezone = 'UTC'
	EOF

	# Random port below the Linux ephemeral range; if another run grabs it
	# between the check and the bind, pg_ctl fails and we try another one.
	local try
	for try in 1 2 3 4 5 6 7 8; do
		PORT=$((20000 + RANDOM % 12000))
		port_in_use "$PORT" && continue
		if detached as_pg "$BIN/pg_ctl" start -w -t 60 -D "$DIR/data" -l "$DIR/postgres.log" -o "-p $PORT" >/dev/null; then
			break
		fi
		PORT=''
	done
	[[ -n $PORT ]] || { tail -n 20 "$DIR/postgres.log" >&2; die "could not start postgres (log: $DIR/postgres.log)"; }

	for try in $(seq 50); do
		"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
		sleep 0.2
	done
	"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "postgres on port $PORT not ready"
	as_pg "$BIN/createdb" -h "$DIR" -p "$PORT" -U "$ROLE" "$DB"

	URL="postgres://$ROLE:$PASS@127.0.0.1:$PORT/$DB?sslmode=disable"
	printf 'DIR=%q\nPORT=%q\nURL=%q\nBIN=%q\n' "$DIR" "$PORT" "$URL" "$BIN" >"$STATE"
	echo "$URL"
}

stop() {
	if ! alive && [[ -z ${DIR:-} ]]; then echo "pg-throwaway: nothing to stop"; return; fi
	local pid
	pid=$(head -n1 "$DIR/data/postmaster.pid" 2>/dev/null || true)
	# Immediate mode: no checkpoint, the data is deleted right after.
	[[ -n $pid ]] && as_pg "$BIN/pg_ctl" stop -D "$DIR/data" -m immediate -w -t 30 >/dev/null 2>&1 || true
	# pg_ctl returns once postmaster.pid is gone, slightly before the process
	# exits; wait for it, and SIGKILL it if the shutdown hangs.
	local i
	for i in $(seq 50); do
		pm_running "$pid" || break
		((i == 25)) && { kill -9 "$pid" 2>/dev/null || true; }
		sleep 0.2
	done
	pm_running "$pid" && die "postmaster $pid did not exit"
	# Never rm anything that does not look like one of our dirs.
	[[ $DIR == /tmp/conecrm-pg-* ]] && rm -rf "$DIR"
	: >"$STATE" # truncate, not rm: the file doubles as the flock target
	echo "pg-throwaway: stopped ${DIR}"
}

cmd=${1:-}
case $cmd in
bindir) find_bin || die "PostgreSQL binaries not found" ;;
url) alive || die "no running cluster (state file $STATE)"; echo "$URL" ;;
start | stop)
	# Serialize start/stop on the same state file so they cannot race.
	exec 9>>"$STATE"
	# Timeout: a lock leaked by an older version of this script must not hang CI.
	flock -w 30 9 || echo "pg-throwaway: $STATE still locked after 30s, continuing" >&2
	"$cmd"
	;;
*) die "usage: $0 start|stop|url|bindir" ;;
esac
