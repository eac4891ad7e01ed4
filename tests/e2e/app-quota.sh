#!/bin/bash
# tests/e2e/app-quota.sh -- per-app and per-user quotas end to end, as TAP.
#
# An app is the process tree of `shmemctl run --app NAME` (or of
# SHMEMX_APP=NAME); what it creates is charged to it and to its user.  An
# app over its limit gets ENOSPC (a tmpfs of its own would), a user over
# theirs EDQUOT (tmpfs user quotas), the manager ENOSPC.  Checked here: a
# write loop stopping at an app's limit, ftruncate and file creation over
# it, a user's EDQUOT, the accounting of children made by fork and by exec
# with an environment of their own (SHMEMX_APP dropped), refunds on
# truncate, unlink and IPC_RMID, df and statvfs showing the app's limit,
# limits from the config file and the environment, live changes with
# `shmemctl quota set`, and run's exit status and argument errors.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}" "${SHMEMX_SHMEMCTL:?}"
if ! py=$("${PYTHON3:-python3}" -c 'import sys; print(sys.executable)' 2>/dev/null) ||
	[ ! -x "$py" ]; then
	echo "1..0 # SKIP no python3"
	exit 0
fi
. "$top_srcdir/tests/e2e/tap.sh"

MiB=1048576
KiB=1024
export SHMEMX_SIZE=64M
unset SHMEMX_NR_INODES SHMEMX_APP SHMEMX_USER_SIZE SHMEMX_USER_NR_INODES SHMEMX_APP_SIZE \
	SHMEMX_APP_NR_INODES
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
export TMPDIR="$SHX_TMP"

ctl() { timeout 20 "$SHMEMX_SHMEMCTL" "$@"; }
# run APP QUOTA CMD...: CMD as app APP, with QUOTA ("" for none)
run() {
	local app=$1 quota=$2
	shift 2
	timeout 30 "$SHMEMX_SHMEMCTL" run --app "$app" ${quota:+--quota "$quota"} -- "$@"
}
# group KIND NAME FIELD: one figure of a group from `quota --json`
group() {
	ctl --json quota | "$py" -c '
import json, sys
kind, name, field = sys.argv[1:]
for g in json.load(sys.stdin):
    if g["kind"] == kind and (kind != "app" or g["app"] == name):
        print(g[field]); break
else:
    print("none")' "$1" "$2" "$3"
}
# settled KIND NAME FIELD WANT: the figure reaches WANT within 2 s (closes
# are notifications the manager handles when it gets to them)
settled() {
	local _
	for _ in $(seq 40); do
		[ "$(group "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.05
	done
	return 1
}

# --- an app's byte limit: ENOSPC ---------------------------------------------
out=$(run build 1M "$py" -c '
import errno, os
fd = os.open("/dev/shm/fill", os.O_CREAT | os.O_RDWR, 0o600)
total, err = 0, None
while total < 8 << 20:
    try:
        total += os.write(fd, b"x" * 65536)
    except OSError as e:
        err = errno.errorcode[e.errno]
        break
try:
    os.ftruncate(fd, 2 << 20)
    t = "ok"
except OSError as e:
    t = errno.errorcode[e.errno]
print(total, err, t, os.fstat(fd).st_size)
' 2>&1)
check_eq "a write loop stops at the app's 1M with ENOSPC; ftruncate past it too, changing nothing" \
	"$out" "$MiB ENOSPC ENOSPC $MiB"
check_eq "the app's use is its file" "$(group app build size_used)" $MiB
check_eq "and its limit what run --quota said" "$(group app build size_limit)" $MiB
check_eq "the user is charged the same" "$(group user "" size_used)" $MiB

out=$(run build "" "$py" -c '
import os
s = os.statvfs("/dev/shm")
print(s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize)
' 2>&1)
check_eq "statvfs in the app: its limit, nothing free" "$out" "$MiB 0"
out=$(run build "" df -B1 --output=size,used,avail,fstype /dev/shm 2>&1 | tail -n 1 | tr -s ' ')
check_eq "df in the app: its limit and use" "$out" " $MiB $MiB 0 tmpfs"
out=$(shx_run df -B1 --output=size /dev/shm 2>&1 | tail -n 1 | tr -d ' ')
check_eq "df outside any app: the manager's limit" "$out" $((64 * MiB))

# --- refunds -----------------------------------------------------------------------
run build "" "$py" -c '
import os
fd = os.open("/dev/shm/fill", os.O_RDWR)
os.ftruncate(fd, 100000)
' 2>&1 | diag
settled app build size_used $(((100000 + 4095) / 4096 * 4096))
ok $? "ftruncate down refunds the app, to the whole pages left ($(group app build size_used))"
shx_run rm /dev/shm/fill
settled app build size_used 0
ok $? "unlink refunds the rest"
check_eq "and the user's" "$(group user "" size_used)" 0

# --- an app's inode limit: ENOSPC; files of another app are not counted ----------
out=$(run small 1M,3 "$py" -c '
import errno, os
got = []
for i in range(5):
    try:
        os.close(os.open("/dev/shm/i%d" % i, os.O_CREAT | os.O_RDWR, 0o600))
        got.append("ok")
    except OSError as e:
        got.append(errno.errorcode[e.errno])
try:
    os.mkdir("/tmp/dir-of-small")
    got.append("ok")
except OSError as e:
    got.append(errno.errorcode[e.errno])
print(*got)
' 2>&1)
check_eq "the fourth inode of an app limited to 3 is ENOSPC, a directory too" "$out" \
	"ok ok ok ENOSPC ENOSPC ENOSPC"
out=$(run other "" "$py" -c 'import os; os.close(os.open("/dev/shm/i3", os.O_CREAT | os.O_RDWR, 0o600)); print("ok")' 2>&1)
check_eq "another app may still create" "$out" ok
check_eq "inodes of each app" "$(group app small inodes_used) $(group app other inodes_used)" "3 1"
shx_run rm -f /dev/shm/i0 /dev/shm/i1 /dev/shm/i2 /dev/shm/i3

# --- a user's limit: EDQUOT ----------------------------------------------------------
ctl quota set --user "$(id -u)" 256K
ok $? "quota set --user 256K"
out=$(run build "" "$py" -c '
import errno, os
fd = os.open("/dev/shm/u", os.O_CREAT | os.O_RDWR, 0o600)
r = []
try:
    os.ftruncate(fd, 1 << 20); r.append("ok")
except OSError as e:
    r.append(errno.errorcode[e.errno])
n = 0
try:
    while True:
        n += os.write(fd, b"y" * 4096)
except OSError as e:
    r.append(errno.errorcode[e.errno])
print(*r, n)
' 2>&1)
check_eq "over the user's limit: ftruncate and then a write loop get EDQUOT, at 256K" "$out" \
	"EDQUOT EDQUOT $((256 * KiB))"
shx_run rm /dev/shm/u
ctl quota set --user "$(id -u)" none
check_eq "quota set --user none lifts it" "$(group user "" size_limit)" None

# --- fork and exec stay in the app -------------------------------------------------
run tree "" "$py" -c '
import os, sys
pid = os.fork()
if pid == 0:
    fd = os.open("/dev/shm/forked", os.O_CREAT | os.O_RDWR, 0o600)
    os.write(fd, b"f" * 10000)
    os._exit(0)
os.waitpid(pid, 0)
# an exec with an environment of its own, without SHMEMX_APP
env = {k: v for k, v in os.environ.items()
       if k in ("LD_PRELOAD", "SHMEMX_SOCKET", "PATH") or k.endswith("SAN_OPTIONS")}
pid = os.fork()
if pid == 0:
    os.execve(sys.executable, [sys.executable, "-c",
        "import os; fd = os.open(\"/dev/shm/execd\", os.O_CREAT | os.O_RDWR, 0o600); "
        "os.write(fd, b\"e\" * 20000); print(os.environ.get(\"SHMEMX_APP\"))"], env)
os.waitpid(pid, 0)
' >"$SHX_TMP/tree.out" 2>&1
check_eq "the exec'd child still has SHMEMX_APP" "$(cat "$SHX_TMP/tree.out")" tree
out=$(ctl --json ls | "$py" -c '
import json, sys
print(*sorted("%s=%s" % (o["path"], o["app"]) for o in json.load(sys.stdin)))')
check_eq "objects made by a fork child and by an exec'd child are the app's" "$out" \
	"/dev/shm/execd=tree /dev/shm/forked=tree"
settled app tree size_used $((12288 + 20480))
ok $? "and so are their bytes ($(group app tree size_used))"
check_eq "objects of the app" "$(group app tree objects)" 2
shx_run rm /dev/shm/forked /dev/shm/execd

# --- System V segments are charged and refunded -----------------------------------
out=$(run db 1M "$py" -c '
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
ok = libc.shmget(0, 512 << 10, 0o1600)
big = libc.shmget(0, 768 << 10, 0o1600)
print(ok >= 0, big, errno.errorcode[ctypes.get_errno()])
print(libc.shmctl(ok, 0, None))
' 2>&1)
check_eq "a segment over the app's limit is ENOSPC (shmget knows no EDQUOT)" "$out" \
	$'True -1 ENOSPC\n0'
settled app db size_used 0
ok $? "IPC_RMID refunds the app"

# --- limits from the environment and the config file -------------------------------
cat >"$SHX_TMP/shmemx.conf" <<EOF
app_nr_inodes = 50
app.conf-app.size = 128K
app.conf-app.nr_inodes = 2
EOF
mkdir -p "$SHX_TMP/second"
sock2="$SHX_TMP/second/sock"
SHMEMX_CONFIG="$SHX_TMP/shmemx.conf" SHMEMX_APP_SIZE=2M shx_manager "$sock2" "$SHX_TMP/second/log"
second=$SHX_PID
trap 'st=$?; kill $second 2>/dev/null; wait $second 2>/dev/null; (exit $st); shx_cleanup' EXIT
out=$(SHMEMX_SOCKET=$sock2 "$SHMEMX_SHMEMCTL" run --app conf-app -- "$py" -c '
import errno, os
fd = os.open("/dev/shm/c", os.O_CREAT | os.O_RDWR, 0o600)
r = []
for size in (128 << 10, (128 << 10) + 1):
    try:
        os.ftruncate(fd, size); r.append("ok")
    except OSError as e:
        r.append(errno.errorcode[e.errno])
s = os.statvfs("/dev/shm")
print(*r, s.f_blocks * s.f_frsize, s.f_files)
' 2>&1)
check_eq "app.NAME.size and app.NAME.nr_inodes of the config file" "$out" \
	"ok ENOSPC $((128 * KiB)) 2"
out=$(SHMEMX_SOCKET=$sock2 "$SHMEMX_SHMEMCTL" run --app plain -- "$py" -c '
import os
s = os.statvfs("/dev/shm")
print(s.f_blocks * s.f_frsize, s.f_files)' 2>&1)
check_eq "SHMEMX_APP_SIZE, and app_nr_inodes of the file, for any other app" "$out" \
	"$((2 * MiB)) 50"
SHMEMX_SOCKET=$sock2 shx_run rm /dev/shm/c

# --- live changes -------------------------------------------------------------------
ctl quota set --app live 64K,10
ok $? "quota set --app live 64K,10"
check_eq "shows in quota" "$(group app live size_limit) $(group app live inodes_limit)" \
	"65536 10"
ctl quota set --app live 1.5M
check_eq "a size alone keeps the inode limit" "$(group app live size_limit) $(group app live inodes_limit)" \
	"1572864 10"
out=$(SHMEMX_APP=live shx_run "$py" -c '
import os
fd = os.open("/dev/shm/l", os.O_CREAT | os.O_RDWR, 0o600)
os.ftruncate(fd, 1 << 20)
print(os.statvfs("/dev/shm").f_blocks * 4096)' 2>&1)
check_eq "SHMEMX_APP=live alone joins the app, with its new limit" "$out" 1572864
ctl quota set --manager 1K 2>"$SHX_TMP/err"
check_eq "the manager's limit may not go below its use" "$?" 1
check_match "and says why" "$(cat "$SHX_TMP/err")" "Invalid argument"
shx_run rm /dev/shm/l

# --- run: status and errors --------------------------------------------------------
run st "" sh -c 'exit 7'
check_eq "run exits with the command's status" "$?" 7
run st "" sh -c 'kill -TERM $$'
check_eq "a command killed by a signal: 128 + the signal" "$?" 143
run st "" /nonexistent/cmd 2>/dev/null
check_eq "a command that does not exist: 127" "$?" 127
ctl run --app 'bad name' -- true 2>"$SHX_TMP/err"
check_eq "a bad app name: usage error" "$?" 2
check_match "naming what is allowed" "$(cat "$SHX_TMP/err")" "A-Z a-z 0-9"
ctl run --quota 12Q -- true 2>"$SHX_TMP/err"
check_eq "a bad quota: usage error" "$?" 2
check_match "with an example" "$(cat "$SHX_TMP/err")" "512M"
ctl run --app x 2>/dev/null
check_eq "no command: usage error" "$?" 2
out=$(ctl run --help)
check_match "run --help shows the synopsis" "$out" "--private-tmp"
ctl quota set --app x 2>/dev/null
check_eq "quota set without a limit: usage error" "$?" 2
out=$(ctl run -- sh -c 'echo $SHMEMX_APP')
check_match "without --app the app is named after the command" "$out" '^sh-[0-9]+$'

tap_done
