#!/bin/bash
# tests/e2e/persist.sh -- objects live in the manager, not in the processes
# that use them.
#
# An object made by one process is read by another after the first has
# exited; it stays while no client at all is connected (the manager, run
# with a short idle timeout, keeps running because it holds an object);
# it is gone after unlink; an object unlinked while another process holds
# it open stays readable and writable by that process; and once nothing is
# left and nobody is connected the manager goes idle and exits.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

PY=$(${PYTHON3:-python3} -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -z "$PY" ] || ! "$PY" -c 'import _posixshmem, mmap' 2>/dev/null; then
	echo "1..0 # SKIP no python3 with _posixshmem (PYTHON3=${PYTHON3:-})"
	exit 0
fi

# A manager with nothing to keep and nobody connected exits after this
# many seconds: holding an object must keep it running.
IDLE=4
export SHMEMX_IDLE_TIMEOUT=$IDLE
shx_sandbox
cd "$SHX_TMP" || exit 99
export TMPDIR="$SHX_TMP"

HOLDER_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
stop_holder() {
	local st=$?
	if [ -n "$HOLDER_PID" ]; then
		kill "$HOLDER_PID" 2>/dev/null
		wait "$HOLDER_PID" 2>/dev/null
	fi
	(exit "$st")
	shx_cleanup
}
trap stop_holder EXIT

# The Python side: shm_open straight from _posixshmem, so that no
# resource_tracker unlinks anything behind the test's back.
cat >"$SHX_TMP/obj.py" <<'PYEOF'
import mmap
import os
import sys
from _posixshmem import shm_open, shm_unlink

SIZE = 1 << 20
HEAD = b"made by the first process"
TAIL = b"at the very end"


def create(name):
    fd = shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.ftruncate(fd, SIZE)
    with mmap.mmap(fd, SIZE) as m:
        m[:len(HEAD)] = HEAD
        m[SIZE - len(TAIL):] = TAIL
    os.close(fd)
    print("created", os.getpid())


def check(name):
    fd = shm_open(name, os.O_RDONLY, 0)
    st = os.fstat(fd)
    with mmap.mmap(fd, st.st_size, prot=mmap.PROT_READ) as m:
        ok = m[:len(HEAD)] == HEAD and m[SIZE - len(TAIL):] == TAIL
    print(f"size={st.st_size} data={'ok' if ok else 'bad'} reader={os.getpid()}")
    os.close(fd)


def attach(name):
    try:
        os.close(shm_open(name, os.O_RDONLY, 0))
        print("attached")
    except FileNotFoundError:
        print("FileNotFoundError")


def unlink(name):
    shm_unlink(name)
    print("unlinked")


def hold(name, ready, go):
    """Opens and maps NAME, says so on READY, waits for "go" on GO (the
    object is unlinked meanwhile), then reports what it still can do."""
    fd = shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.write(fd, b"held data")
    os.ftruncate(fd, 4096)
    m = mmap.mmap(fd, 4096)
    with open(ready, "w") as f:
        f.write("ready\n")
    with open(go) as f:
        f.readline()
    st = os.fstat(fd)
    print(f"nlink={st.st_nlink}")
    print(f"pread={os.pread(fd, 9, 0).decode()}")
    print(f"mapped={m[:9].decode()}")
    # still writable, through the fd and the mapping, and it can grow
    os.pwrite(fd, b"written after unlink", 8192)
    m[100:105] = b"map-w"
    print(f"size_after_write={os.fstat(fd).st_size}")
    print(f"readback={os.pread(fd, 20, 8192).decode()}")
    print(f"map_readback={os.pread(fd, 5, 100).decode()}")
    m.close()
    os.close(fd)


if __name__ == "__main__":
    {"create": create, "check": check, "attach": attach, "unlink": unlink,
     "hold": hold}[sys.argv[1]](*sys.argv[2:])
PYEOF

py() {
	shx_run t "$PY" "$SHX_TMP/obj.py" "$@" 2>>"$SHX_TMP/py.err"
}

# How many clients the manager has: its sockets beyond the listening one.
clients() {
	local n
	n=$(find "/proc/$SHX_MANAGER_PID/fd" -lname 'socket:*' 2>/dev/null | wc -l)
	echo $((n - BASE_SOCKETS))
}

# wait_clients N: waits (up to 5 s) until the manager has N clients.
wait_clients() {
	local i
	for i in $(seq 50); do
		[ "$(clients)" -eq "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

BASE_SOCKETS=$(find "/proc/$SHX_MANAGER_PID/fd" -lname 'socket:*' 2>/dev/null | wc -l)

# --- made by one process, read by another after it exited ---------------------------
out=$(py create persist)
check_match "a python3 process creates /persist and exits" "$out" '^created [0-9]+$'
creator=${out#created }
shx_run t bash -c 'echo "written by a shell" > /dev/shm/text'
check_fails "the creating process is gone" kill -0 "$creator"

out=$(py check persist)
check_match "another process reads it after the creator exited" "$out" \
	'^size=1048576 data=ok reader=[0-9]+$'
check_eq "cat reads the shell's file after the shell exited" \
	"$(shx_run t cat /dev/shm/text 2>&1)" "written by a shell"

# --- kept while no client is connected --------------------------------------------
if wait_clients 0; then
	tap_pass "no client is connected to the manager"
else
	tap_fail "no client is connected to the manager" "it has $(clients)"
fi
sleep $((IDLE + 2))
check "the manager (idle timeout ${IDLE}s) still runs after $((IDLE + 2))s without clients" \
	kill -0 "$SHX_MANAGER_PID"
check_eq "and still has no client" "$(clients)" 0
out=$(py check persist)
check_match "a new process still reads the object" "$out" '^size=1048576 data=ok'
check_eq "and the shell's file" "$(shx_run t cat /dev/shm/text 2>&1)" "written by a shell"
check_eq "ls lists both" "$(shx_run t ls /dev/shm 2>&1)" $'persist\ntext'

# --- unlinked while another process holds it open ------------------------------------
mkfifo "$SHX_TMP/ready" "$SHX_TMP/go" || bail_out "mkfifo failed"
# started directly (not through a function) so that $! is the process to stop
LD_PRELOAD=$SHMEMX_LIB timeout -k 5 30 "$PY" "$SHX_TMP/obj.py" hold held "$SHX_TMP/ready" \
	"$SHX_TMP/go" >"$SHX_TMP/hold.out" 2>>"$SHX_TMP/py.err" &
HOLDER_PID=$!
# opened read-write, a FIFO never blocks here even if the holder died
exec 3<>"$SHX_TMP/ready" 4<>"$SHX_TMP/go"
if read -r -t 20 -u 3 line && [ "$line" = ready ]; then
	tap_pass "a holder process opens and maps /held"
	check_eq "another process unlinks it" "$(py unlink held)" unlinked
	check_eq "attaching to it by name fails with FileNotFoundError" \
		"$(py attach held)" FileNotFoundError
	check_eq "ls no longer lists it" "$(shx_run t ls /dev/shm 2>&1)" $'persist\ntext'
	echo go >&4
	wait "$HOLDER_PID"
	rc=$?
	HOLDER_PID=
	check_eq "the holder exits 0" "$rc" 0
	h=$(cat "$SHX_TMP/hold.out")
	val() { sed -n "s/^$1=//p" <<<"$h"; }
	check_eq "the holder's fstat: st_nlink 0" "$(val nlink)" 0
	check_eq "the holder still reads it with pread" "$(val pread)" "held data"
	check_eq "the holder still reads it through its mapping" "$(val mapped)" "held data"
	check_eq "the holder can still grow it" "$(val size_after_write)" 8212
	check_eq "and read back what it wrote" "$(val readback)" "written after unlink"
	check_eq "and what it wrote to its mapping" "$(val map_readback)" "map-w"
else
	tap_fail "a holder process opens and maps /held" "it did not get ready"
fi
exec 3>&- 4>&-

# --- gone after unlink -----------------------------------------------------------
check_eq "shm_unlink /persist" "$(py unlink persist)" unlinked
check "rm /dev/shm/text" shx_run t rm /dev/shm/text
check_eq "attaching to /persist now fails with FileNotFoundError" "$(py attach persist)" \
	FileNotFoundError
check_eq "cat /dev/shm/text now fails" "$(shx_run t cat /dev/shm/text 2>&1)" \
	"cat: /dev/shm/text: No such file or directory"
check_empty "ls /dev/shm is empty" "$(shx_run t ls -A /dev/shm 2>&1)"

# --- nothing left, nobody connected: the manager exits ---------------------------------
# (no preloaded process may run after this: it would start a new manager)
wait_clients 0
for i in $(seq $(((IDLE + 4) * 10))); do
	kill -0 "$SHX_MANAGER_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$SHX_MANAGER_PID" 2>/dev/null; then
	tap_fail "with nothing left and no client, the manager exits after its idle timeout" \
		"still running after $((IDLE + 4))s"
else
	tap_pass "with nothing left and no client, the manager exits after its idle timeout"
fi

if [ -s "$SHX_TMP/py.err" ]; then
	diag "python's stderr:"
	diag_file "$SHX_TMP/py.err"
fi
tap_done
