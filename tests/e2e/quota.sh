#!/bin/bash
# tests/e2e/quota.sh -- the size and inode limits, as TAP for automake's
# tap-driver.  The manager runs with SHMEMX_SIZE=8M; a second one, started
# here, with SHMEMX_NR_INODES=10.
#
# What a full tmpfs does, the library must do, without ever a SIGBUS:
# write() stops with ENOSPC (after a short write when part of it fits),
# ftruncate/fallocate beyond the limit fail with ENOSPC and change nothing,
# posix_fallocate returns ENOSPC, unlinking frees the space, a mapping of
# space that was paid for can be touched everywhere.
#
# Space is charged by reservation: the library asks the manager for room
# before a call grows a file, for appends with some slack (an eighth of the
# file's end, 64 KiB to 8 MiB) so that each write does not cost a round
# trip.  The slack is reserved per fd: two processes filling at once may
# each hold some unused, so together they can end a little short of the
# limit -- never beyond it.  The limit for them here is 8 MiB of data, with
# 1 MiB of tolerance above it; the manager's own count must never pass it.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}"
evil="$top_builddir/tests/e2e/shx-evil"
if [ ! -x "$evil" ]; then
	echo "Bail out! $evil is not built"
	exit 99
fi
# The interpreter itself, not a wrapper script (pyenv's shims are bash).
if ! py=$("${PYTHON3:-python3}" -c 'import sys; print(sys.executable)' 2>/dev/null) ||
	[ ! -x "$py" ]; then
	echo "1..0 # SKIP no python3"
	exit 0
fi

. "$top_srcdir/tests/e2e/tap.sh"

MiB=1048576
export SHMEMX_SIZE=8M
unset SHMEMX_NR_INODES
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
export TMPDIR="$SHX_TMP"
sock=$SHMEMX_SOCKET

inodes_pid=
quota_cleanup() {
	local status=$?
	if [ -n "$inodes_pid" ]; then
		kill "$inodes_pid" 2>/dev/null
		wait "$inodes_pid" 2>/dev/null
	fi
	(exit $status)
	shx_cleanup
}
trap quota_cleanup EXIT

# P CMD...: CMD under the preload, with a time limit
P() {
	timeout 30 env LD_PRELOAD="$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}
# PY SCRIPT ARGS...: python under the preload; output in $out, status in $st
PY() {
	local script=$1
	shift
	out=$(P "$py" -c "$script" "$@" 2>"$SHX_TMP/py.err")
	st=$?
	[ $st -eq 0 ] || { echo "python exited with status $st"; cat "$SHX_TMP/py.err"; } | diag
}
# stat_of KEY [SOCK]: one figure from the manager
stat_of() {
	timeout 10 "$evil" stats "${2:-$sock}" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
# used_is N: the manager counts N bytes used, within 2 s (a close is a
# notification the manager handles when it gets to it)
used_is() {
	local _
	for _ in $(seq 1 20); do
		[ "$(stat_of size_used)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
rm_all() {
	local f
	for f in "$@"; do
		P "$evil" rm "/dev/shm/$f" 2>&1 | diag
	done
}
field() { # field N: the Nth word of $out
	echo "$out" | awk -v n="$1" '{ print $n }'
}

limit=$(stat_of size_limit)
[ "$limit" = $((8 * MiB)) ]
ok $? "the manager runs with SHMEMX_SIZE=8M (limit: $limit bytes)"

# --- writes ---------------------------------------------------------------------------
PY '
import os
fd = os.open("/dev/shm/fill", os.O_CREAT | os.O_RDWR, 0o600)
buf = b"x" * 65536
total, err = 0, "none"
while total < 64 << 20:
    try:
        total += os.write(fd, buf)
    except OSError as e:
        err = e.errno
        break
print(total, err, os.fstat(fd).st_size)
'
total=$(field 1)
[ $st -eq 0 ] && [ "$(field 2)" = 28 ] && [ "${total:-0}" -le $((8 * MiB)) ] &&
	[ "${total:-0}" -ge $((8 * MiB - 256 * 1024)) ] && [ "$(field 3)" = "$total" ]
ok $? "a write loop stops with ENOSPC at 8 MiB (wrote $total bytes; errno $(field 2))"
[ $st -ne 135 ] && [ $st -lt 128 ]
ok $? "no signal (SIGBUS) on the way (status $st)"
used=$(stat_of size_used)
[ "${used:-0}" -le $((8 * MiB)) ]
ok $? "the manager counts no more than the limit ($used bytes)"

rm_all fill
used_is 0
ok $? "unlinking the object frees its space"

# Writes that do not divide the limit: the last one is short, as on a
# kernel tmpfs of size=8M (8300000 bytes in 83 writes, then 88608 more).
PY '
import os
fd = os.open("/dev/shm/odd", os.O_CREAT | os.O_RDWR, 0o600)
total, short, err = 0, 0, "none"
while total < 64 << 20:
    try:
        n = os.write(fd, b"o" * 100000)
    except OSError as e:
        err = e.errno
        break
    total += n
    if n < 100000:
        short = n
print(total, short, err)
'
[ $st -eq 0 ] && [ "$out" = "$((8 * MiB)) 88608 28" ]
ok $? "100000-byte writes fill it to the last byte: a short write of 88608, then ENOSPC (total, short write, errno: $out)"
rm_all odd
used_is 0
PY '
import os
fd = os.open("/dev/shm/seven", os.O_CREAT | os.O_RDWR, 0o600)
n = os.write(fd, b"7" * (7 << 20))
print(n, os.fstat(fd).st_size)
'
[ $st -eq 0 ] && [ "$out" = "$((7 * MiB)) $((7 * MiB))" ]
ok $? "after the unlink a new 7 MiB object fits ($out)"
rm_all seven
used_is 0

# --- ftruncate ------------------------------------------------------------------------
PY '
import os
fd = os.open("/dev/shm/trunc", os.O_CREAT | os.O_RDWR, 0o600)
os.write(fd, b"t" * (1 << 20))
def tr(n):
    try:
        os.ftruncate(fd, n)
        r = "ok"
    except OSError as e:
        r = str(e.errno)
    return "%s %d" % (r, os.fstat(fd).st_size)
print(tr(9 << 20), tr(8 << 20), tr((8 << 20) + 4096))
'
[ $st -eq 0 ] && [ "$(field 1)" = 28 ] && [ "$(field 2)" = $MiB ]
ok $? "ftruncate to 9 MiB: ENOSPC, the size unchanged ($(field 1) $(field 2))"
[ "$(field 3)" = ok ] && [ "$(field 4)" = $((8 * MiB)) ]
ok $? "ftruncate to exactly the limit works ($(field 3) $(field 4))"
[ "$(field 5)" = 28 ] && [ "$(field 6)" = $((8 * MiB)) ]
ok $? "one page beyond: ENOSPC, the size unchanged ($(field 5) $(field 6))"
rm_all trunc
used_is 0

# --- fallocate, posix_fallocate -------------------------------------------------------
PY '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
libc.posix_fallocate.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_long]
fd = os.open("/dev/shm/falloc", os.O_CREAT | os.O_RDWR, 0o600)
size = lambda: os.fstat(fd).st_size
def fa(mode, n):
    ctypes.set_errno(0)
    r = libc.fallocate(fd, mode, 0, n)
    return "%d %d %d" % (r, ctypes.get_errno(), size())
def pfa(n):
    ctypes.set_errno(0)
    r = libc.posix_fallocate(fd, 0, n)
    return "%d %d" % (r, size())
def ospfa(n):
    try:
        os.posix_fallocate(fd, 0, n)
        return "ok"
    except OSError as e:
        return str(e.errno)
print(fa(0, 9 << 20), fa(1, 9 << 20), pfa(9 << 20), ospfa(9 << 20), fa(0, 4 << 20))
'
echo "$out" | diag
[ $st -eq 0 ] && [ "$(field 1) $(field 2) $(field 3)" = "-1 28 0" ]
ok $? "fallocate beyond the limit: -1/ENOSPC, the size unchanged ($(field 1) $(field 2) $(field 3))"
[ "$(field 4) $(field 5) $(field 6)" = "-1 28 0" ]
ok $? "fallocate(FALLOC_FL_KEEP_SIZE) beyond the limit: -1/ENOSPC ($(field 4) $(field 5))"
[ "$(field 7) $(field 8)" = "28 0" ]
ok $? "posix_fallocate beyond the limit returns ENOSPC, the size unchanged ($(field 7) $(field 8))"
[ "$(field 9)" = 28 ]
ok $? "Python's os.posix_fallocate raises errno 28 ($(field 9))"
[ "$(field 10) $(field 11) $(field 12)" = "0 0 $((4 * MiB))" ]
ok $? "fallocate within the limit works ($(field 10) $(field 12))"
rm_all falloc
used_is 0

# --- a short write ----------------------------------------------------------------------
PY '
import os
fd = os.open("/dev/shm/half", os.O_CREAT | os.O_RDWR, 0o600)
for i in range(64):
    os.write(fd, b"h" * 65536)
print(os.fstat(fd).st_size)
'
used_is $((4 * MiB))
ok $? "an object of 4 MiB, closed: 4 MiB used, 4 MiB free ($(stat_of size_used) used)"
PY '
import os
fd = os.open("/dev/shm/short", os.O_CREAT | os.O_RDWR, 0o600)
n = os.write(fd, b"s" * (6 << 20))
try:
    os.write(fd, b"s" * 65536)
    second = "ok"
except OSError as e:
    second = str(e.errno)
print(n, second, os.fstat(fd).st_size)
'
n=$(field 1)
[ $st -eq 0 ] && [ "${n:-0}" -gt 0 ] && [ "${n:-0}" -le $((4 * MiB)) ] && [ "$(field 3)" = "$n" ]
ok $? "one 6 MiB write with 4 MiB free is short ($n bytes)"
[ "$(field 2)" = 28 ]
ok $? "the next write fails with ENOSPC ($(field 2))"
rm_all half short
used_is 0

# --- mmap within the limit -----------------------------------------------------------------
PY '
import mmap, os
size = 6 << 20
fd = os.open("/dev/shm/map", os.O_CREAT | os.O_RDWR, 0o600)
os.ftruncate(fd, size)
m = mmap.mmap(fd, size)
for off in range(0, size, 4096):
    m[off] = 0x5a
m[size - 1] = 0x5a
m.close()
data = os.pread(fd, size, 0)
print(data.count(b"\x5a"), len(data))
'
[ $st -eq 0 ] && [ "$out" = "1537 $((6 * MiB))" ]
ok $? "a 6 MiB mapping of a file within the limit: every page touched, no SIGBUS ($out, status $st)"
rm_all map
used_is 0

# --- two processes filling at once ------------------------------------------------------------
filler='
import os, sys, time
path, go = sys.argv[1], sys.argv[2]
end = time.time() + 20
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.001)
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
buf = b"c" * 65536
total, err = 0, "none"
while total < 64 << 20:
    try:
        total += os.write(fd, buf)
    except OSError as e:
        err = e.errno
        break
print(total, err, os.fstat(fd).st_size)
'
go="$SHX_TMP/go"
P "$py" -c "$filler" /dev/shm/c1 "$go" >"$SHX_TMP/c1.out" 2>&1 &
p1=$!
P "$py" -c "$filler" /dev/shm/c2 "$go" >"$SHX_TMP/c2.out" 2>&1 &
p2=$!
sleep 0.5
touch "$go"
wait $p1
s1=$?
wait $p2
s2=$?
read -r _ e1 z1 <"$SHX_TMP/c1.out"
read -r _ e2 z2 <"$SHX_TMP/c2.out"
cat "$SHX_TMP/c1.out" "$SHX_TMP/c2.out" | diag
[ $s1 -eq 0 ] && [ $s2 -eq 0 ] && [ "$e1" = 28 ] && [ "$e2" = 28 ]
ok $? "two processes filling at once both stop with ENOSPC, no signal (status $s1 $s2)"
sum=$((${z1:-0} + ${z2:-0}))
[ $sum -le $((9 * MiB)) ] && [ $sum -ge $((6 * MiB)) ]
ok $? "together they hold $sum bytes: within the limit plus 1 MiB (and not far short of it)"
used=$(stat_of size_used)
[ "${used:-0}" -le $((8 * MiB)) ]
ok $? "the manager counts no more than the limit ($used bytes)"
rm_all c1 c2
used_is 0

# --- SHMEMX_NR_INODES=10, on a manager of its own -------------------------------------------
isock="$SHX_TMP/inodes/run/sock"
mkdir "$SHX_TMP/inodes"
SHMEMX_NR_INODES=10 SHMEMX_SOCKET="$isock" "$SHMEMX_SHMEMD" --foreground \
	>"$SHX_TMP/inodes/shmemd.log" 2>&1 &
inodes_pid=$!
for _ in $(seq 1 300); do
	[ -S "$isock" ] && break
	sleep 0.01
done
# How many fit: 10 if the mount roots are not counted (as the manager did
# at first), 8 if they are (as on a kernel tmpfs, whose root takes one of
# its nr_inodes; the manager has two, /dev/shm and /tmp); either way
# exactly as many as the manager reports free.
free_inodes=$(($(stat_of inodes_limit "$isock") - $(stat_of inodes_used "$isock")))
SHMEMX_SOCKET="$isock" PY '
import os, _posixshmem
made, err = 0, "none"
for i in range(1, 30):
    try:
        os.close(os.open("/dev/shm/i%d" % i, os.O_CREAT | os.O_RDWR, 0o600))
        made += 1
    except OSError as e:
        err = e.errno
        break
def attempt(f):
    try:
        os.close(f())
        return "ok"
    except OSError as e:
        return str(e.errno)
tmp = attempt(lambda: os.open("/dev/shm", os.O_TMPFILE | os.O_RDWR, 0o600))
shm = attempt(lambda: _posixshmem.shm_open("/more", os.O_CREAT | os.O_RDWR, 0o600))
os.unlink("/dev/shm/i1")
again = attempt(lambda: os.open("/dev/shm/again", os.O_CREAT | os.O_RDWR, 0o600))
more = attempt(lambda: os.open("/dev/shm/more", os.O_CREAT | os.O_RDWR, 0o600))
print(made, err, tmp, shm, again, more)
'
echo "$out" | diag
case $free_inodes in
10) root="the mount roots are not counted" ;;
8) root="the roots of /dev/shm and /tmp counted, as on a kernel tmpfs" ;;
*) root="neither 10 nor 8 free at the start" ;;
esac
[ $st -eq 0 ] && [ "$(field 1) $(field 2)" = "$free_inodes 28" ] &&
	{ [ "$free_inodes" = 10 ] || [ "$free_inodes" = 8 ]; }
ok $? "SHMEMX_NR_INODES=10: exactly $free_inodes objects fit ($root), then ENOSPC ($(field 1) made, then $(field 2))"
[ "$(field 3) $(field 4)" = "28 28" ]
ok $? "O_TMPFILE and shm_open are refused too ($(field 3) $(field 4))"
[ "$(field 5) $(field 6)" = "ok 28" ]
ok $? "an unlink makes room for exactly one more ($(field 5) $(field 6))"
echo "inodes as the manager reports them: $(stat_of inodes_used "$isock") used of $(stat_of inodes_limit "$isock")" | diag
kill -0 "$inodes_pid" 2>/dev/null && kill -0 "$SHX_MANAGER_PID" 2>/dev/null
ok $? "both managers are still running"

tap_done
