#!/bin/bash
# tests/e2e/bad-input.sh -- the manager and the library against bad input,
# as TAP for automake's tap-driver.
#
#  1. Calls with bad arguments under the preload, compared with the same
#     calls made natively in a scratch directory (shx-evil probe): NULL
#     paths, 5000-byte paths, invalid open flag combinations, negative and
#     huge sizes, bad fopen modes, bad directory streams.
#  2. Clients killed with SIGKILL in the middle of their work, 20 times:
#     the manager stays up and no client, object, inode or byte leaks.
#  3. Malformed messages straight to the manager's socket (shx-evil abuse:
#     empty and truncated packets, lying lengths, unknown opcodes, bad
#     paths, 65 KiB packets, requests before HELLO, a bad HELLO, a reply
#     sent as a request), 2000 random packets with a fixed seed, and clients
#     that do not read their answers.  After each: the abused connection was
#     closed by the manager, a well-behaved client is still served by the
#     same manager, and in the end an object made at the start still has
#     its contents.
#  4. Requests with fds attached (the manager must not keep them), and more
#     connections at once than a manager has fds (run with ulimit -n 64): it
#     must wait for fds to come free, not spin, and serve again after.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.  Every program runs under timeout(1): a hang fails.

: "${top_srcdir:?}" "${top_builddir:?}"
evil="$top_builddir/tests/e2e/shx-evil"
if [ ! -x "$evil" ]; then
	echo "Bail out! $evil is not built"
	exit 99
fi

. "$top_srcdir/tests/e2e/tap.sh"
# T CMD...: CMD natively, P CMD...: CMD under the preload; both with a
# time limit
T() {
	timeout 30 "$@"
}
P() {
	timeout 30 env LD_PRELOAD="$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}

# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
export TMPDIR="$SHX_TMP"
sock=$SHMEMX_SOCKET

# the second manager (part 4) goes too
nofile_pid=
robust_cleanup() {
	local status=$?
	if [ -n "$nofile_pid" ]; then
		kill "$nofile_pid" 2>/dev/null
		wait "$nofile_pid" 2>/dev/null
	fi
	(exit $status)
	shx_cleanup
}
trap robust_cleanup EXIT

# stat_of KEY: one figure from the manager (shx-evil stats)
stat_of() {
	T "$evil" stats "$sock" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

manager=$(stat_of pid)
if [ -z "$manager" ]; then
	echo "Bail out! the sandbox manager does not answer"
	exit 99
fi

# --- an object that must survive all of it ----------------------------------
canary="canary: made before the abuse, checked after it ($$)"
P "$evil" put /dev/shm/canary "$canary"
ok $? "an object made under the preload before the abuse"

# --- 1. bad arguments, preload against native ----------------------------------
mkdir "$SHX_TMP/native"
# (glibc's own shm_open(NULL) crashes natively: under make check-asan the
# crash must stay a plain SIGSEGV, not an ASan report)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0" \
	T "$evil" probe "$SHX_TMP/native" >"$SHX_TMP/probe.native" 2>&1
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0" \
	P "$evil" probe /dev/shm >"$SHX_TMP/probe.preload" 2>&1
ok $? "the probes ran under the preload"
declare -A native preload
while IFS= read -r line; do
	native["${line%%: *}"]=${line#*: }
done <"$SHX_TMP/probe.native"
while IFS= read -r line; do
	preload["${line%%: *}"]=${line#*: }
done <"$SHX_TMP/probe.preload"
grep -h '^setup' "$SHX_TMP/probe.native" "$SHX_TMP/probe.preload" | diag

while IFS= read -r line; do
	name=${line%%: *}
	[ "$name" = setup ] && continue
	n=${native["$name"]}
	p=${preload["$name"]-missing}
	case $name in
	"shm_open(NULL"*)
		# glibc itself crashes on a NULL name (it reads it); the library
		# checks it: EFAULT (or EINVAL), never a crash.
		case $n in
		"killed by"*) [[ $p == "-1 EFAULT" || $p == "-1 EINVAL" ]] ;;
		*) [ "$p" = "$n" ] ;;
		esac
		ok $? "$name under the preload: $p (natively: $n)"
		;;
	"shm_unlink(NULL)")
		case $n in
		"killed by"*) [[ $p == "-1 "* ]] ;;
		*) [ "$p" = "$n" ] ;;
		esac
		ok $? "$name under the preload: $p, no crash (natively: $n)"
		;;
	"ftruncate(fd, 1<<62)" | "pwrite(fd, 1, 1<<62)")
		# A kernel tmpfs takes a sparse 4 EiB file; ext4 says EFBIG.  The
		# library reserves what a file may grow to, so ENOSPC is its
		# answer; the native error is fine too.  The size is unchanged.
		case $p in
		"-1 ENOSPC"*) how="ENOSPC (the quota)" ;;
		"$n") how="the native error" ;;
		*) how="" ;;
		esac
		[ -n "$how" ]
		ok $? "$name under the preload: $p -- $how (natively here: $n)"
		;;
	*)
		# the same answer; where the native call crashes, an error
		# will do as well
		case $n in
		"killed by"*) [[ $p == "$n" || $p == "-1 "* ]] ;;
		*) [ "$p" = "$n" ] ;;
		esac
		ok $? "$name: $p under the preload, $n natively"
		;;
	esac
done <"$SHX_TMP/probe.native"

# --- 2. clients killed with SIGKILL ------------------------------------------------
# (Before the raw protocol abuse, which may leave objects with odd charges.)
# What exists now is the baseline: the kills may leave the churn's named
# objects (removed below), nothing else.
base_objects=$(stat_of objects)
base_inodes=$(stat_of inodes_used)
base_size=$(stat_of size_used)
RANDOM=4242
early=0
for i in $(seq 1 20); do
	LD_PRELOAD="$SHMEMX_LIB" "$evil" churn /dev/shm >"$SHX_TMP/churn.$i" 2>&1 &
	pid=$!
	sleep "0.$(printf '%03d' $((30 + RANDOM % 220)))"
	if ! kill -0 "$pid" 2>/dev/null; then
		early=$((early + 1))
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	if [ $st -ne 137 ]; then
		echo "churn $i: exit status $st" | diag
		diag <"$SHX_TMP/churn.$i"
		early=$((early + 1))
	fi
done
[ $early -eq 0 ]
ok $? "20 clients killed with SIGKILL in the middle of opens and writes (none failed first)"

left=
for _ in $(seq 1 50); do
	left=$(stat_of clients)
	[ "$left" = 0 ] && break
	sleep 0.1
done
[ "$left" = 0 ] && [ "$(stat_of pid)" = "$manager" ]
ok $? "after the kills: the same manager answers, no clients left (counted: ${left:-none})"

for f in churn-0 churn-1 churn-2 churn-3 churn-shm-0 churn-shm-1; do
	P "$evil" rm "/dev/shm/$f" 2>/dev/null
done
objects=$(stat_of objects)
inodes=$(stat_of inodes_used)
size=$(stat_of size_used)
[ "$objects" = "$base_objects" ] && [ "$inodes" = "$base_inodes" ] && [ "$size" = "$base_size" ]
ok $? "nothing leaked by the killed clients: objects $objects/$base_objects, inodes $inodes/$base_inodes, bytes $size/$base_size"

# --- 3. malformed messages ------------------------------------------------------
for c in $("$evil" cases); do
	T "$evil" abuse "$sock" "$c" >"$SHX_TMP/abuse.out" 2>&1
	st=$?
	ok $st "malformed message '$c': connection closed, the manager still serves others"
	diag <"$SHX_TMP/abuse.out"
done

T "$evil" random "$sock" 20240601 2000 >"$SHX_TMP/random.out" 2>&1
ok $? "2000 random and mangled packets (seed 20240601): the manager still serves others"
diag <"$SHX_TMP/random.out"

T "$evil" noread "$sock" /dev/shm/canary >"$SHX_TMP/noread.out" 2>&1
ok $? "clients that do not read their answers: dropped, holds released, others served"
diag <"$SHX_TMP/noread.out"

grep -c 'malformed request' "$SHX_TMP/shmemd.log" | sed 's/^/the manager logged this many malformed requests: /' | diag

# --- 4. fds passed in, more connections than fds ------------------------------------------
T "$evil" passfd "$sock" >"$SHX_TMP/passfd.out" 2>&1
ok $? "requests carrying fds (SCM_RIGHTS): the manager keeps none of them"
diag <"$SHX_TMP/passfd.out"

# shellcheck disable=SC2016 # for the inner shell
n=$(P bash -c 'read -r _ </dev/shm/canary; grep -c "memfd:shx-chan" /proc/$$/maps
	(grep -c "memfd:shx-chan" /proc/$BASHPID/maps)' 2>/dev/null | tr '\n' ' ')
[ "$n" = "1 0 " ]
ok $? "a preloaded shell's requests go through one channel, which a forked child does not share ($n)"
# shellcheck disable=SC2016
n=$(SHMEMX_CHANNEL=0 P bash -c 'read -r _ </dev/shm/canary; grep -c "memfd:shx-chan" /proc/$$/maps' 2>/dev/null)
[ "$n" = 0 ]
ok $? "SHMEMX_CHANNEL=0: no channel ($n)"

T "$evil" selfopen "$sock" /dev/shm >"$SHX_TMP/selfopen.out" 2>&1
ok $? "self-opens: a regular file through /proc/<manager>/fd, a directory as an fd; REOPEN by its holder only"
diag <"$SHX_TMP/selfopen.out"
# A self-opening process keeps /proc/<manager>/fd open; one with
# SHMEMX_SELFOPEN=0 gets every fd from the manager and has none.
# shellcheck disable=SC2016
selfopen_dirs='echo a >/dev/shm/self-a && echo b >/dev/shm/self-b && cat /dev/shm/self-a /dev/shm/self-b &&
	rm /dev/shm/self-a /dev/shm/self-b && ls -l /proc/$$/fd | grep -c " /proc/[0-9]*/fd$"'
n=$(P sh -c "$selfopen_dirs" 2>&1 | tr '\n' ' ')
m=$(SHMEMX_SELFOPEN=0 P sh -c "$selfopen_dirs" 2>&1 | tr '\n' ' ')
[ "$n" = "a b 1 " ] && [ "$m" = "a b 0 " ]
ok $? "files self-open through a kept /proc/<manager>/fd ($n), and with SHMEMX_SELFOPEN=0 come through the socket ($m)"

# a process that cannot look into the manager's /proc (here an empty
# /proc of its own) gets its fds from the manager instead (REOPEN)
if [ -n "${SHX_PRELOAD_FIRST:-}" ]; then
	skip "no /proc to open the manager's fds through" "the sanitizers' runtime needs /proc"
elif unshare -m true 2>/dev/null; then
	# shellcheck disable=SC2016
	n=$(P unshare -m sh -c 'mount -t tmpfs none /proc || exit 1
		for f in a b c; do echo "$f" >/dev/shm/noproc-$f || exit 1; done
		cat /dev/shm/noproc-a /dev/shm/noproc-b /dev/shm/noproc-c; rm /dev/shm/noproc-?' 2>&1 |
		tr '\n' ' ')
	[ "$n" = "a b c " ]
	ok $? "no /proc to open the manager's fds through: they come from the manager ($n)"
else
	skip "no /proc to open the manager's fds through" "unshare -m is not allowed here"
fi

T "$evil" chan "$sock" >"$SHX_TMP/chan.out" 2>&1
ok $? "channels (shared memory): bad memfds refused, garbage ends that connection only, abandoned requests harm nothing"
diag <"$SHX_TMP/chan.out"

nsock="$SHX_TMP/nofile/run/sock"
mkdir "$SHX_TMP/nofile"
(ulimit -n 64 && SHMEMX_SOCKET="$nsock" exec "$SHMEMX_SHMEMD" --foreground) \
	>"$SHX_TMP/nofile/shmemd.log" 2>&1 &
nofile_pid=$!
for _ in $(seq 1 300); do
	[ -S "$nsock" ] && break
	sleep 0.01
done
T "$evil" conns "$nsock" 100 3 >"$SHX_TMP/conns.out" 2>&1 &
conns=$!
for _ in $(seq 1 150); do
	grep -q greeted "$SHX_TMP/conns.out" && break
	sleep 0.1
done
diag <"$SHX_TMP/conns.out"
# CPU time (utime + stime, in clock ticks) the manager uses in one second
# while the connections it has no fd for wait in its backlog.  Waiting, it
# uses next to none; spinning (accept4 failing with EMFILE, over and over,
# on a level-triggered listening socket) it takes whatever CPU it gets,
# which even on a busy machine is well above 10%.
cpu() {
	awk '{ print $14 + $15 }' "/proc/$nofile_pid/stat" 2>/dev/null
}
t0=$(cpu)
sleep 1
t1=$(cpu)
busy=$(((${t1:-0} - ${t0:-0}) * 100 / $(getconf CLK_TCK)))
[ -n "$t0" ] && [ -n "$t1" ] && [ $busy -lt 10 ]
ok $? "with more clients than fds (ulimit -n 64, 100 connections) the manager waits rather than spins (CPU: $busy% of 1 s)"
wait $conns
served=1
for _ in $(seq 1 50); do
	if [ "$(T "$evil" stats "$nsock" 2>/dev/null | sed -n 's/^pid=\([0-9]*\).*/\1/p')" = "$nofile_pid" ]; then
		served=0
		break
	fi
	sleep 0.1
done
ok $served "once the connections are gone it serves clients again"

# --- the end: the same manager, the canary intact -------------------------------------
got=$(P "$evil" get /dev/shm/canary)
[ "$got" = "$canary" ]
ok $? "the object made at the start still holds its contents"
[ "$got" = "$canary" ] || echo "got: $got" | diag

holders=$(T "$evil" obj "$sock" /dev/shm/canary | sed -n 's/^holders=\([0-9]*\).*/\1/p')
[ "$holders" = 0 ]
ok $? "nobody holds it any more (holders: ${holders:-?})"

[ "$(stat_of pid)" = "$manager" ] && kill -0 "$manager" 2>/dev/null
ok $? "the manager that started is the one still running (pid $manager)"

tap_done
