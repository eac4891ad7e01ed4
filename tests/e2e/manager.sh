#!/bin/bash
# tests/e2e/manager.sh -- the life of shmemd, as TAP for automake's
# tap-driver: started on demand by the first managed call, one manager per
# socket however many clients race to start it, a second --foreground one
# refused, the idle exit (and when it must not happen), the permissions of
# the socket, other users refused by SO_PEERCRED, SIGTERM.
#
# No shx_sandbox here: each part has a socket of its own in a private
# directory under the build tree, and its manager is the one the library
# starts.  Managers are found through /proc: shmemd processes holding the
# lock file beside the socket, or started with that socket in their
# environment (pgrep -f would see other tests' managers).  All of them are
# killed when the script exits.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}"
evil="$top_builddir/tests/e2e/shx-evil"
if [ ! -x "$evil" ]; then
	echo "Bail out! $evil is not built"
	exit 99
fi

. "$top_srcdir/tests/e2e/tap.sh"

# --- a private place -------------------------------------------------------------
mkdir -p "$top_builddir/tests/sandbox" || exit 99
D=$(mktemp -d "$top_builddir/tests/sandbox/manager.XXXXXX") || exit 99
D=$(cd "$D" && pwd)
export TMPDIR="$D" SHMEMX_CONFIG=/dev/null SHMEMX_SHMEMD
unset SHMEMX_SOCKET SHMEMX_IDLE_TIMEOUT SHMEMX_SIZE SHMEMX_NR_INODES SHMEMX_MOUNTS LD_PRELOAD

# The manager may run as "exe": it re-executes /proc/self/exe to drop the
# preload it inherits from the client that started it.  It is known by
# its executable.
shmemd_exe=$(readlink -f "$SHMEMX_SHMEMD")
shmemd_pids() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		if [ "$exe" = "$shmemd_exe" ] || [ "$exe" = "$shmemd_exe (deleted)" ]; then
			echo "${p#/proc/}"
		fi
	done
}

# holds_lock PID SOCK: PID has the lock file beside SOCK open
holds_lock() {
	local fd
	for fd in "/proc/$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "${2%/*}/lock" ] && return 0
	done
	return 1
}

# managers_of SOCK: the shmemd processes of SOCK: those holding its lock
# file or started with SOCK in their environment
managers_of() {
	local p
	for p in $(shmemd_pids); do
		if holds_lock "$p" "$1" ||
			{ tr '\0' '\n' 2>/dev/null <"/proc/$p/environ"; } | grep -qxF "SHMEMX_SOCKET=$1"; then
			echo "$p"
		fi
	done
}

# lock_holders SOCK: the shmemd processes holding SOCK's lock file
lock_holders() {
	local p
	for p in $(shmemd_pids); do
		if holds_lock "$p" "$1"; then
			echo "$p"
		fi
	done
}

count() {
	"$@" | grep -c .
}

# wait_for TENTHS CMD...: until CMD succeeds, at most TENTHS tenths of a second
wait_for() {
	local n=$1
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# ours: the managers of any socket under $D (new_socket runs in $(...),
# so a list of them kept there would be lost)
ours() {
	local p
	for p in $(shmemd_pids); do
		if { tr '\0' '\n' 2>/dev/null <"/proc/$p/environ"; } | grep -q "^SHMEMX_SOCKET=$D/"; then
			echo "$p"
		fi
	done
}

cleanup() {
	local status=$? p
	for p in $(ours); do
		kill "$p" 2>/dev/null
	done
	wait_for 30 test -z "$(ours)"
	for p in $(ours); do
		kill -KILL "$p" 2>/dev/null
	done
	if [ $status -eq 0 ] && [ $TAP_FAILED -eq 0 ] && [ -z "${SHX_KEEP:-}" ]; then
		rm -rf "$D"
	else
		echo "kept $D" >&2
	fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# new_socket NAME: a socket path in a directory that does not exist yet
new_socket() {
	mkdir "$D/$1" || exit 99
	echo "$D/$1/run/sock"
}

# P SOCK CMD...: CMD under the preload, its manager at SOCK
P() {
	local sock=$1
	shift
	timeout 30 env SHMEMX_SOCKET="$sock" LD_PRELOAD="$SHMEMX_LIB" "$@"
}

# stat_of SOCK KEY: one figure from SOCK's manager (never starts one)
stat_of() {
	timeout 10 "$evil" stats "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# --- 1. started by the first call, answering the next ------------------------------
export SHMEMX_IDLE_TIMEOUT=60
a=$(new_socket a)
if [ -e "$a" ] || [ -n "$(managers_of "$a")" ]; then
	echo "Bail out! a manager runs on the fresh socket $a"
	exit 99
fi
P "$a" "$evil" put /dev/shm/first "first call" 2>&1 | diag
st=${PIPESTATUS[0]}
[ "$st" -eq 0 ] && [ -S "$a" ]
ok $? "with no manager running, the first managed call succeeds and a manager listens"
holders=$(lock_holders "$a")
pid_a=$(stat_of "$a" pid)
[ "$(echo "$holders" | grep -c .)" -eq 1 ] && [ "$holders" = "$pid_a" ]
ok $? "one shmemd holds the lock and answers (lock: ${holders//$'\n'/ }; answering: ${pid_a:-none})"

mode_dir=$(stat -c %a "${a%/*}")
mode_sock=$(stat -c %a "$a")
[ "$mode_dir" = 700 ] && [ "$mode_sock" = 600 ]
ok $? "the socket directory it made is 0700 ($mode_dir), the socket 0600 ($mode_sock)"

got=$(P "$a" "$evil" get /dev/shm/first)
[ "$got" = "first call" ] && [ "$(stat_of "$a" pid)" = "$pid_a" ] &&
	[ "$(count managers_of "$a")" -eq 1 ]
ok $? "a later call is answered by the same manager (got '$got')"

timeout 10 env SHMEMX_SOCKET="$a" "$SHMEMX_SHMEMD" --foreground >"$D/fg.out" 2>"$D/fg.err"
st=$?
[ $st -ne 0 ] && [ $st -ne 124 ] && grep -q . "$D/fg.err"
ok $? "shmemd --foreground while one runs exits non-zero ($st) with a message"
diag <"$D/fg.err"
[ -S "$a" ] && [ "$(stat_of "$a" pid)" = "$pid_a" ]
ok $? "the running manager keeps its socket and goes on answering"

timeout 10 env SHMEMX_SOCKET="$a" "$SHMEMX_SHMEMD" --daemon >"$D/dm.out" 2>&1
st=$?
sleep 0.2
[ $st -eq 0 ] && [ "$(count managers_of "$a")" -eq 1 ] && [ "$(stat_of "$a" pid)" = "$pid_a" ]
ok $? "shmemd --daemon while one runs returns 0 ($st) and starts nothing"

# --- 2. another uid ---------------------------------------------------------------------
# For this test only, the directories on the way and the socket are opened
# to everyone: nothing but the manager's SO_PEERCRED check stands between
# uid 65534 and it.
uid_tests=("uid 65534 is refused" "the refusal is logged" "EIO for uid 65534"
	"our own uid served" "the manager unharmed")
nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && nobody true 2>/dev/null; then
	chmod 0711 "$D" "$D/a" "${a%/*}" && chmod 0666 "$a"
	# the build tree itself must be reachable (not under a 0700 home)
	if nobody test -x "${a%/*}" && nobody test -x "$evil" && nobody test -r "$SHMEMX_LIB"; then
		out=$(nobody timeout 10 "$evil" hello "$a" 2>&1)
		st=$?
		echo "$out" | diag
		[ $st -eq 1 ] && [[ $out == *"connect: ok"* ]]
		ok $? "uid 65534 can connect to the open socket but the manager hangs up on its HELLO"
		grep -q 'refusing a client of uid 65534' "${a%/*}/shmemd.log"
		ok $? "the manager logged the refusal"
		out=$(nobody timeout 10 env SHMEMX_SOCKET="$a" SHMEMX_SHMEMD=/nonexistent \
			LD_PRELOAD="$SHMEMX_LIB" "$evil" shm intruder 2>&1)
		echo "$out" | diag
		[[ $out == *"shm_open intruder: EIO"* ]]
		ok $? "under the preload, uid 65534's shm_open fails with EIO"
		timeout 10 "$evil" hello "$a" >"$D/hello.out" 2>&1
		ok $? "through the same open socket and directories, our own uid is served"
		! timeout 10 "$evil" obj "$a" /dev/shm/intruder >/dev/null 2>&1 &&
			[ "$(stat_of "$a" pid)" = "$pid_a" ]
		ok $? "nothing was made for the refused client; the manager is unharmed"
	else
		for t in "${uid_tests[@]}"; do
			skip "$t" "uid 65534 cannot reach the build tree"
		done
	fi
	chmod 0700 "$D" "$D/a" "${a%/*}" && chmod 0600 "$a"
else
	for t in "${uid_tests[@]}"; do
		skip "$t" "needs root and setpriv to run a client as uid 65534"
	done
fi

# --- 3. SIGTERM ----------------------------------------------------------------------
kill -TERM "$pid_a"
wait_for 50 test ! -d "/proc/$pid_a"
gone=$?
[ $gone -eq 0 ] && [ ! -e "$a" ] && [ -z "$(lock_holders "$a")" ]
ok $? "SIGTERM: the manager exits and removes its socket"

# --- 4. eight clients racing to start it ------------------------------------------------
b=$(new_socket b)
go="$D/b/go"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	timeout 30 env SHMEMX_SOCKET="$b" LD_PRELOAD="$SHMEMX_LIB" \
		"$evil" put "/dev/shm/race$i" "racer $i" "$go" >"$D/b/racer$i.out" 2>&1 &
	pids+=($!)
done
sleep 0.3
touch "$go"
failed=0
for p in "${pids[@]}"; do
	wait "$p" || failed=$((failed + 1))
done
cat "$D"/b/racer*.out | diag
[ $failed -eq 0 ]
ok $? "8 processes racing to make the first call all succeed ($failed failed)"
one() {
	[ "$(count managers_of "$b")" -eq 1 ]
}
wait_for 30 one
ok $? "exactly one shmemd runs for that socket (found: $(managers_of "$b" | tr '\n' ' '))"
pid_b=$(stat_of "$b" pid)
[ "$(lock_holders "$b")" = "$pid_b" ]
ok $? "it is the one holding the lock and answering (pid ${pid_b:-none})"
bad=0
for i in 1 2 3 4 5 6 7 8; do
	[ "$(P "$b" "$evil" get "/dev/shm/race$i")" = "racer $i" ] || bad=$((bad + 1))
done
[ $bad -eq 0 ] && [ "$(stat_of "$b" objects)" = 8 ]
ok $? "all 8 objects are in that one manager ($bad missing)"

# --- 5. after a crash ----------------------------------------------------------------------
kill -KILL "$pid_b"
wait_for 50 test ! -d "/proc/$pid_b"
[ -S "$b" ]
ok $? "a manager killed with SIGKILL leaves its socket behind"
P "$b" "$evil" put /dev/shm/after-crash "again" 2>&1 | diag
st=${PIPESTATUS[0]}
pid_b2=$(stat_of "$b" pid)
[ "$st" -eq 0 ] && [ -n "$pid_b2" ] && [ "$pid_b2" != "$pid_b" ] &&
	[ "$(P "$b" "$evil" get /dev/shm/after-crash)" = again ] && [ "$(count managers_of "$b")" -eq 1 ]
ok $? "the next call starts a new manager on the stale socket and is served (pid ${pid_b2:-none})"
kill -TERM "$pid_b2" 2>/dev/null

# --- 6. the socket directory ---------------------------------------------------------------
e=$(new_socket e)
mkdir -m 0755 "${e%/*}"
P "$e" "$evil" put /dev/shm/x "x" 2>&1 | diag
mode=$(stat -c %a "${e%/*}")
[ "$mode" = 700 ] && [ -S "$e" ]
ok $? "an existing socket directory open to others is closed to 0700 by the manager ($mode)"
for p in $(managers_of "$e"); do
	kill "$p"
done
if [ "$(id -u)" -eq 0 ]; then
	f=$(new_socket f)
	mkdir -m 0700 "${f%/*}"
	chown 65534 "${f%/*}"
	timeout 10 env SHMEMX_SOCKET="$f" "$SHMEMX_SHMEMD" --foreground >"$D/f/out" 2>&1
	st=$?
	diag <"$D/f/out"
	[ $st -ne 0 ] && [ $st -ne 124 ] && [ ! -e "$f" ] && [ -z "$(managers_of "$f")" ]
	ok $? "a socket directory that belongs to another user is refused (status $st)"
else
	skip "a socket directory of another user is refused" "needs root to make one"
fi

# --- 7. what the manager inherits ------------------------------------------------------------
# The library starts the manager from inside a client, which may have any
# files open (a pipe someone waits on for EOF, say): a long-lived manager
# must not keep them.
g=$(new_socket g)
P "$g" "$evil" put /dev/shm/x "x" 3>"$D/g/client-file" 2>&1 | diag
pid_g=$(lock_holders "$g")
kept=$(find "/proc/${pid_g:-0}/fd" -lname "$D/g/client-file" 2>/dev/null | wc -l)
[ -n "$pid_g" ] && [ "$kept" -eq 0 ]
ok $? "the manager a client starts keeps none of that client's open files ($kept kept)"
find "/proc/${pid_g:-0}/fd" -mindepth 1 -printf 'manager fd %f -> %l\n' 2>/dev/null | sort -V | diag
for p in $(managers_of "$g"); do
	kill "$p"
done

# --- 8. idle exit ----------------------------------------------------------------------
export SHMEMX_IDLE_TIMEOUT=1
c=$(new_socket c)
P "$c" "$evil" put /dev/shm/keep "kept" 2>&1 | diag
pid_c=$(lock_holders "$c")
[ -n "$pid_c" ] && [ "$(echo "$pid_c" | grep -c .)" -eq 1 ]
ok $? "SHMEMX_IDLE_TIMEOUT=1: a manager started with an object in it (pid ${pid_c:-none})"
sleep 3
[ -n "$pid_c" ] && [ -d "/proc/$pid_c" ] && [ -S "$c" ]
ok $? "3 s later, no client but an object: it is still running"
P "$c" "$evil" rm /dev/shm/keep 2>&1 | diag
start=$(date +%s%N)
wait_for 60 test ! -d "/proc/${pid_c:-0}"
st=$?
took=$((($(date +%s%N) - start) / 1000000))
[ $st -eq 0 ] && [ ! -e "$c" ]
ok $? "once the object is unlinked it exits ($took ms later) and removes its socket"

d=$(new_socket d)
P "$d" "$evil" get /dev/shm/nothing >/dev/null 2>&1
# at once, before the manager idles out: a client that stays 3 s
timeout 10 "$evil" hold "$d" 3 >"$D/d/hold.out" 2>&1 &
holder=$!
pid_d=$(lock_holders "$d")
[ -n "$pid_d" ]
ok $? "a call that makes nothing starts a manager all the same (pid ${pid_d:-none})"
wait $holder
st=$?
diag <"$D/d/hold.out"
[ $st -eq 0 ] && [ "$(cat "$D/d/hold.out")" = "pid=$pid_d" ]
ok $? "it does not exit while a client stays connected, idle, for 3 s"
start=$(date +%s%N)
wait_for 60 test ! -d "/proc/${pid_d:-0}"
st=$?
took=$((($(date +%s%N) - start) / 1000000))
[ $st -eq 0 ] && [ ! -e "$d" ] && [ -z "$(managers_of "$d")" ]
ok $? "with no clients and no objects it exits by itself ($took ms after the last client)"

# A client in a managed working directory whose manager was killed starts
# the next one from there: that manager must not be a client of itself
# (the library's start-up in it would start a manager, which would...).
w=$(new_socket cwd)
SHMEMX_IDLE_TIMEOUT=600 P "$w" bash -c 'mkdir /tmp/od && cd /tmp/od && echo one >f || exit 1
	while [ ! -e "$1" ]; do sleep 0.05; done
	echo two >g; cat g; pwd' sh "$D/cwd/go" >"$D/cwd/out" 2>&1 &
shell=$!
wait_for 100 test -n "$(lock_holders "$w")"
pid_w=$(lock_holders "$w")
kill -KILL $pid_w 2>/dev/null
wait_for 50 test ! -d "/proc/${pid_w:-0}"
touch "$D/cwd/go"
wait $shell
st=$?
sleep 0.5
n=$(count managers_of "$w")
diag <"$D/cwd/out"
[ -n "$pid_w" ] && [ $st -ne 124 ] && [ "$n" -eq 1 ] && ! grep -q "cannot start" "$D/cwd/out"
ok $? "killed under a client in a managed directory, the manager is started again, once ($n running, pid ${pid_w:-none} before, status $st)"
# (started from inside bash's redirection, where SIGTERM is blocked)
pid_w=$(managers_of "$w")
kill -TERM $pid_w 2>/dev/null
wait_for 30 test -z "$(managers_of "$w")"
ok $? "and SIGTERM stops it (pid ${pid_w:-none})"

tap_done
