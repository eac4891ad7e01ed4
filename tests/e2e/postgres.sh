#!/usr/bin/env bash
# postgres.sh -- PostgreSQL 15 under the preload, as TAP: initdb, then the
# server with shared_memory_type=sysv and dynamic_shared_memory_type=sysv
# (its main segment and the segments of parallel queries are System V
# segments of the manager), then again with posix (its dynamic segments
# are /dev/shm objects of the manager; an interlock segment stays System
# V); each time a query with forced parallel workers and a short pgbench;
# with System V, a backend killed (crash restart) and the postmaster
# killed (a new server over its segments); and after each stop, nothing left -- neither in the manager nor in the
# kernel, whose own ipcs -m and /dev/shm must never see any of it.
#
# The server refuses to run as root: it runs as the postgres user, with a
# manager of his own on a socket in a directory he owns in the sandbox,
# and listens on a Unix socket there only.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL; PG_BINDIR (default
# /usr/lib/postgresql/15/bin).

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}"
bin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
for p in initdb pg_ctl postgres psql pgbench; do
	if [ ! -x "$bin/$p" ]; then
		echo "1..0 # SKIP no $bin/$p (Debian: apt-get install postgresql-15)"
		exit 0
	fi
done
# make check-asan would have to preload the ASan runtime into the server,
# and PostgreSQL 15 hangs with it alone (in bindtextdomain, before it has
# made a single call of ours)
if [ -n "${SHX_PRELOAD_FIRST:-}" ]; then
	echo "1..0 # SKIP PostgreSQL hangs with the ASan runtime preloaded"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! id postgres >/dev/null 2>&1 || ! command -v runuser >/dev/null; then
	echo "1..0 # SKIP needs root, runuser and a postgres user to run the server as"
	exit 0
fi

. "$top_srcdir/tests/e2e/tap.sh"
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
TAP_TIMEOUT=60

# the postgres user's corner of the sandbox
chmod 711 "$SHX_TMP"
pg="$SHX_TMP/pg"
mkdir -p "$pg/run" "$pg/shmemx"
chown -R postgres: "$pg"
chmod 700 "$pg/shmemx"
msock="$pg/shmemx/sock"
data="$pg/data"
pg_uid=$(id -u postgres)

# AS_PG CMD...: CMD as postgres under the preload, with his manager
AS_PG() {
	t runuser -u postgres -- env SHMEMX_SOCKET="$msock" SHMEMX_SHMEMD="$SHMEMX_SHMEMD" \
		SHMEMX_CONFIG=/dev/null PGHOST="$pg/run" \
		LD_PRELOAD="${SHX_PRELOAD_FIRST:+$SHX_PRELOAD_FIRST:}$SHMEMX_LIB" "$@"
}
CTL() { t runuser -u postgres -- "$SHMEMX_SHMEMCTL" --socket "$msock" "$@"; }

pg_cleanup() {
	local st=$?
	if [ -f "$data/postmaster.pid" ]; then
		runuser -u postgres -- env LD_PRELOAD= "$bin/pg_ctl" -D "$data" -m immediate -w stop \
			>/dev/null 2>&1
	fi
	if [ -f "$pg/shmemx/pid" ]; then
		kill "$(cat "$pg/shmemx/pid")" 2>/dev/null
	fi
	(exit $st)
	shx_cleanup
}
trap pg_cleanup EXIT

# What the kernel has of the postgres user, before and after: System V
# segments (by creator uid) and /dev/shm objects.
kernel_state() {
	awk -v u="$pg_uid" 'NR > 1 && ($8 == u || $10 == u) { print "shm key", $1 }' /proc/sysvipc/shm
	find /dev/shm -maxdepth 1 -user postgres -printf 'file %f\n' 2>/dev/null
}
kernel_before=$(kernel_state | sort)

# his manager, that this script stops
runuser -u postgres -- env SHMEMX_SOCKET="$msock" SHMEMX_CONFIG=/dev/null \
	"$SHMEMX_SHMEMD" --foreground --pidfile "$pg/shmemx/pid" >"$pg/shmemx/log" 2>&1 &
for _ in $(seq 200); do [ -S "$msock" ] && [ -s "$pg/shmemx/pid" ] && break; sleep 0.05; done
[ -S "$msock" ]
ok $? "a manager of the postgres user's own" || bail_out "$(cat "$pg/shmemx/log")"

check "initdb under the preload" AS_PG "$bin/initdb" -D "$data" -A trust -U postgres --no-sync
[ -f "$data/PG_VERSION" ] || bail_out "initdb failed"

# start TYPE DSM: the server with shared_memory_type=TYPE, dynamic_shared_memory_type=DSM
start() {
	AS_PG "$bin/pg_ctl" -D "$data" -l "$pg/server-$2.log" -w -t 60 \
		-o "-c listen_addresses='' -k $pg/run -c shared_memory_type=$1 \
-c dynamic_shared_memory_type=$2 -c fsync=off -c max_worker_processes=8 \
-c max_parallel_workers=4 -c max_parallel_workers_per_gather=2" start
}
stop() {
	AS_PG "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop
}
sql() {
	AS_PG "$bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d postgres -c "$1" 2>&1
}
# a query that must run in parallel workers, and its answer
parallel() {
	sql "set force_parallel_mode = on; set parallel_setup_cost = 0; set parallel_tuple_cost = 0;
set min_parallel_table_scan_size = 0; set max_parallel_workers_per_gather = 2;
explain (analyze, costs off, timing off, summary off) select m, count(*) from t group by m;"
}
bench() {
	AS_PG "$bin/pgbench" -n -c 4 -j 2 -t 100 postgres 2>&1
}
segments() { CTL ipcs | awk 'NR > 3 && NF'; }
objects() { CTL --json stats | sed -n 's/.*"objects": \([0-9]*\).*/\1/p'; }

# --- System V for everything -----------------------------------------------------------
check "the server starts with shared_memory_type=sysv, dynamic_shared_memory_type=sysv" start sysv sysv
# (what follows would only wait for a server that is not there)
[ -f "$data/postmaster.pid" ] || bail_out "the server did not start: $(tail -n 5 "$pg/server-sysv.log")"
check_match "its segments are the manager's (shmemctl ipcs)" "$(segments)" ' postgres +600 +[0-9]{6,}'
# the postmaster and its children, each with the segment mapped once
procs() {
	local pm n=1 p
	pm=$(head -n 1 "$data/postmaster.pid")
	for p in /proc/[0-9]*/stat; do
		awk -v pm="$pm" '{ sub(/^.*\) /, ""); exit !($2 == pm) }' "$p" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}
check_eq "the main segment's shm_nattch is the number of server processes" \
	"$(segments | sort -k5 -n | tail -n 1 | awk '{ print $6 }')" "$(procs)"
check_eq "the kernel has none of them" "$(kernel_state | sort)" "$kernel_before"
check_eq "a table" "$(sql 'create table t as select g as i, g % 97 as m from generate_series(1, 200000) g; analyze t; select count(*) from t')" 200000
out=$(parallel)
check_match "a query with forced parallel workers: they are launched" "$out" 'Workers Launched: 2'
check_eq "and its answer" "$(sql 'set force_parallel_mode = on; select sum(m) from t')" \
	"$(sql 'set max_parallel_workers_per_gather = 0; select sum(m) from t')"
check "pgbench -i" AS_PG "$bin/pgbench" -i -s 1 -q postgres
out=$(bench)
check_match "pgbench: 4 clients, 100 transactions each, none failed" "$out" \
	$'number of transactions actually processed: 400/400\n.*number of failed transactions: 0 '
check_eq "while it ran, the kernel had none of it" "$(kernel_state | sort)" "$kernel_before"

# --- crashes: a backend killed, then the postmaster ---------------------------------------
# The restart after a crash removes the main segment (shmdt, IPC_RMID) and
# makes it again under the same key; a new postmaster over a dead one's
# segments takes them for its own only when nobody is attached
# (PGSharedMemoryAttach: shm_nattch == 0), removes them, and goes on.
shmid_of_main() { segments | sort -k5 -n | tail -n 1 | awk '{ print $2 }'; }
# until_eq CMD WANT: CMD's output once it is WANT, or at the end of 30 s
until_eq() {
	local got i
	for i in $(seq 150); do
		got=$($1)
		[ "$got" = "$2" ] && break
		sleep 0.2
	done
	echo "$got"
}
count_t() { sql 'select count(*) from t'; }
nattch_is_procs() {
	local n
	n=$(segments | sort -k5 -n | tail -n 1 | awk '{ print $6 }')
	[ "$n" = "$(procs)" ] && echo yes || echo "shm_nattch $n, $(procs) processes"
}
nseg=$(segments | wc -l)
main_before=$(shmid_of_main)
AS_PG "$bin/psql" -X -q -d postgres -c 'select pg_sleep(60)' >/dev/null 2>&1 &
sleeper=$!
victim=""
for _ in $(seq 100); do
	victim=$(sql "select pid from pg_stat_activity where query = 'select pg_sleep(60)'")
	[ -n "$victim" ] && break
	sleep 0.1
done
[ -n "$victim" ] && kill -9 "$victim"
ok $? "a backend killed (SIGKILL)"
wait "$sleeper" 2>/dev/null
check_eq "the server restarts after the crash, and the table is whole" "$(until_eq count_t 200000)" 200000
main_after=$(shmid_of_main)
[ -n "$main_after" ] && [ "$main_after" != "$main_before" ]
ok $? "its main segment was made anew (shmid $main_before, then $main_after)"
check_eq "as many segments as before the crash" "$(segments | wc -l)" "$nseg"
check_eq "the new main segment's shm_nattch is the number of server processes" \
	"$(until_eq nattch_is_procs yes)" yes
check_eq "the kernel has none of them" "$(kernel_state | sort)" "$kernel_before"

pm=$(head -n 1 "$data/postmaster.pid")
server=$(
	echo "$pm"
	for p in /proc/[0-9]*/stat; do
		awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == pm) print pid }' "$p" 2>/dev/null
	done
)
kill -9 "$pm"
ok $? "the postmaster killed (SIGKILL)"
alive() {
	local p n=0
	for p in $server; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
	echo "$n"
}
check_eq "its $(($(echo "$server" | wc -l) - 1)) children see it and exit" "$(until_eq alive 0)" 0
check_eq "its segments stay, attached by nobody" "$(segments | awk '{ print $6 }' | sort -u)" 0
check "a new server starts over the dead one's segments" start sysv sysv
[ -f "$data/postmaster.pid" ] || bail_out "the server did not start: $(tail -n 5 "$pg/server-sysv.log")"
check_eq "it removed them: as many segments as one server has" "$(segments | wc -l)" "$nseg"
check_eq "and the table is whole" "$(until_eq count_t 200000)" 200000
check_eq "the kernel has none of them" "$(kernel_state | sort)" "$kernel_before"

check "the server stops" stop
check_empty "no segment is left (shmemctl ipcs)" "$(segments)"
check_eq "no object is left" "$(objects)" 0

# --- posix dynamic shared memory, mmap for the main area ----------------------------------
check "the server starts again with shared_memory_type=mmap, dynamic_shared_memory_type=posix" \
	start mmap posix
[ -f "$data/postmaster.pid" ] || bail_out "the server did not start: $(tail -n 5 "$pg/server-posix.log")"
check_match "its dynamic segments are objects of the manager in /dev/shm" \
	"$(CTL ls | awk 'NR > 1 { print $NF }')" '/dev/shm/PostgreSQL\.[0-9]+'
check_eq "its System V interlock segment is the manager's too" "$(segments | wc -l)" 1
check_eq "the kernel has none of them" "$(kernel_state | sort)" "$kernel_before"
out=$(parallel)
check_match "a query with forced parallel workers: they are launched" "$out" 'Workers Launched: 2'
out=$(bench)
check_match "pgbench: none failed" "$out" \
	$'number of transactions actually processed: 400/400\n.*number of failed transactions: 0 '
check_eq "while it ran, the kernel had none of it" "$(kernel_state | sort)" "$kernel_before"
check "the server stops" stop
check_empty "no segment is left" "$(segments)"
check_empty "no object is left in /dev/shm (shmemctl ls)" "$(CTL ls | tail -n +2)"
check_eq "no object at all" "$(objects)" 0
check_eq "and the kernel never had any" "$(kernel_state | sort)" "$kernel_before"

tap_done
